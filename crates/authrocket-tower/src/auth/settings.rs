//! What an [`AuthRocketLayer`](super::AuthRocketLayer) was configured with, shared by every
//! service it makes and by the [`AuthContext`](super::AuthContext) it leaves in requests.

use std::fmt;
use std::sync::Arc;

use authrocket_verify::{Verifier, VerifyError};
use bytes::Bytes;

use crate::reject::{Rejection, RenderRejection};
use crate::token::TokenSources;

/// What happens to requests without a valid token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum AuthMode {
    /// Reject them: 401 (or 503 when verification is unavailable). The default.
    #[default]
    Required,
    /// Let them through without a session; a bad `arToken` cookie is cleared.
    Optional,
}

#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) verifier: Verifier,
    pub(crate) sources: TokenSources,
    pub(crate) mode: AuthMode,
    pub(crate) realm_name: String,
    pub(crate) renderer: Arc<dyn RenderRejection>,
}

impl Settings {
    pub(crate) fn render(&self, error: &VerifyError, grpc: bool) -> http::Response<Bytes> {
        self.renderer.render(&Rejection {
            error,
            grpc,
            realm: &self.realm_name,
        })
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthRocketLayer")
            .field("verifier", &self.verifier)
            .field("sources", &self.sources)
            .field("mode", &self.mode)
            .field("realm_name", &self.realm_name)
            .finish_non_exhaustive()
    }
}

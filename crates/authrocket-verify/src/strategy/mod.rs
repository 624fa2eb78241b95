//! How a token is verified, fixed when the verifier is built: [`Strategy::Offline`],
//! [`Strategy::Online`] or [`Strategy::Hybrid`]. Each holds exactly what it needs, so no
//! combination that cannot work can be built.

mod offline;

#[cfg(feature = "http")]
use std::sync::Arc;

pub(crate) use offline::{Keys, Offline};

use crate::config::VerifyMode;
use crate::error::VerifyError;
use crate::jwt::Compact;
use crate::session::SessionData;
#[cfg(feature = "http")]
use crate::session_api::{Expected, SessionApi};

// Built once per verifier and never moved: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum Strategy {
    /// The JWT's signature and claims; no network but for the JWKS.
    Offline(Offline),
    /// AuthRocket's session API only.
    #[cfg(feature = "http")]
    Online(Arc<SessionApi>),
    /// Offline first (forgeries never reach the API), then the session API.
    #[cfg(feature = "http")]
    Hybrid(Offline, Arc<SessionApi>),
}

impl Strategy {
    pub(crate) fn mode(&self) -> VerifyMode {
        match self {
            Self::Offline(_) => VerifyMode::Offline,
            #[cfg(feature = "http")]
            Self::Online(_) => VerifyMode::Online,
            #[cfg(feature = "http")]
            Self::Hybrid(..) => VerifyMode::Hybrid,
        }
    }

    /// Whether verifications call the session API.
    pub(crate) fn uses_api(&self) -> bool {
        !matches!(self, Self::Offline(_))
    }

    /// The offline part, if any.
    pub(crate) fn offline(&self) -> Option<&Offline> {
        match self {
            Self::Offline(o) => Some(o),
            #[cfg(feature = "http")]
            Self::Hybrid(o, _) => Some(o),
            #[cfg(feature = "http")]
            Self::Online(_) => None,
        }
    }

    /// Verify `token` (already split into `compact`) at `now` (Unix seconds).
    pub(crate) async fn verify(
        &self,
        token: &str,
        compact: Compact<'_>,
        now: i64,
    ) -> Result<SessionData, VerifyError> {
        let checked = self.precheck(compact, now).await?;
        self.finish(token, checked, now).await
    }

    /// What is checked before anything leaves the process: the whole verification offline;
    /// in hybrid mode the offline part (forged, expired and foreign tokens stop here and
    /// never reach Redis or the API); online, the token's characters.
    pub(crate) async fn precheck(
        &self,
        compact: Compact<'_>,
        now: i64,
    ) -> Result<Option<SessionData>, VerifyError> {
        match self {
            Self::Offline(offline) => offline.verify(compact, now).await.map(Some),
            #[cfg(feature = "http")]
            Self::Hybrid(offline, _) => offline.verify(compact, now).await.map(Some),
            #[cfg(feature = "http")]
            Self::Online(_) => {
                // Sent to the API undecoded: its characters are checked here instead.
                compact.check_charset()?;
                Ok(None)
            }
        }
    }

    /// The rest of the verification of `token`, after [`precheck`](Self::precheck) gave
    /// `checked`: the session API's confirmation, online and hybrid.
    #[cfg_attr(not(feature = "http"), allow(unused_variables))]
    pub(crate) async fn finish(
        &self,
        token: &str,
        checked: Option<SessionData>,
        now: i64,
    ) -> Result<SessionData, VerifyError> {
        match (self, checked) {
            (Self::Offline(_), Some(data)) => Ok(data),
            #[cfg(feature = "http")]
            (Self::Online(api), _) => {
                let confirmed = api.confirm(token, Expected::Token, now, true).await?;
                Ok(confirmed.into_data())
            }
            #[cfg(feature = "http")]
            (Self::Hybrid(_, api), Some(mut data)) => {
                let expected = Expected::Claims {
                    session_id: data.session_id(),
                    user_id: data.user_id(),
                };
                let confirmed = api.confirm(token, expected, now, false).await?;
                if let (Some(id), None) = (&confirmed.session_id, data.session_id()) {
                    data = data.with_session_id(id)?;
                }
                data.set_expires_at(match (data.expires_at(), confirmed.expires_at) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                });
                Ok(data)
            }
            // A precheck always gives the offline part its session.
            (Self::Offline(_), None) => Err(VerifyError::unavailable("verification out of order")),
            #[cfg(feature = "http")]
            (Self::Hybrid(..), None) => Err(VerifyError::unavailable("verification out of order")),
        }
    }
}

//! [`AuthContext`]: what the layer leaves in request extensions.

use std::sync::Arc;

use authrocket_verify::{Session, Verifier, VerifyError};

use super::settings::Settings;
use crate::cookie::TokenCookie;

/// Put into the request extensions by [`AuthRocket`](super::AuthRocket) for every request it
/// lets through, signed in or not. Extractors read it; its absence means the layer is
/// missing. The [`Session`] itself is inserted as well when there is one, so Tonic handlers
/// can use `request.extensions().get::<Session>()`.
///
/// ```
/// # fn handler(req: http::Request<()>) {
/// use authrocket_tower::AuthContext;
///
/// if let Some(ctx) = req.extensions().get::<AuthContext>() {
///     match ctx.session() {
///         Some(session) => println!("signed in as {}", session.user_id()),
///         None => println!("anonymous ({:?})", ctx.error().map(|e| e.code())),
///     }
/// }
/// # }
/// ```
#[derive(Clone)]
pub struct AuthContext {
    pub(crate) session: Option<Session>,
    pub(crate) error: Option<VerifyError>,
    pub(crate) shared: Arc<Settings>,
}

impl std::fmt::Debug for AuthContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthContext")
            .field("session", &self.session)
            .field("error", &self.error)
            .finish()
    }
}

impl AuthContext {
    /// The verified session, when the request carried a valid token.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// Why there is no session, in optional mode: `None` when no token was presented.
    pub fn error(&self) -> Option<&VerifyError> {
        self.error.as_ref()
    }

    /// The verifier the layer uses (e.g. for login and logout redirect URLs).
    pub fn verifier(&self) -> &Verifier {
        &self.shared.verifier
    }

    /// The realm name the layer puts into `WWW-Authenticate`.
    pub fn realm_name(&self) -> &str {
        &self.shared.realm_name
    }

    /// The cookie the layer reads tokens from, if any.
    pub fn cookie_name(&self) -> Option<&str> {
        self.token_cookie().map(TokenCookie::name)
    }

    /// The token cookie the layer reads, with the attributes to set and clear it with.
    pub fn token_cookie(&self) -> Option<&TokenCookie> {
        self.shared.sources.cookie.as_ref()
    }

    /// Render a rejection for `error` the way the layer does (its [`RenderRejection`](crate::RenderRejection)).
    pub fn reject(&self, error: &VerifyError, grpc: bool) -> http::Response<bytes::Bytes> {
        self.shared.render(error, grpc)
    }
}

//! [`LoginRedirectLayer`].

use authrocket_verify::Verifier;

use crate::auth::AuthRocketLayer;
use crate::cookie::TokenCookie;

/// Completes LoginRocket Web logins on any route it wraps, storing the token in the cookie of
/// the [`AuthRocketLayer`] it is made from (one place owns the cookie's name and attributes,
/// so it is cleared exactly as it was set). Put it *outside* that layer (added after it with
/// `Router::layer`), or on the route LoginRocket returns to. See the [module docs](super).
#[derive(Debug, Clone)]
pub struct LoginRedirectLayer {
    pub(crate) verifier: Verifier,
    pub(crate) cookie: TokenCookie,
}

impl LoginRedirectLayer {
    /// Verify `?token=` with `auth`'s verifier and store it in `auth`'s token cookie (the
    /// default `arToken` cookie when `auth` reads none).
    pub fn new(auth: &AuthRocketLayer) -> Self {
        Self {
            verifier: auth.verifier().clone(),
            cookie: auth.token_cookie().cloned().unwrap_or_default(),
        }
    }
}

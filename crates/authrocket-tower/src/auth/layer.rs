//! [`AuthRocketLayer`]: configuration shared by every [`AuthRocket`](super::AuthRocket)
//! service it makes.

use std::fmt;
use std::sync::Arc;

use authrocket_verify::{ConfigError, Verifier};
use http::header::HeaderName;

use super::settings::{AuthMode, Settings};
use crate::cookie::TokenCookie;
use crate::reject::{DefaultRejection, RenderRejection};
use crate::token::TokenSources;

/// Verifies the AuthRocket token of every request. See the [crate docs](crate).
///
/// ```
/// use authrocket_tower::AuthRocketLayer;
///
/// let verifier = authrocket_verify::Verifier::builder().jwt_key("jsk_example").build()?;
/// let layer = AuthRocketLayer::new(verifier)
///     .optional()                 // anonymous requests pass, without a session
///     .cookie_name("session")     // instead of arToken
///     .realm_name("my-api");      // WWW-Authenticate: Bearer realm="my-api"
/// # Ok::<(), authrocket_verify::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct AuthRocketLayer {
    pub(crate) shared: Arc<Settings>,
}

impl fmt::Debug for AuthRocketLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.shared.fmt(f)
    }
}

impl AuthRocketLayer {
    /// A layer that requires a valid token, read from `Authorization: Bearer` then the
    /// `arToken` cookie. The cookie is `Secure` unless the verifier's
    /// [`app_url`](Verifier::app_url) is a plain `http://` one.
    pub fn new(verifier: Verifier) -> Self {
        let plain_http = verifier
            .app_url()
            .is_some_and(|url| url.starts_with("http://"));
        let sources = TokenSources {
            cookie: Some(TokenCookie::default().secure(!plain_http)),
            ..TokenSources::default()
        };
        Self {
            shared: Arc::new(Settings {
                verifier,
                sources,
                mode: AuthMode::Required,
                realm_name: "authrocket".to_owned(),
                renderer: Arc::new(DefaultRejection),
            }),
        }
    }

    /// [`new`](Self::new) with a verifier from the environment
    /// ([`Verifier::from_env`]): the one line that protects a router.
    ///
    /// ```no_run
    /// let app: axum::Router = axum::Router::new()
    ///     .layer(authrocket_tower::AuthRocketLayer::from_env()?);
    /// # Ok::<(), authrocket_verify::ConfigError>(())
    /// ```
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self::new(Verifier::from_env()?))
    }

    fn update(mut self, f: impl FnOnce(&mut Settings)) -> Self {
        f(Arc::make_mut(&mut self.shared));
        self
    }

    /// Require a valid token (the default).
    pub fn required(self) -> Self {
        self.mode(AuthMode::Required)
    }

    /// Let requests without a valid token through, without a session.
    pub fn optional(self) -> Self {
        self.mode(AuthMode::Optional)
    }

    /// Set the [`AuthMode`].
    pub fn mode(self, mode: AuthMode) -> Self {
        self.update(|s| s.mode = mode)
    }

    /// Read the token cookie under this name instead of `arToken` (its attributes stay).
    pub fn cookie_name(self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.update(|s| {
            let secure = s.sources.cookie.as_ref().is_none_or(TokenCookie::is_secure);
            s.sources.cookie = Some(TokenCookie::new(name).secure(secure));
        })
    }

    /// The token cookie: its name and attributes, used to read it, and by the login and
    /// logout helpers to set and clear it.
    pub fn cookie(self, cookie: TokenCookie) -> Self {
        self.update(|s| s.sources.cookie = Some(cookie))
    }

    /// Leave `Secure` off the token cookie, for an app served over plain http (local
    /// development, a LAN host). Setting an `http://` [app URL](Verifier::app_url) does this
    /// by itself. Never in production: the token could then travel unencrypted.
    pub fn insecure_cookie_for_local_development(self) -> Self {
        self.update(|s| {
            if let Some(c) = &mut s.sources.cookie {
                *c = c.clone().secure(false);
            }
        })
    }

    /// Do not read tokens from cookies.
    pub fn without_cookie(self) -> Self {
        self.update(|s| s.sources.cookie = None)
    }

    /// The token cookie this layer reads, sets and clears, if any.
    pub fn token_cookie(&self) -> Option<&TokenCookie> {
        self.shared.sources.cookie.as_ref()
    }

    /// Do not read `Authorization: Bearer`.
    pub fn without_bearer(self) -> Self {
        self.update(|s| s.sources.bearer = false)
    }

    /// Also read the token from this request header (bare, or `Bearer …`), after
    /// `Authorization` and before the cookie.
    pub fn token_header(self, name: HeaderName) -> Self {
        self.update(|s| s.sources.header = Some(name))
    }

    /// The realm name in `WWW-Authenticate: Bearer realm="…"` (default `authrocket`).
    pub fn realm_name(self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.update(|s| s.realm_name = name)
    }

    /// Render rejections yourself. See [`RenderRejection`].
    pub fn render_rejection(self, renderer: impl RenderRejection) -> Self {
        let renderer: Arc<dyn RenderRejection> = Arc::new(renderer);
        self.update(|s| s.renderer = renderer)
    }

    /// The verifier this layer uses.
    pub fn verifier(&self) -> &Verifier {
        &self.shared.verifier
    }
}

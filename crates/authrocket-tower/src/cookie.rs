//! [`TokenCookie`]: the one place that knows how the token cookie is set and cleared.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;

/// The cookie AuthRocket's frontends and the login helper use.
pub const DEFAULT_COOKIE: &str = "arToken";

/// The cookie that carries the login token in a browser: its name and the attributes it is
/// set with — `Path=/; HttpOnly; SameSite=Lax`, plus `Secure` unless turned off. It is
/// cleared with exactly the same attributes, or a browser would keep it (a clearing
/// `Set-Cookie` with `Secure` is refused on a plain-http page, leaving the user signed in).
///
/// [`AuthRocketLayer`](crate::AuthRocketLayer) owns it: the layer reads it, clears it when it
/// is bad, and the login and logout helpers set and clear it through the layer.
///
/// ```
/// use std::time::Duration;
/// use authrocket_tower::TokenCookie;
///
/// let cookie = TokenCookie::default().secure(false);
/// let set = cookie.set("eyJ.x.y", Some(Duration::from_secs(3600))).unwrap();
/// assert_eq!(set, "arToken=eyJ.x.y; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax");
/// let clear = cookie.clear().unwrap();
/// assert_eq!(clear, "arToken=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCookie {
    name: Arc<str>,
    secure: bool,
}

impl Default for TokenCookie {
    /// `arToken`, `Secure`.
    fn default() -> Self {
        Self::new(DEFAULT_COOKIE)
    }
}

impl TokenCookie {
    /// A cookie named `name`, `Secure`.
    pub fn new(name: impl Into<Arc<str>>) -> Self {
        Self {
            name: name.into(),
            secure: true,
        }
    }

    /// Whether the cookie carries `Secure` (sent over https only). Turn it off only for an
    /// app served over plain http (local development, a LAN host); `localhost` accepts
    /// `Secure` cookies over http in current browsers.
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// The cookie's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether it is set with `Secure`.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    fn attributes(&self) -> &'static str {
        if self.secure {
            "Path=/; HttpOnly; Secure; SameSite=Lax"
        } else {
            "Path=/; HttpOnly; SameSite=Lax"
        }
    }

    /// `Set-Cookie` storing `token` for `max_age` (until the token expires; `None`: a
    /// browser-session cookie). `None` when the token cannot be a cookie value.
    pub fn set(&self, token: &str, max_age: Option<Duration>) -> Option<HeaderValue> {
        let max_age = max_age
            .map(|d| format!("; Max-Age={}", d.as_secs()))
            .unwrap_or_default();
        let value = format!("{}={token}{max_age}; {}", self.name, self.attributes());
        HeaderValue::from_str(&value).ok()
    }

    /// `Set-Cookie` removing the cookie, with the attributes it was set with.
    pub fn clear(&self) -> Option<HeaderValue> {
        let value = format!(
            "{}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; {}",
            self.name,
            self.attributes()
        );
        HeaderValue::from_str(&value).ok()
    }
}

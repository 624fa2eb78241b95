//! The token cookie's `Set-Cookie` values: `HttpOnly; Secure; SameSite=Lax; Path=/`.

use http::HeaderValue;

/// `Set-Cookie` storing `token` in cookie `name` for `max_age` seconds (until the token
/// expires; `None`: a browser-session cookie). `secure: false` drops `Secure`, for
/// plain-http local development only.
pub fn set_token_cookie(
    name: &str,
    token: &str,
    max_age: Option<u64>,
    secure: bool,
) -> Option<HeaderValue> {
    let max_age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={token}{max_age}; Path=/; HttpOnly{secure}; SameSite=Lax"
    ))
    .ok()
}

/// `Set-Cookie` removing cookie `name`.
pub fn clear_token_cookie(name: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{name}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; Secure; SameSite=Lax"
    ))
    .ok()
}

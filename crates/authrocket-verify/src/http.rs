//! The one `reqwest` client (rustls, pooled) shared by the JWKS fetcher and the session-API
//! client, and a body reader with a size cap.
//!
//! The client follows no redirects by itself: the JWKS fetcher follows same-origin ones, the
//! session API treats any redirect as "unavailable". Errors are reduced to static reasons,
//! because `reqwest`'s own messages carry the request URL — and a session-API URL carries the
//! token.

use std::time::Duration;

use crate::error::ConfigError;

/// `user-agent` sent with every request: this library and its version.
pub(crate) const USER_AGENT: &str = concat!(
    env!("CARGO_PKG_NAME"),
    "/",
    env!("CARGO_PKG_VERSION"),
    " (rust)"
);

/// Build the shared client with explicit timeouts.
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, ConfigError> {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
        .map_err(|_| ConfigError::HTTP_CLIENT)
}

/// Send an idempotent request (a `GET`), once more if it failed on the way without timing
/// out: a pooled connection that the server closed while it sat idle fails the first request
/// sent on it, and must not turn into a 503.
pub(crate) async fn send_idempotent(
    request: reqwest::RequestBuilder,
) -> Result<reqwest::Response, reqwest::Error> {
    let again = request.try_clone();
    match (request.send().await, again) {
        (Err(e), Some(again)) if !e.is_timeout() && !e.is_connect() => {
            tracing::debug!(
                reason = describe(&e),
                "authrocket: request failed on the way; retrying once"
            );
            again.send().await
        }
        (result, _) => result,
    }
}

/// A static description of a transport error, free of URLs.
pub(crate) fn describe(err: &reqwest::Error) -> &'static str {
    if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else if err.is_body() || err.is_decode() {
        "response body could not be read"
    } else {
        "request failed"
    }
}

/// Read a response body, refusing more than `cap` bytes.
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, &'static str> {
    if response
        .content_length()
        .is_some_and(|len| len > cap as u64)
    {
        return Err("response body too large");
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
        if body.len() + chunk.len() > cap {
            return Err("response body too large");
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

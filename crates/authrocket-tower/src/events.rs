//! [`EventReceiver`]: the endpoint AuthRocket posts its events to (webhooks), as a plain
//! tower `Service`.
//!
//! Each delivery is confirmed with AuthRocket's API before anything is done with it (see
//! [`Verifier::receive_event`]): a `session.deleted` event makes the session's token answer
//! 401 `revoked` at once, in every mode. The answers tell AuthRocket what to do next:
//!
//! | answer | when | AuthRocket |
//! | --- | --- | --- |
//! | 200 `{"result":"applied"}` (or `ignored`, `duplicate`) | confirmed | stops |
//! | 400 `malformed_event` | the body is not an event | stops trying this body |
//! | 401 `unauthorized` | a shared secret is configured and missing or wrong | retries |
//! | 404 `unknown_event` | the API does not know the event: forged | stops |
//! | 405 | not a `POST` | — |
//! | 413 `payload_too_large` | the body is over the limit (64 KiB) | stops |
//! | 503 `unavailable` + `Retry-After` | the API cannot be reached to confirm | retries |
//!
//! Mount it *outside* a required [`AuthRocketLayer`](crate::AuthRocketLayer): deliveries carry
//! no login token. The shared secret, when one is set
//! ([`VerifierBuilder::events_secret`](authrocket_verify::VerifierBuilder::events_secret)), is
//! read from the basic-auth password or else from the last segment of the path
//! (`POST /authrocket/events/{secret}`).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use authrocket_verify::{EventError, EventErrorKind, Verifier};
use base64::Engine as _;
use bytes::Bytes;
use http::header::{
    ALLOW, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE,
};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use tower_service::Service;

use crate::reject::{DEFAULT_RETRY_AFTER, json_error};

/// The largest delivery accepted by default: AuthRocket's events are well under 4 KiB.
pub const DEFAULT_MAX_BODY: usize = 64 * 1024;

/// The future of [`EventReceiver`].
pub type ReceiveFuture =
    Pin<Box<dyn Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send>>;

/// Receives AuthRocket's webhook deliveries into a [`Verifier`]. See the
/// [module docs](self) for the answers.
///
/// ```
/// use authrocket_tower::events::EventReceiver;
/// use authrocket_verify::Verifier;
/// use http::{Method, Request, StatusCode};
/// use tower::ServiceExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let verifier = Verifier::builder().jwt_key("jsk_example_secret").build()?;
/// let receiver = EventReceiver::new(verifier);
///
/// let delivery = Request::builder()
///     .method(Method::POST)
///     .body(String::from("not an event"))?;
/// let res = receiver.oneshot(delivery).await?;
/// assert_eq!(res.status(), StatusCode::BAD_REQUEST);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct EventReceiver {
    verifier: Verifier,
    max_body: usize,
}

impl EventReceiver {
    /// A receiver applying events to `verifier` (clones share the revocation set).
    pub fn new(verifier: Verifier) -> Self {
        Self {
            verifier,
            max_body: DEFAULT_MAX_BODY,
        }
    }

    /// Refuse (413) deliveries larger than `bytes` (default [`DEFAULT_MAX_BODY`]).
    pub fn max_body_size(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// The verifier events are applied to.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }
}

impl<B> Service<Request<B>> for EventReceiver
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = ReceiveFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> ReceiveFuture {
        let verifier = self.verifier.clone();
        let max = self.max_body;
        Box::pin(async move { Ok(receive(verifier, max, req).await) })
    }
}

async fn receive<B>(verifier: Verifier, max: usize, req: Request<B>) -> Response<Full<Bytes>>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if req.method() != Method::POST {
        let mut res = answer(json_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "deliveries are POSTed",
            "method_not_allowed",
        ));
        res.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return res;
    }
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return too_large();
    }
    let secret = presented_secret(req.headers(), req.uri().path());
    let body = match Limited::new(req.into_body(), max).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => return too_large(),
        Err(_) => {
            return answer(json_error(
                StatusCode::BAD_REQUEST,
                "malformed_event",
                "the body could not be read",
                "malformed_event",
            ));
        }
    };
    match verifier.receive_event(&body, secret.as_deref()).await {
        Ok(outcome) => {
            let body = serde_json::json!({ "result": outcome.as_str() }).to_string();
            let mut res = Response::new(Full::new(Bytes::from(body)));
            res.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            res
        }
        Err(e) => refused(&e),
    }
}

/// The answer for an event that was not applied.
fn refused(e: &EventError) -> Response<Full<Bytes>> {
    let status = match e.kind() {
        EventErrorKind::Malformed => StatusCode::BAD_REQUEST,
        EventErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        EventErrorKind::Unknown => StatusCode::NOT_FOUND,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    let mut res = answer(json_error(status, e.code(), &e.to_string(), e.code()));
    let headers = res.headers_mut();
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"authrocket-events\""),
        );
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        let wait = e.retry_after().unwrap_or(DEFAULT_RETRY_AFTER);
        headers.insert(RETRY_AFTER, HeaderValue::from(secs(wait)));
    }
    res
}

fn secs(d: Duration) -> u64 {
    d.as_secs().max(1)
}

fn too_large() -> Response<Full<Bytes>> {
    answer(json_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "the delivery is larger than an event can be",
        "payload_too_large",
    ))
}

fn answer(res: Response<Bytes>) -> Response<Full<Bytes>> {
    res.map(Full::new)
}

/// The shared secret a delivery presents: the basic-auth password, else the last path
/// segment.
fn presented_secret(headers: &HeaderMap, path: &str) -> Option<String> {
    let basic = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(_, password)| password.to_owned())
        });
    basic.or_else(|| {
        let last = path.trim_end_matches('/').rsplit('/').next()?;
        percent_encoding::percent_decode_str(last)
            .decode_utf8()
            .ok()
            .map(|s| s.into_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_comes_from_basic_auth_or_the_last_segment() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            presented_secret(&headers, "/authrocket/events/s3cr%2Bt/").as_deref(),
            Some("s3cr+t")
        );
        // "user:pa:ss" in base64
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_static("Basic dXNlcjpwYTpzcw=="),
        );
        assert_eq!(
            presented_secret(&headers, "/authrocket/events").as_deref(),
            Some("pa:ss")
        );
    }
}

//! Rejections: 401 with RFC 6750 `WWW-Authenticate`, 503 with `Retry-After`, small
//! JSON bodies with the stable error code; gRPC requests get HTTP 200 with `grpc-status`
//! 16 (UNAUTHENTICATED) or 14 (UNAVAILABLE). [`RenderRejection`] lets you answer your own way.

use std::time::Duration;

use authrocket_verify::{ErrorKind, VerifyError};
use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderMap, Response, StatusCode};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

/// `Retry-After` when the cause does not say how long.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// A request the layer will not let through, as handed to a [`RenderRejection`].
#[derive(Debug)]
#[non_exhaustive]
pub struct Rejection<'a> {
    /// Why: a `missing_token` error when no token was presented.
    pub error: &'a VerifyError,
    /// Whether the request is gRPC (`content-type: application/grpc…`).
    pub grpc: bool,
    /// The realm name for `WWW-Authenticate`.
    pub realm: &'a str,
}

impl Rejection<'_> {
    /// 401 for a missing or invalid token, 503 when it cannot be verified now, 400 when the
    /// request's credentials are ambiguous or unreadable.
    pub fn status(&self) -> StatusCode {
        status(self.error)
    }
}

fn status(error: &VerifyError) -> StatusCode {
    match error.kind() {
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::InvalidRequest => StatusCode::BAD_REQUEST,
        _ => StatusCode::UNAUTHORIZED,
    }
}

/// The gRPC status for a rejection: 14 UNAVAILABLE, 3 INVALID_ARGUMENT, 16 UNAUTHENTICATED.
fn grpc_code(error: &VerifyError) -> u16 {
    match error.kind() {
        ErrorKind::Unavailable => 14,
        ErrorKind::InvalidRequest => 3,
        _ => 16,
    }
}

/// Renders a [`Rejection`] as a response. Implemented by [`DefaultRejection`] and by any
/// `Fn(&Rejection) -> Response<Bytes>`.
///
/// ```
/// use authrocket_tower::{AuthRocketLayer, Rejection};
/// use bytes::Bytes;
/// use http::{Response, StatusCode};
///
/// # fn layer(verifier: authrocket_verify::Verifier) -> AuthRocketLayer {
/// AuthRocketLayer::new(verifier).render_rejection(|r: &Rejection<'_>| {
///     let mut res = authrocket_tower::default_rejection(r); // keep the headers…
///     *res.body_mut() = Bytes::from(format!("<h1>{}</h1>", r.status())); // …change the body
///     res
/// })
/// # }
/// ```
pub trait RenderRejection: Send + Sync + 'static {
    /// The response for `rejection`.
    fn render(&self, rejection: &Rejection<'_>) -> Response<Bytes>;
}

impl<F> RenderRejection for F
where
    F: Fn(&Rejection<'_>) -> Response<Bytes> + Send + Sync + 'static,
{
    fn render(&self, rejection: &Rejection<'_>) -> Response<Bytes> {
        self(rejection)
    }
}

/// The standard rendering; see [`default_rejection`].
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultRejection;

impl RenderRejection for DefaultRejection {
    fn render(&self, rejection: &Rejection<'_>) -> Response<Bytes> {
        default_rejection(rejection)
    }
}

/// Characters a quoted-string in `WWW-Authenticate` may not carry verbatim.
fn quoted(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii() && !c.is_ascii_control() && *c != '"' && *c != '\\')
        .collect()
}

/// gRPC's `grpc-message` percent-encoding: everything outside printable ASCII, and `%`.
const GRPC_MESSAGE: &AsciiSet = &CONTROLS.add(b'%');

/// A gRPC trailers-only answer: HTTP 200, `grpc-status`, `grpc-message`.
pub fn grpc_status(code: u16, message: &str) -> Response<Bytes> {
    let mut res = Response::new(Bytes::new());
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    h.insert("grpc-status", HeaderValue::from(code));
    if let Ok(v) = HeaderValue::from_str(&utf8_percent_encode(message, GRPC_MESSAGE).to_string()) {
        h.insert("grpc-message", v);
    }
    res
}

/// A small JSON error body: `{"error": …, "error_description": …, "code": …}`.
pub fn json_error(
    status: StatusCode,
    error: &str,
    description: &str,
    code: &str,
) -> Response<Bytes> {
    let body = serde_json::json!({"error": error, "error_description": description, "code": code});
    let mut res = Response::new(Bytes::from(body.to_string()));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

fn retry_after(headers: &mut HeaderMap, error: &VerifyError) {
    let secs = error
        .retry_after()
        .unwrap_or(DEFAULT_RETRY_AFTER)
        .as_secs()
        .max(1);
    headers.insert(RETRY_AFTER, HeaderValue::from(secs));
}

/// The standard answers:
///
/// | situation | HTTP | gRPC |
/// | --- | --- | --- |
/// | no token | 401, `WWW-Authenticate: Bearer realm="…"` | 200, `grpc-status: 16` |
/// | invalid token | 401, `WWW-Authenticate: Bearer realm="…", error="invalid_token", error_description="…"` | 200, `grpc-status: 16` |
/// | ambiguous or unreadable credentials | 400, `WWW-Authenticate: Bearer realm="…", error="invalid_request", error_description="…"` | 200, `grpc-status: 3` |
/// | cannot verify now | 503, `Retry-After` | 200, `grpc-status: 14` |
///
/// HTTP bodies are `{"error":"invalid_token","error_description":"token has expired","code":"expired"}`.
pub fn default_rejection(rejection: &Rejection<'_>) -> Response<Bytes> {
    let e = rejection.error;
    let description = e.to_string();
    if rejection.grpc {
        let mut res = grpc_status(grpc_code(e), &format!("{description} ({})", e.code()));
        if e.is_unavailable() {
            retry_after(res.headers_mut(), e);
        }
        return res;
    }
    let realm = quoted(rejection.realm);
    if e.is_unavailable() {
        let mut res = json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            &description,
            e.code(),
        );
        retry_after(res.headers_mut(), e);
        return res;
    }
    let error = match e.kind() {
        ErrorKind::Missing => "missing_token",
        ErrorKind::InvalidRequest => "invalid_request",
        _ => "invalid_token",
    };
    let challenge = match e.kind() {
        ErrorKind::Missing => format!("Bearer realm=\"{realm}\""),
        _ => format!(
            "Bearer realm=\"{realm}\", error=\"{error}\", error_description=\"{}\"",
            quoted(&description)
        ),
    };
    let mut res = json_error(status(e), error, &description, e.code());
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        res.headers_mut().insert(WWW_AUTHENTICATE, v);
    }
    res
}

/// 403 for a signed-in user whose current membership lacks `permission` (gRPC: status 7,
/// PERMISSION_DENIED), with `WWW-Authenticate: Bearer error="insufficient_scope"`.
pub fn insufficient_scope(permission: &str, realm: &str, grpc: bool) -> Response<Bytes> {
    let description = format!(
        "the current membership lacks the {} permission",
        quoted(permission)
    );
    if grpc {
        return grpc_status(7, &description);
    }
    let mut res = json_error(
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        &description,
        "insufficient_scope",
    );
    let challenge = format!(
        "Bearer realm=\"{}\", error=\"insufficient_scope\", error_description=\"{description}\"",
        quoted(realm)
    );
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        res.headers_mut().insert(WWW_AUTHENTICATE, v);
    }
    res
}

/// `true` for gRPC requests (`content-type: application/grpc…`).
pub fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/grpc"))
}

/// The loud, explained 500 for an extractor or guard (`what`) that runs without
/// [`AuthRocketLayer`](crate::AuthRocketLayer) in front of it. Also logged at `error`.
pub fn missing_layer(what: &str) -> Response<Bytes> {
    tracing::error!("authrocket: {what} used without AuthRocketLayer in front of it");
    json_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        &format!(
            "{what} needs AuthRocketLayer: add .layer(AuthRocketLayer::new(verifier)) outside it"
        ),
        "missing_layer",
    )
}

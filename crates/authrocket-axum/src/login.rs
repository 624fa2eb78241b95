//! [`LoginRedirectLayer`]: completes a LoginRocket Web login (SPEC §6).
//!
//! LoginRocket sends the browser back to your app with `?token=…`. On such a `GET` this layer
//! verifies the token and, when it is valid, stores it in the `arToken` cookie
//! (`HttpOnly; Secure; SameSite=Lax; Path=/`, expiring with the token) and redirects (303) to
//! the same URL without `token`, `account` and `session`, so the token leaves the address
//! bar and the history. An invalid `?token=` is ignored: the request goes on, anonymous.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use authrocket_tower::{DEFAULT_COOKIE, ResponseBody, set_token_cookie};
use authrocket_verify::Verifier;
use bytes::Bytes;
use http::header::{LOCATION, SET_COOKIE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use percent_encoding::percent_decode_str;
use tower_layer::Layer;
use tower_service::Service;

/// The query parameters LoginRocket adds, removed from the URL after a login.
const STRIPPED: [&str; 3] = ["token", "account", "session"];

/// Completes LoginRocket Web logins on any route it wraps. Put it *outside*
/// [`AuthRocketLayer`](authrocket_tower::AuthRocketLayer) (added after it with
/// `Router::layer`), or on the route LoginRocket returns to.
///
/// ```
/// use authrocket_axum::LoginRedirectLayer;
/// use authrocket_tower::AuthRocketLayer;
/// use axum::{Router, routing::get};
///
/// # fn app(verifier: authrocket_verify::Verifier) -> Router {
/// Router::new()
///     .route("/", get(|| async { "home" }))
///     .layer(AuthRocketLayer::new(verifier.clone()).optional())
///     .layer(LoginRedirectLayer::new(verifier))
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct LoginRedirectLayer {
    verifier: Verifier,
    cookie: Arc<str>,
    secure: bool,
}

impl LoginRedirectLayer {
    /// Verify `?token=` with `verifier`, store it in the `arToken` cookie.
    pub fn new(verifier: Verifier) -> Self {
        Self {
            verifier,
            cookie: DEFAULT_COOKIE.into(),
            secure: true,
        }
    }

    /// Store the token in this cookie instead of `arToken`.
    pub fn cookie_name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.cookie = name.into();
        self
    }

    /// Leave `Secure` off the cookie, so it works on plain-http `localhost`. Never in
    /// production: the token could then travel unencrypted.
    pub fn insecure_cookie_for_local_development(mut self) -> Self {
        self.secure = false;
        self
    }
}

impl<S> Layer<S> for LoginRedirectLayer {
    type Service = LoginRedirect<S>;
    fn layer(&self, inner: S) -> LoginRedirect<S> {
        LoginRedirect {
            inner,
            config: self.clone(),
        }
    }
}

/// The service made by [`LoginRedirectLayer`].
#[derive(Debug, Clone)]
pub struct LoginRedirect<S> {
    inner: S,
    config: LoginRedirectLayer,
}

/// The `token` value and the query without `token`, `account`, `session` — the other
/// parameters kept exactly as they were written.
pub(crate) fn take_token(query: &str) -> Option<(String, String)> {
    let mut token = None;
    let mut kept = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (raw_key, raw_value) = part.split_once('=').unwrap_or((part, ""));
        let key = percent_decode_str(raw_key).decode_utf8_lossy();
        if key == "token" && token.is_none() {
            token = Some(
                percent_decode_str(raw_value)
                    .decode_utf8_lossy()
                    .into_owned(),
            );
        }
        if !STRIPPED.contains(&key.as_ref()) {
            kept.push(part);
        }
    }
    token.filter(|t| !t.is_empty()).map(|t| (t, kept.join("&")))
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, ResBody> Service<Request<B>> for LoginRedirect<S>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let found = (req.method() == Method::GET)
            .then(|| req.uri().query().and_then(take_token))
            .flatten();
        let Some((token, rest)) = found else {
            let fut = inner.call(req);
            return Box::pin(async move { Ok(fut.await?.map(ResponseBody::inner)) });
        };
        let config = self.config.clone();
        Box::pin(async move {
            match config.verifier.verify(&token).await {
                Ok(session) => {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs() as i64);
                    let max_age = session
                        .expires_at()
                        .map(|exp| u64::try_from(exp - now).unwrap_or(0));
                    let path = req.uri().path();
                    let location = if rest.is_empty() {
                        path.to_owned()
                    } else {
                        format!("{path}?{rest}")
                    };
                    let mut res = Response::new(ResponseBody::full(Bytes::new()));
                    *res.status_mut() = StatusCode::SEE_OTHER;
                    if let Ok(v) = HeaderValue::from_str(&location) {
                        res.headers_mut().insert(LOCATION, v);
                    }
                    if let Some(v) =
                        set_token_cookie(&config.cookie, &token, max_age, config.secure)
                    {
                        res.headers_mut().insert(SET_COOKIE, v);
                    }
                    tracing::debug!(
                        user = session.user_id(),
                        "authrocket: login completed, cookie set"
                    );
                    Ok(res)
                }
                Err(e) => {
                    tracing::debug!(code = e.code(), "authrocket: ignoring an invalid ?token=");
                    Ok(inner.call(req).await?.map(ResponseBody::inner))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::take_token;

    #[test]
    fn strips_exactly_token_account_session() {
        let (t, rest) =
            take_token("a=1&token=abc.def.ghi&account=org_1&session=kss_2&b=x%20y&tokens=keep")
                .unwrap();
        assert_eq!(t, "abc.def.ghi");
        assert_eq!(rest, "a=1&b=x%20y&tokens=keep");
        assert_eq!(take_token("token=t"), Some(("t".into(), String::new())));
        assert_eq!(take_token("a=1"), None);
        assert_eq!(take_token("token="), None);
        assert_eq!(
            take_token("%74oken=t&x=1"),
            Some(("t".into(), "x=1".into())),
            "encoded key"
        );
    }
}

//! [`LoginRedirectLayer`]: completes a LoginRocket Web login.
//!
//! LoginRocket sends the browser back to your app with `?token=…`. On such a `GET` this layer
//! verifies the token and, when it is valid, stores it in the layer's token cookie
//! (`arToken`, `HttpOnly; SameSite=Lax; Path=/`, `Secure` unless the app is served over plain
//! http, expiring with the token) and redirects (303) to the same path without `token`,
//! `account` and `session`, so the token leaves the address bar and the history. The
//! `Location` is always a path on this app: a request path like `//evil.example/` cannot turn
//! it into another host. An invalid `?token=` is ignored: the request goes on, anonymous.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use authrocket_tower::{AuthRocketLayer, ResponseBody, TokenCookie};
use authrocket_verify::Verifier;
use bytes::Bytes;
use http::header::{LOCATION, SET_COOKIE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use tower_layer::Layer;
use tower_service::Service;

use crate::location::{same_origin_location, split_login_params};

/// Completes LoginRocket Web logins on any route it wraps, storing the token in the cookie of
/// the [`AuthRocketLayer`] it is made from (one place owns the cookie's name and attributes,
/// so it is cleared exactly as it was set). Put it *outside* that layer (added after it with
/// `Router::layer`), or on the route LoginRocket returns to.
///
/// ```
/// use authrocket_axum::LoginRedirectLayer;
/// use authrocket_tower::AuthRocketLayer;
/// use axum::{Router, routing::get};
///
/// # fn app(verifier: authrocket_verify::Verifier) -> Router {
/// let auth = AuthRocketLayer::new(verifier).optional();
/// Router::new()
///     .route("/", get(|| async { "home" }))
///     .layer(auth.clone())
///     .layer(LoginRedirectLayer::new(&auth))
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct LoginRedirectLayer {
    verifier: Verifier,
    cookie: TokenCookie,
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
        let found = match (req.method(), req.uri().query()) {
            (&Method::GET, Some(query)) => match split_login_params(query) {
                (Some(token), rest) => Some((token, rest)),
                (None, _) => None,
            },
            _ => None,
        };
        let Some((token, rest)) = found else {
            let fut = inner.call(req);
            return Box::pin(async move { Ok(fut.await?.map(ResponseBody::inner)) });
        };
        let config = self.config.clone();
        Box::pin(async move {
            match config.verifier.verify(&token).await {
                Ok(session) => {
                    let max_age = config.verifier.time_left(&session);
                    let location = same_origin_location(req.uri().path(), &rest);
                    let mut res = Response::new(ResponseBody::full(Bytes::new()));
                    *res.status_mut() = StatusCode::SEE_OTHER;
                    if let Ok(v) = HeaderValue::from_str(&location) {
                        res.headers_mut().insert(LOCATION, v);
                    }
                    if let Some(v) = config.cookie.set(&token, max_age) {
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

//! [`LoginRedirect`], and the [`Layer`] impl that makes it.

use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{LOCATION, SET_COOKIE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use tower_layer::Layer;
use tower_service::Service;

use super::future::ResponseFuture;
use super::layer::LoginRedirectLayer;
use crate::body::ResponseBody;
use crate::redirect::{same_origin_location, split_login_params};

/// The service made by [`LoginRedirectLayer`]. See the [module docs](super).
#[derive(Debug, Clone)]
pub struct LoginRedirect<S> {
    inner: S,
    config: LoginRedirectLayer,
}

impl<S> LoginRedirect<S> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
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

impl<S, B, ResBody> Service<Request<B>> for LoginRedirect<S>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
    ResBody: 'static,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // Call the service that was driven to readiness, leave a fresh clone in its place.
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
            return ResponseFuture::inner(inner.call(req));
        };
        let config = self.config.clone();
        ResponseFuture::login(Box::pin(async move {
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
        }))
    }
}

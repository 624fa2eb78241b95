//! [`AuthRocket`]: the middleware service, and the [`Layer`] impl that makes it.

use std::sync::Arc;
use std::task::{Context, Poll};

use authrocket_verify::{ErrorKind, VerifyError};
use http::{Request, Response};
use tower_service::Service;

use tower_layer::Layer;

use super::future::{Decision, ResponseFuture, admit};
use super::layer::AuthRocketLayer;
use super::settings::{AuthMode, Settings};
use crate::body::ResponseBody;
use crate::reject::is_grpc;
use crate::token::{TokenSource, Unusable};

/// Middleware that verifies the AuthRocket token of each request before calling `S`.
///
/// Made by [`AuthRocketLayer`]; generic over the request and response bodies, so it wraps an
/// Axum `Router` and a Tonic server alike. Rejections are `Ok(Response)`, so `S::Error` is
/// untouched.
#[derive(Clone)]
pub struct AuthRocket<S> {
    pub(crate) inner: S,
    pub(crate) shared: Arc<Settings>,
}

impl<S: std::fmt::Debug> std::fmt::Debug for AuthRocket<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthRocket")
            .field("inner", &self.inner)
            .field("layer", &self.shared)
            .finish()
    }
}

impl<S> AuthRocket<S> {
    /// Wrap `inner`, requiring a valid token checked by `verifier`.
    pub fn new(inner: S, verifier: authrocket_verify::Verifier) -> Self {
        AuthRocketLayer::new(verifier).layer(inner)
    }

    /// A layer making `AuthRocket` services: the same as [`AuthRocketLayer::new`].
    pub fn layer(verifier: authrocket_verify::Verifier) -> AuthRocketLayer {
        AuthRocketLayer::new(verifier)
    }

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

/// What the request presents: a token and where it was, nothing, or credentials that cannot
/// be used.
type Found = Result<Option<(String, TokenSource)>, Unusable>;

/// Verify what the request carries and decide what happens to it.
async fn decide(shared: Arc<Settings>, found: Found, grpc: bool) -> Decision {
    let (error, source) = match found {
        Ok(Some((token, source))) => match shared.verifier.verify(&token).await {
            Ok(session) => {
                return Decision::Pass {
                    session: Some(session),
                    error: None,
                    clear_cookie: false,
                };
            }
            Err(e) => (e, Some(source)),
        },
        Ok(None) => (VerifyError::missing_token(), None),
        Err(unusable) => (
            VerifyError::invalid_request(unusable.reason),
            Some(unusable.source),
        ),
    };
    match shared.mode {
        AuthMode::Optional => {
            tracing::debug!(
                code = error.code(),
                ?source,
                "authrocket: passing request without a session"
            );
            let clear_cookie = source == Some(TokenSource::Cookie) && !error.is_unavailable();
            let error = (error.kind() != ErrorKind::Missing).then_some(error);
            Decision::Pass {
                session: None,
                error,
                clear_cookie,
            }
        }
        AuthMode::Required => {
            tracing::debug!(
                code = error.code(),
                ?source,
                grpc,
                "authrocket: request rejected"
            );
            Decision::Reject(shared.render(&error, grpc))
        }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for AuthRocket<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // Call the service that was driven to readiness, leave a fresh clone in its place.
        let clone = self.inner.clone();
        let mut ready = std::mem::replace(&mut self.inner, clone);
        // Fast path: a token verified a moment ago is answered from the verifier's hot table,
        // synchronously — no boxed future, no await.
        let shared = &self.shared;
        let hot = match shared.sources.find(req.headers()) {
            Ok(Some((token, _))) => shared.verifier.cached(token),
            _ => None,
        };
        if let Some(session) = hot {
            admit(&mut req, Some(session), None, shared);
            return ResponseFuture::calling(ready.call(req), Arc::clone(shared));
        }
        let grpc = is_grpc(req.headers());
        let found = self
            .shared
            .sources
            .find(req.headers())
            .map(|found| found.map(|(t, s)| (t.to_owned(), s)));
        let verify = Box::pin(decide(Arc::clone(&self.shared), found, grpc));
        ResponseFuture::new(verify, ready, req, Arc::clone(&self.shared))
    }
}

impl<S> Layer<S> for AuthRocketLayer {
    type Service = AuthRocket<S>;

    fn layer(&self, inner: S) -> AuthRocket<S> {
        AuthRocket {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

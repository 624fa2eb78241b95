//! [`RequirePermissionLayer`]: 403 `insufficient_scope` unless the current membership grants
//! a permission. Goes *inside* [`AuthRocketLayer`](crate::AuthRocketLayer).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use authrocket_verify::VerifyError;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::body::ResponseBody;
use crate::context::AuthContext;
use crate::reject::{insufficient_scope, is_grpc, json_error};

/// Requires that the signed-in user's [current membership](authrocket_verify::Session::current_membership)
/// grants a permission (exact match, e.g. `ar:admin`).
///
/// ```
/// use authrocket_tower::{AuthRocketLayer, RequirePermissionLayer};
/// use tower::ServiceBuilder;
///
/// # fn build(verifier: authrocket_verify::Verifier) {
/// let stack = ServiceBuilder::new()
///     .layer(AuthRocketLayer::new(verifier))          // outer: who is it?
///     .layer(RequirePermissionLayer::new("ar:admin"));  // inner: may they?
/// # let _ = stack;
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RequirePermissionLayer {
    permission: Arc<str>,
}

impl RequirePermissionLayer {
    /// Require `permission`.
    pub fn new(permission: impl Into<Arc<str>>) -> Self {
        Self {
            permission: permission.into(),
        }
    }
}

impl<S> Layer<S> for RequirePermissionLayer {
    type Service = RequirePermission<S>;
    fn layer(&self, inner: S) -> RequirePermission<S> {
        RequirePermission {
            inner,
            permission: Arc::clone(&self.permission),
        }
    }
}

/// The service made by [`RequirePermissionLayer`].
#[derive(Debug, Clone)]
pub struct RequirePermission<S> {
    inner: S,
    permission: Arc<str>,
}

impl<S> RequirePermission<S> {
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

pin_project! {
    /// Response future of [`RequirePermission`].
    pub struct PermissionFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F> {
        Inner { #[pin] fut: F },
        Denied { response: Option<Response<Bytes>> },
    }
}

impl<F> std::fmt::Debug for PermissionFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PermissionFuture").finish_non_exhaustive()
    }
}

impl<F, B, E> Future for PermissionFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<ResponseBody<B>>, E>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Inner { fut } => fut.poll(cx).map_ok(|r| r.map(ResponseBody::inner)),
            KindProj::Denied { response } => Poll::Ready(Ok(response
                .take()
                .expect("polled after completion")
                .map(ResponseBody::full))),
        }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequirePermission<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = PermissionFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let grpc = is_grpc(req.headers());
        let denied = match req.extensions().get::<AuthContext>() {
            None => Some(missing_layer("RequirePermissionLayer")),
            Some(ctx) => match ctx.session() {
                None => {
                    let missing = VerifyError::missing_token();
                    Some(ctx.reject(ctx.error().unwrap_or(&missing), grpc))
                }
                Some(s) if !s.has_permission(&self.permission) => {
                    tracing::debug!(
                        permission = &*self.permission,
                        "authrocket: permission denied"
                    );
                    Some(insufficient_scope(&self.permission, ctx.realm_name(), grpc))
                }
                Some(_) => None,
            },
        };
        match denied {
            Some(response) => PermissionFuture {
                kind: Kind::Denied {
                    response: Some(response),
                },
            },
            None => PermissionFuture {
                kind: Kind::Inner {
                    fut: self.inner.call(req),
                },
            },
        }
    }
}

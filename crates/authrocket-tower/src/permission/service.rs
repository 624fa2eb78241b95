//! [`RequirePermission`], and the [`Layer`] impl that makes it.

use std::sync::Arc;
use std::task::{Context, Poll};

use authrocket_verify::VerifyError;
use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use super::future::ResponseFuture;
use super::layer::RequirePermissionLayer;
use crate::auth::AuthContext;
use crate::body::ResponseBody;
use crate::reject::{insufficient_scope, is_grpc, missing_layer};

/// Requires a permission of the signed-in user. See the [module docs](super).
#[derive(Debug, Clone)]
pub struct RequirePermission<S> {
    inner: S,
    permission: Arc<str>,
}

impl<S> RequirePermission<S> {
    /// Wrap `inner`, requiring `permission`.
    pub fn new(inner: S, permission: impl Into<Arc<str>>) -> Self {
        RequirePermissionLayer::new(permission).layer(inner)
    }

    /// A layer making `RequirePermission` services: the same as
    /// [`RequirePermissionLayer::new`].
    pub fn layer(permission: impl Into<Arc<str>>) -> RequirePermissionLayer {
        RequirePermissionLayer::new(permission)
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

impl<S> Layer<S> for RequirePermissionLayer {
    type Service = RequirePermission<S>;
    fn layer(&self, inner: S) -> RequirePermission<S> {
        RequirePermission {
            inner,
            permission: Arc::clone(&self.permission),
        }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequirePermission<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

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
            Some(response) => ResponseFuture::denied(response),
            None => ResponseFuture::inner(self.inner.call(req)),
        }
    }
}

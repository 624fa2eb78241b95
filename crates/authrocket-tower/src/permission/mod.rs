//! [`RequirePermissionLayer`] and [`RequirePermission`]: 403 `insufficient_scope` unless the
//! signed-in user's [current membership](authrocket_verify::Session::current_membership)
//! grants a permission (exact match, e.g. `ar:admin`). Goes *inside*
//! [`AuthRocketLayer`](crate::AuthRocketLayer), which says who the user is.
//!
//! ```
//! use authrocket_tower::{AuthRocketLayer, RequirePermissionLayer};
//! use http::{Request, Response, StatusCode};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = authrocket_verify::Verifier::builder().jwt_key("jsk_example").build()?;
//! let service = ServiceBuilder::new()
//!     .layer(AuthRocketLayer::new(verifier).optional()) // outer: who is it?
//!     .layer(RequirePermissionLayer::new("ar:admin"))   // inner: may they?
//!     .service(service_fn(|_req: Request<String>| async {
//!         Ok::<_, std::convert::Infallible>(Response::new(String::from("admin area")))
//!     }));
//!
//! // Anonymous: the layer's 401, never the handler.
//! let res = service.oneshot(Request::new(String::new())).await?;
//! assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
//! # Ok(()) }
//! ```
//!
//! Anonymous requests get the authentication layer's 401 (or its rejection in optional
//! mode); signed-in users without the permission get 403 with
//! `WWW-Authenticate: Bearer error="insufficient_scope"` (gRPC: status 7, PERMISSION_DENIED).

mod future;
mod layer;
mod service;

pub use future::ResponseFuture;
pub use layer::RequirePermissionLayer;
pub use service::RequirePermission;

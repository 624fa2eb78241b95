//! [`LoginRedirectLayer`] and [`LoginRedirect`]: complete a LoginRocket Web login.
//!
//! LoginRocket sends the browser back to your app with `?token=…`. On such a `GET` this layer
//! verifies the token and, when it is valid, stores it in the token cookie of the
//! [`AuthRocketLayer`](crate::AuthRocketLayer) it is made from (`arToken`,
//! `HttpOnly; SameSite=Lax; Path=/`, `Secure` unless the app is served over plain http,
//! expiring with the token) and redirects (303) to the same path without `token`, `account`
//! and `session`, so the token leaves the address bar and the history. The `Location` is
//! always a path on this app: a request path like `//evil.example/` cannot turn it into
//! another host. An invalid `?token=` is ignored: the request goes on, anonymous. Requests
//! without `?token=` pass straight through, with no allocation.
//!
//! ```
//! use authrocket_tower::{AuthRocketLayer, LoginRedirectLayer};
//! use http::{Request, Response, StatusCode};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = authrocket_verify::Verifier::builder().jwt_key("jsk_example").build()?;
//! let auth = AuthRocketLayer::new(verifier).optional();
//! let service = ServiceBuilder::new()
//!     .layer(LoginRedirectLayer::new(&auth)) // outside: sees ?token= first
//!     .layer(auth)
//!     .service(service_fn(|_req: Request<String>| async {
//!         Ok::<_, std::convert::Infallible>(Response::new(String::from("home")))
//!     }));
//!
//! // An invalid ?token= is ignored.
//! let req = Request::get("/?token=not.a.token").body(String::new())?;
//! assert_eq!(service.oneshot(req).await?.status(), StatusCode::OK);
//! # Ok(()) }
//! ```

mod future;
mod layer;
mod service;

pub use future::ResponseFuture;
pub use layer::LoginRedirectLayer;
pub use service::LoginRedirect;

//! A Tower layer that knows who is calling: it verifies the AuthRocket login token of every
//! request and puts the verified [`Session`](authrocket_verify::Session) into the request
//! extensions — the same `.layer()` on an Axum `Router` and a Tonic `Server`.
//!
//! ```
//! use authrocket_tower::AuthRocketLayer;
//! use authrocket_verify::{Session, Verifier};
//! use http::{Request, Response, StatusCode};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = Verifier::builder().jwt_key("jsk_example_secret").build()?;
//! let service = ServiceBuilder::new()
//!     .layer(AuthRocketLayer::new(verifier))
//!     .service(service_fn(|req: Request<String>| async move {
//!         let user = req.extensions().get::<Session>().expect("the layer verified it");
//!         Ok::<_, std::convert::Infallible>(Response::new(format!("hello {}", user.user_id())))
//!     }));
//!
//! // No token: 401 with `WWW-Authenticate: Bearer realm="authrocket"`.
//! let res = service.oneshot(Request::new(String::new())).await?;
//! assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
//! # Ok(()) }
//! ```
//!
//! | module | middleware |
//! | --- | --- |
//! | [`auth`] | [`AuthRocketLayer`]: who is calling (401 / 400 / 503, or optional) |
//! | [`permission`] | [`RequirePermissionLayer`]: may they (403 `insufficient_scope`) |
//! | [`login_redirect`] | [`LoginRedirectLayer`]: completes a LoginRocket Web login (`?token=` ⇒ cookie ⇒ 303) |
//!
//! [`EventReceiver`] ([`events`]) is the endpoint for AuthRocket's webhooks: a logout seen
//! there answers 401 `revoked` at once, in every mode.
//!
//! [`redirect`] builds the URLs handed to LoginRocket (`redirect_uri`) from the app's
//! configured origin; [`TokenCookie`] is the cookie that carries a browser's token.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

pub mod auth;
mod body;
mod cookie;
pub mod events;
pub mod login_redirect;
pub mod permission;
pub mod redirect;
mod reject;
mod token;

pub use auth::{AuthContext, AuthMode, AuthRocket, AuthRocketLayer};
pub use body::ResponseBody;
pub use cookie::{DEFAULT_COOKIE, TokenCookie};
pub use events::EventReceiver;
pub use login_redirect::{LoginRedirect, LoginRedirectLayer};
pub use permission::{RequirePermission, RequirePermissionLayer};
pub use reject::{
    DEFAULT_RETRY_AFTER, DefaultRejection, Rejection, RenderRejection, default_rejection,
    grpc_status, insufficient_scope, is_grpc, json_error, missing_layer,
};
pub use token::TokenSource;

/// This crate's README, compiled as doctests so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

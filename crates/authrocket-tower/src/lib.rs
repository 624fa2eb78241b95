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
//! # What it does (SPEC §6)
//!
//! * Token from `Authorization: Bearer …` (scheme in any case), then the `arToken` cookie;
//!   configurable ([`AuthRocketLayer::cookie_name`], [`AuthRocketLayer::header`], …). Query
//!   strings are never read (that is the login helper's job).
//! * Credentials must be unambiguous: two `Authorization` fields, several token cookies with
//!   different values, or an `Authorization` field that is present but unreadable (a tab for
//!   the space, non-ASCII, an empty credential) ⇒ 400 `invalid_request` (gRPC 3,
//!   INVALID_ARGUMENT) — never "the first one wins", never a fall-back to the cookie.
//! * [`TokenCookie`]: the layer owns the cookie's name and attributes, so the login helper
//!   sets it and everything clears it the same way (`Secure` only when it was set `Secure`).
//! * [`AuthMode::Required`] (default): no token ⇒ 401 `WWW-Authenticate: Bearer realm="…"`;
//!   a bad token ⇒ 401 with `error="invalid_token"` and `error_description`; verification
//!   unavailable ⇒ 503 with `Retry-After`. Bodies are small JSON with the stable
//!   [`code`](authrocket_verify::VerifyError::code).
//! * [`AuthMode::Optional`]: requests without a valid token pass without a session; a bad
//!   cookie is cleared.
//! * gRPC requests (`content-type: application/grpc…`) get HTTP 200 with `grpc-status` 16
//!   (UNAUTHENTICATED) or 14 (UNAVAILABLE) and `grpc-message`.
//! * Passed requests carry an [`AuthContext`] and, when signed in, the `Session` itself in
//!   their extensions.
//! * [`RenderRejection`] lets you render rejections yourself; [`RequirePermissionLayer`]
//!   answers 403 `insufficient_scope`.
//! * Verification is logged in the verifier's `authrocket.verify` span (outcome and code,
//!   never the token); rejections at `debug`. A token verified a moment ago is answered
//!   synchronously from the verifier's hot table ([`Verifier::cached`](authrocket_verify::Verifier::cached))
//!   and logs nothing: there is nothing new to say about it.
//!
//! The service wraps the inner response body in [`ResponseBody`] so rejections can carry a
//! body whatever the inner body type is (Tonic's cannot be built from bytes).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod body;
mod context;
mod cookie;
mod future;
mod layer;
mod permission;
mod reject;
mod service;
mod token;

pub use body::ResponseBody;
pub use context::AuthContext;
pub use cookie::{DEFAULT_COOKIE, TokenCookie};
pub use future::ResponseFuture;
pub use layer::{AuthMode, AuthRocketLayer};
pub use permission::{PermissionFuture, RequirePermission, RequirePermissionLayer, missing_layer};
pub use reject::{
    DEFAULT_RETRY_AFTER, DefaultRejection, Rejection, RenderRejection, default_rejection,
    grpc_status, insufficient_scope, is_grpc, json_error,
};
pub use service::AuthRocket;
pub use token::TokenSource;

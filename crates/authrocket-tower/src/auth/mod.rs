//! [`AuthRocketLayer`] and [`AuthRocket`]: verify the token of every request and put the
//! [`Session`](authrocket_verify::Session) into its extensions.
//!
//! ```
//! use authrocket_tower::auth::AuthRocketLayer;
//! use authrocket_verify::{Session, Verifier};
//! use http::{Request, Response, StatusCode};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = Verifier::builder().jwt_key("jsk_example_secret").build()?;
//! let service = ServiceBuilder::new()
//!     .layer(AuthRocketLayer::new(verifier).optional())
//!     .service(service_fn(|req: Request<String>| async move {
//!         let who = req.extensions().get::<Session>().map(|s| s.user_id().to_owned());
//!         Ok::<_, std::convert::Infallible>(Response::new(format!("{who:?}")))
//!     }));
//!
//! // Optional mode: no token, no session, the request goes on.
//! let res = service.oneshot(Request::new(String::new())).await?;
//! assert_eq!(res.status(), StatusCode::OK);
//! # Ok(()) }
//! ```
//!
//! # What it does
//!
//! * Token from `Authorization: Bearer …` (scheme in any case), then the `arToken` cookie;
//!   configurable ([`AuthRocketLayer::cookie_name`], [`AuthRocketLayer::token_header`], …). Query
//!   strings are never read (that is the login helper's job).
//! * Credentials must be unambiguous: two `Authorization` fields, several token cookies with
//!   different values, or an `Authorization` field that is present but unreadable (a tab for
//!   the space, non-ASCII, an empty credential) ⇒ 400 `invalid_request` (gRPC 3,
//!   INVALID_ARGUMENT) — never "the first one wins", never a fall-back to the cookie.
//! * [`TokenCookie`](crate::TokenCookie): the layer owns the cookie's name and attributes, so the login helper
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
//! * [`RenderRejection`](crate::RenderRejection) lets you render rejections yourself; [`RequirePermissionLayer`](crate::RequirePermissionLayer)
//!   answers 403 `insufficient_scope`.
//! * Verification is logged in the verifier's `authrocket.verify` span (outcome and code,
//!   never the token); rejections at `debug`. A token verified a moment ago is answered
//!   synchronously from the verifier's hot table ([`Verifier::cached`](authrocket_verify::Verifier::cached))
//!   and logs nothing: there is nothing new to say about it.
//!
//! The service wraps the inner response body in [`ResponseBody`](crate::ResponseBody) so rejections can carry a
//! body whatever the inner body type is (Tonic's cannot be built from bytes).

mod context;
mod future;
mod layer;
mod service;
mod settings;

pub use context::AuthContext;
pub use future::ResponseFuture;
pub use layer::AuthRocketLayer;
pub use service::AuthRocket;
pub use settings::AuthMode;

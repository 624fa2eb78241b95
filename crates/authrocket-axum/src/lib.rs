//! Axum extractors and helpers for AuthRocket, on top of
//! [`authrocket_tower::AuthRocketLayer`].
//!
//! ```no_run
//! use authrocket_axum::{CurrentUser, LoginRedirectLayer, Logout};
//! use authrocket_tower::AuthRocketLayer;
//! use axum::{Router, routing::get, response::Response};
//!
//! async fn me(user: CurrentUser) -> String {
//!     format!("hello {}", user.id())
//! }
//!
//! async fn logout(logout: Logout) -> Response {
//!     logout.redirect_to("/")
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = authrocket_verify::Verifier::from_env()?; // AUTHROCKET_APP_URL, …
//! let auth = AuthRocketLayer::new(verifier).optional();
//! let app: Router = Router::new()
//!     .route("/me", get(me))
//!     .route("/logout", get(logout))
//!     .layer(auth.clone())
//!     .layer(LoginRedirectLayer::new(&auth));
//! # let _ = app; Ok(()) }
//! ```
//!
//! * [`CurrentUser`] — the signed-in user (`FromRequestParts` and
//!   `OptionalFromRequestParts`: `Option<CurrentUser>` is `None` when anonymous).
//! * [`LoginRequired`] — the same for browser routes: redirects to LoginRocket's login page.
//! * [`LoginRedirectLayer`] — completes a LoginRocket Web login (`?token=` ⇒ cookie ⇒ 303).
//! * [`Logout`] — revokes the session here, clears the cookie and redirects to LoginRocket's
//!   logout.
//! * [`events_route`] — receives AuthRocket's events (webhooks): logouts seen at once.
//! * [`RequirePermissionLayer`] — 403 `insufficient_scope` without a permission.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod events;
mod extract;

pub use authrocket_tower::EventReceiver;
pub use authrocket_tower::{AuthContext, AuthRocketLayer, RequirePermissionLayer};
pub use authrocket_tower::{LoginRedirect, LoginRedirectLayer};
pub use events::events_route;
pub use extract::{CurrentUser, CurrentUserRejection, LoginRequired, Logout};

/// This crate's README, compiled as doctests so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

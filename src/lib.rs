//! Know who is calling your Rust backend when its users sign in with
//! [AuthRocket](https://authrocket.com).
//!
//! This facade re-exports the workspace's crates:
//!
//! * [`verify`] — the core: a cheap-to-clone [`Verifier`] that turns an
//!   AuthRocket login token into a verified [`Session`].
//! * [`tower`] — [`AuthRocketLayer`], the same `.layer()` for Axum routers and Tonic servers.
//! * [`axum`] — the [`CurrentUser`] extractor, login redirect, logout and permission helpers.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = authrocket::Verifier::from_env()?;
//! let session = verifier.verify("eyJhbGciOi...").await?;
//! println!("{} is signed in", session.user().id);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use authrocket_axum as axum;
pub use authrocket_tower as tower;
pub use authrocket_verify as verify;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use authrocket_axum::{CurrentUser, LoginRequired, Logout};
pub use authrocket_tower::LoginRedirectLayer;
pub use authrocket_tower::{AuthMode, AuthRocketLayer, RequirePermissionLayer, TokenCookie};
pub use authrocket_verify::{
    ConfigError, Session, Verifier, VerifierBuilder, VerifyError, VerifyMode,
};

/// The README's code blocks, compiled as doctests so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

//! Verify [AuthRocket](https://authrocket.com) login tokens and learn who the user is.
//!
//! A [`Verifier`] turns the token your frontend sends (`Authorization: Bearer …`, the
//! `arToken` cookie, or `?token=` after a LoginRocket redirect) into a verified [`Session`]:
//! user id, name, email, session id and memberships with permissions — or a [`VerifyError`]
//! with a stable [`code`](VerifyError::code) that says whether to answer 401 or 503.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use authrocket_verify::Verifier;
//!
//! let verifier = Verifier::from_env()?; // AUTHROCKET_JWT_KEY, LOGINROCKET_URL, …
//! let session = verifier.verify("eyJhbGciOi...").await?;
//! println!("{} <{:?}>", session.user_id(), session.user().email);
//! # Ok(()) }
//! ```
//!
//! # How tokens are checked
//!
//! Offline, a token must be a canonical compact JWS no longer than 8 KiB whose `alg` is
//! exactly the algorithm of the configured key (HS256 for a realm secret, RS256 for an RSA
//! public key or a JWKS key); `none`, any other algorithm and a `crit` header are refused, and
//! `jku`, `x5u`, `jwk` and `x5c` are never used to find a key. Then `exp` (required), `nbf`,
//! `iat`, `iss` and the realm are checked with one leeway (a fractional `nbf`/`iat` counts as
//! the next whole second, a fractional `exp` as the one before). The header, the claim set
//! and every membership must be JSON objects — never arrays filled by position — nested at
//! most 128 levels deep. AuthRocket 1 and 2 claim sets are both understood. See
//! [`VerifierBuilder`] for every setting and its default.
//!
//! # Modes
//!
//! | [`VerifyMode`] | how | sees a logout | network per request |
//! | --- | --- | --- | --- |
//! | `Offline` (default with a key source) | JWT signature and claims | no, only `exp` | none (JWKS only on an unknown `kid`) |
//! | `Online` (default with only `AUTHROCKET_URL`) | AuthRocket's session API | within the cache TTL | one call per token per TTL |
//! | `Hybrid` | offline first, then the session API | within the cache TTL | as online, for genuine tokens only |
//!
//! In hybrid mode the identity comes from the verified JWT and the session API confirms the
//! session is still alive, so forgeries never reach the API and no user lookup is needed.
//! Session-API failures are [`ErrorKind::Unavailable`] (answer 503), never a pass. The API's
//! answer must be about the token asked for (in hybrid mode: the token's own session id and
//! user); anything else is an upstream inconsistency, also 503.
//!
//! One client cannot use up the API key's rate limit at AuthRocket: after a 429 (or a 503 with
//! `Retry-After`) nobody calls the API until that time has passed — verifications that need
//! it answer 503 at once with the time left, cached sessions keep working — and calls have a
//! non-blocking budget ([`VerifierBuilder::api_rate_limit`],
//! [`VerifierBuilder::api_max_in_flight`]).
//!
//! # Cache
//!
//! Every mode sits behind a bounded cache in which a hit is impossible for another token: a
//! small table of recently used tokens compared in full, then a store of sessions found by
//! the token's tail and confirmed by its SHA-256. An entry lives `min(TTL, exp − now)`
//! (online and hybrid entries are jittered down to 80–100 % of the TTL so their expiries
//! spread), concurrent online or hybrid misses of one token share one session-API call, and
//! only 404s from the session API are remembered as rejections (for the negative TTL, in a
//! bound of their own — a tenth of the capacity — so a flood of junk tokens never evicts a
//! verified session). Offline sessions are stored from their second verification: a token
//! used once costs the cache nothing (no hashing, no insert) and pushes nobody out. When
//! full, the store keeps recently used sessions (CLOCK). Every time rule reads one
//! [`Clock`], injectable for tests. [`Verifier::cache_stats`] reads the counters. A zero TTL
//! disables the cache (and with it single-flight).
//!
//! A cached session costs about 0.6–0.7 KiB with a typical AuthRocket 2 token; BENCHMARKS.md
//! has the measured figures.
//!
//! # Cryptography
//!
//! `jsonwebtoken` 11 is built with its **`aws_lc_rs`** backend and without `rust_crypto`, so
//! exactly one provider is compiled in and its run-time "no provider installed" panic cannot
//! happen. aws-lc-rs was chosen over the pure-Rust `rsa` crate because RS256 verification is
//! about 7× faster there and `rsa` carries an open advisory (RUSTSEC-2023-0071), and over
//! `ring` because `reqwest`'s rustls uses aws-lc-rs already (one C library, built once).
//! jsonwebtoken parses PEM keys; the per-token work then calls aws-lc-rs directly with keys
//! prepared once — an HMAC key with its pads precomputed, an RSA key already decoded — where
//! `jsonwebtoken::crypto::verify` would rebuild them on every call. HMAC comparison is
//! aws-lc's constant-time `hmac::verify`.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod api_gate;
mod browser;
mod cache;
mod claims;
mod clock;
pub mod config;
mod error;
pub mod events;
pub mod fleet;
#[cfg(feature = "http")]
mod http;
mod json;
#[cfg(feature = "http")]
mod jwks;
mod jwt;
mod keys;
pub mod meters;
mod revocation;
mod secret;
mod session;
#[cfg(feature = "http")]
mod session_api;
mod setup;
mod strategy;
mod urls;
mod verifier;

pub use cache::CacheStats;
pub use clock::{Clock, SystemClock};
pub use config::{DEFAULT_ISSUER, ENV_VARS, VerifierBuilder, VerifyMode};
pub use error::{ConfigError, ErrorKind, VerifyError};
pub use events::{EventError, EventErrorKind, EventOutcome};
pub use fleet::FleetStats;
pub use session::{Generation, Membership, Org, Permissions, Session, User};
pub use verifier::Verifier;

/// Entry points for the fuzz targets in `fuzz/` (cargo feature `fuzzing`): not an API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    /// The session API's answer handling, with `body` as the answer.
    pub fn session_answer(body: &[u8]) {
        crate::session_api::fuzz_answer(body);
    }

    /// The event handling, with `body` as the delivery and as the API's copy.
    pub fn event(body: &[u8]) {
        crate::events::fuzz_event(body);
    }
}

/// This crate's README, compiled as doctests so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

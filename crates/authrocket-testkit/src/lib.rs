//! Test AuthRocket integrations for real, without AuthRocket.
//!
//! * [`SigningKey`] and [`TokenBuilder`] mint AuthRocket 1 and 2 login tokens (HS256 and
//!   RS256, with or without `kid`) with any claims; [`bad`] has ready-made invalid ones.
//! * [`FakeRealm`] serves a whole AuthRocket realm on `127.0.0.1`: JWKS, the v1 and v2
//!   session and event APIs, LoginRocket login/logout pages, revocation, key rotation,
//!   webhook deliveries of its events, and fault injection, with request counters.
//! * [`capture_logs`] keeps everything the test binary logs, to prove what is (and is not)
//!   in it.
//!
//! ```
//! use authrocket_testkit::{bad, SigningKey, TokenBuilder};
//!
//! let key = SigningKey::hs256("jsk_test_realm_secret");
//! let good = TokenBuilder::v2("usr_frank").claim("name", "Frank").sign(&key);
//! let expired = bad::expired(&key);
//! assert_ne!(good, expired);
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod clock;
mod keys;
mod logs;
mod realm;
mod redis_server;
mod slow_proxy;
mod token;

pub use clock::ManualClock;
pub use keys::SigningKey;
pub use logs::{CapturedLogs, capture_logs};
pub use realm::{
    DEMO_PASSWORD, Delivery, FakeOrg, FakeRealm, FakeRealmBuilder, FakeUser, Fault, Login, Mail,
    MailKind, Signup, UserSpec, WebhookFault,
};
pub use redis_server::RedisServer;
pub use slow_proxy::SlowProxy;
pub use token::{ISSUER, TokenBuilder, b64url, bad, now};

/// A random AuthRocket-style id: `prefix` followed by 22 base62 characters.
///
/// ```
/// let id = authrocket_testkit::random_id("usr_");
/// assert!(id.starts_with("usr_") && id.len() == 26);
/// ```
pub fn random_id(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut bytes = [0u8; 22];
    aws_lc_rs::rand::fill(&mut bytes).expect("system randomness");
    let mut id = String::with_capacity(prefix.len() + bytes.len());
    id.push_str(prefix);
    id.extend(
        bytes
            .iter()
            .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char),
    );
    id
}

/// This crate's README, compiled as doctests so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

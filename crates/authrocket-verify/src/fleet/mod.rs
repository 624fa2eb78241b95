//! The fleet tier: instances of one app share what they learn through one Redis (cargo
//! feature `redis`, setting `AUTHROCKET_REDIS_URL`).
//!
//! * **Revocations.** A logout any instance learns of — an AuthRocket `session.deleted` event,
//!   [`Verifier::revoke`](crate::Verifier::revoke) or
//!   [`revoke_session`](crate::Verifier::revoke_session) — is stored in Redis until the session
//!   would have expired and announced on a channel; every instance adds it to its own
//!   revocation set as the announcement arrives (about a millisecond on a LAN). An instance
//!   that starts, or whose connection comes back, loads the stored set first. Users deleted
//!   or whose memberships changed are announced the same way, and every instance drops their
//!   cached sessions.
//! * **Verified sessions** (online and hybrid modes): a second cache tier behind the
//!   in-process one. On an in-process miss the instance asks Redis before the session API,
//!   and keeps what the API said in Redis for the others, for as long as it may be reused
//!   (the cache TTL from when the API answered, never past the token's expiry). The key is
//!   the SHA-256 of the token under the realm's namespace; the value is the session, never
//!   the token, sealed with an HMAC tag under a key Redis never sees (derived from the API
//!   key, or `AUTHROCKET_REDIS_SECRET`): whoever can write to Redis cannot create a session.
//!
//! **Redis is a cache, never an authority.** An error or an answer slower than the deadline
//! (`AUTHROCKET_REDIS_TIMEOUT_MS`, 50 ms) is a miss: the instance carries on alone — its own
//! cache, the session API, its own revocation set — and after three failures in a row stops
//! asking Redis for a second (doubling up to 30 s) while the connection is re-established in
//! the background. No token is accepted or refused *because* of Redis.
//!
//! While Redis is down an instance misses the revocations other instances receive; its own
//! are kept and shared when Redis is back, and on reconnecting it loads the stored set, so
//! the gap closes then. Sessions verified elsewhere cost it one session-API call each.
//!
//! ```no_run
//! # #[cfg(feature = "redis")]
//! # async fn run() -> Result<(), authrocket_verify::ConfigError> {
//! let verifier = authrocket_verify::Verifier::builder()
//!     .authrocket_url("https://example.authrocket.com/v2")
//!     .api_key("ks_example")
//!     .redis_url("redis://10.0.0.5:6379/0")
//!     .build()?;
//! if let Some(stats) = verifier.fleet_stats() {
//!     println!("{} sessions answered by Redis", stats.hits);
//! }
//! # Ok(()) }
//! ```

#[cfg(feature = "redis")]
mod codec;
#[cfg(feature = "redis")]
mod health;
#[cfg(feature = "redis")]
mod listen;
#[cfg(not(feature = "redis"))]
mod off;
#[cfg(feature = "redis")]
mod tier;
#[cfg(feature = "redis")]
mod waiters;

#[cfg(not(feature = "redis"))]
pub(crate) use off::Fleet;
#[cfg(feature = "redis")]
pub(crate) use tier::Fleet;

/// What the fleet tier has done since the verifier was built, from
/// [`Verifier::fleet_stats`](crate::Verifier::fleet_stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct FleetStats {
    /// In-process misses for which Redis was asked.
    pub lookups: u64,
    /// Lookups Redis answered with a usable session.
    pub hits: u64,
    /// Values refused: not sealed by this deployment for this token (written by someone
    /// else, or moved), or unreadable.
    pub refused: u64,
    /// Calls that failed or missed the deadline (each a miss).
    pub errors: u64,
    /// Lookups not sent because Redis kept failing (each a miss).
    pub skipped: u64,
    /// Sessions written for the other instances.
    pub shared: u64,
    /// Revocations this instance stored and announced.
    pub published: u64,
    /// Revocations announced by any instance (this one included) and applied here.
    pub received: u64,
    /// Revocations this instance holds until Redis answers again, to store and announce
    /// them then.
    pub pending: u64,
    /// Lookups that waited for another instance asking the session API about the same token
    /// at the same moment.
    pub waited: u64,
    /// Times the stored revocation set was loaded (at start and after each reconnection).
    pub reloads: u64,
    /// Whether the last call to Redis succeeded.
    pub connected: bool,
}

/// What the fleet tier is built from.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) struct FleetSettings<'a> {
    pub(crate) url: &'a crate::secret::Secret,
    pub(crate) timeout: std::time::Duration,
    pub(crate) realm: Option<&'a str>,
    /// The AuthRocket or LoginRocket URL: names the deployment when no realm is set.
    pub(crate) site: &'a str,
    /// The key sealing shared sessions; `None`: sessions are not shared (offline mode).
    pub(crate) seal_secret: Option<&'a str>,
    /// The cache TTL: how long a forgotten user's older shared sessions stay refused.
    pub(crate) ttl: std::time::Duration,
    /// The longest a session-API call takes: how long another instance's answer is awaited.
    pub(crate) api_timeout: std::time::Duration,
    /// The verifier's clock.
    pub(crate) now: crate::clock::Now,
}

/// What the fleet tier says about an in-process miss.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) enum Shared {
    /// Another instance verified the token: this session, reusable until then (Unix ms).
    Found(crate::session::Session, i64),
    /// Ask the session API; `claimed`: the other instances wait for this one's answer, to
    /// be [settled](Fleet::settle).
    Ask { claimed: bool },
}

/// What the fleet tier hands to its verifier: revocations and forgotten users announced by
/// other instances.
pub(crate) trait Listener: Send + Sync + 'static {
    /// Refuse `session_id` until `until_ms` (Unix milliseconds, leeway included).
    fn revoked(&self, session_id: &str, until_ms: i64);
    /// Drop every cached session of `user_id`.
    fn forgotten(&self, user_id: &str);
}

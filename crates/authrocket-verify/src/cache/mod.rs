//! The verified-result cache: a hot table, then a store of sessions (and one of session-API
//! rejections), filled by a [`Policy`].
//!
//! * **Never a hit for another token**: the hot table compares whole tokens; the store
//!   finds an entry by the token's tail and answers only when the token's SHA-256 matches
//!   the one stored (see `store`).
//! * **Lifetime** per entry, decided here: `min(TTL, exp − now)`; online and hybrid entries
//!   get a jitter that only shortens (uniform in 80–100 % of the TTL, from the token's key),
//!   so expiries spread out and never exceed the TTL. As a deadline never passes the token's
//!   `exp`, a hit before its deadline is a hit before `exp`. Every deadline is read on the
//!   verifier's clock.
//! * **Admission**: online and hybrid verdicts are stored at once; offline ones on their
//!   second verification (see `admission`), so tokens used once cost nothing to the cache;
//!   and while the store evicts sessions that were never used again (more active tokens than
//!   it holds), offline requests consult and fill it one time in 16 only.
//! * **Rejections**: only the session API's definitive "no such session" (404), for the
//!   negative TTL, in a store of their own, a tenth of the capacity: a flood of junk tokens
//!   can never evict a verified session. Transient failures are never stored.
//! * **Bounded**: at most `capacity` sessions, CLOCK eviction (recently used sessions stay).
//! * **Hot table** in front: recently stored or used valid tokens, compared in full, so a
//!   token seen a moment ago skips hashing and the store (see `hot`). A store hit promotes
//!   its token one time in eight.
//!
//! Single-flight (concurrent misses of one token share one session-API call) is the
//! verifier's, with [`Flights`].
//!
//! Memory: a store entry holds the tail key, the 32-byte digest, one pointer to the shared
//! session and its deadline (64 bytes), plus its place in the shard's map (≈ 20–40 bytes);
//! BENCHMARKS.md gives the measured bytes per typical AuthRocket 2 session.

mod admission;
mod flight;
mod hot;
mod store;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::clock::Now;
use crate::error::VerifyError;
use crate::session::Session;
use admission::{SecondSight, Usefulness};
pub(crate) use flight::Flights;
use hot::Hot;
pub(crate) use store::{Digest, digest};
use store::{Found, Store, tail_key};

/// How verdicts are kept: fixed when the verifier is built.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    /// The most a verified session is reused.
    pub(crate) ttl: Duration,
    /// How long a 404 from the session API is remembered; zero: never.
    pub(crate) negative_ttl: Duration,
    /// Whether verifications call the session API: their verdicts are stored at once, with
    /// jittered lifetimes, and their 404s remembered.
    pub(crate) uses_api: bool,
    /// Most sessions held.
    pub(crate) capacity: u64,
}

impl Policy {
    /// How long `session` (filed under `key`) may be reused from `now_ms`.
    fn lifetime(&self, key: u64, session: &Session, now_ms: i64) -> Duration {
        let mut life = self.ttl;
        if self.uses_api {
            // 80 % + up to 20 %, from 16 key bits: uniform, per token, never above the TTL.
            let frac = f64::from((key & 0xFFFF) as u16) / f64::from(u16::MAX);
            life = self.ttl.mul_f64(0.8 + 0.2 * frac);
        }
        if let Some(exp) = session.expires_at() {
            let left_ms = exp.saturating_mul(1000).saturating_sub(now_ms);
            life = life.min(Duration::from_millis(u64::try_from(left_ms).unwrap_or(0)));
        }
        life
    }

    fn remembers_rejections(&self) -> bool {
        self.uses_api && !self.negative_ttl.is_zero()
    }
}

fn deadline(now_ms: i64, life: Duration) -> i64 {
    now_ms.saturating_add(i64::try_from(life.as_millis()).unwrap_or(i64::MAX))
}

/// Cache hit and miss counters, readable from the [`Verifier`](crate::Verifier).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CacheStats {
    /// Verifications answered from the cache.
    pub hits: u64,
    /// Verifications that had to do the work (including those that joined another's).
    pub misses: u64,
    /// Sessions currently held.
    pub entries: u64,
}

/// What a lookup learned about a token that was not cached: where it would be filed, and
/// its digest once computed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Miss {
    key: u64,
    digest: Option<Digest>,
    /// Whether the store was consulted (a bypassed store is not filled either).
    consulted: bool,
}

impl Miss {
    /// The token's SHA-256 (computed now unless the lookup already did).
    pub(crate) fn digest(&mut self, token: &str) -> Digest {
        *self.digest.get_or_insert_with(|| digest(token))
    }
}

/// The answer of a lookup.
pub(crate) enum Lookup {
    Hit(Result<Session, VerifyError>),
    Miss(Miss),
}

pub(crate) struct Cache {
    sessions: Store<Session>,
    rejected: Store<()>,
    /// For verdicts stored on their second sight (with the store bypassed while useless);
    /// `None`: at once, always consulted.
    admission: Option<(SecondSight, Usefulness)>,
    hot: Hot,
    policy: Policy,
    now: Now,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("policy", &self.policy)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Cache {
    pub(crate) fn new(policy: Policy, now: Now) -> Self {
        Self {
            sessions: Store::new(policy.capacity),
            rejected: Store::new((policy.capacity / 10).clamp(1, 10_000)),
            admission: (!policy.uses_api)
                .then(|| (SecondSight::new(policy.capacity), Usefulness::default())),
            hot: Hot::new(policy.capacity),
            policy,
            now,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub(crate) fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: u64::try_from(self.sessions.len()).unwrap_or(u64::MAX),
        }
    }

    /// The session for `token` from the hot table, if it is there and still valid. No hashing,
    /// no locking beyond one uncontended slot, no allocation.
    pub(crate) fn hot(&self, token: &str) -> Option<Session> {
        let now = self.now.millis();
        let session = self.hot.get(token, now)?;
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(session)
    }

    /// A usable cached verdict for `token`: a valid session (then promoted into the hot
    /// table) or a remembered rejection; else what a later [`store`](Self::store) needs.
    pub(crate) fn lookup(&self, token: &str) -> Lookup {
        let now = self.now.millis();
        let usefulness = self.admission.as_ref().map(|(_, u)| u);
        let mut miss = Miss {
            key: tail_key(token),
            digest: None,
            consulted: usefulness.is_none_or(Usefulness::consult),
        };
        if !miss.consulted {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return Lookup::Miss(miss);
        }
        match self.sessions.get(miss.key, || miss.digest(token), now) {
            Found::Live(session, deadline_ms) => {
                let hits = self.hits.fetch_add(1, Ordering::Relaxed);
                // One store hit in eight promotes the token into the hot table: a token in
                // use gets there after a few requests, while a stream of different tokens
                // does not churn it (each promotion copies a token and drops another).
                if hits.is_multiple_of(8) {
                    self.hot.put(token, &session, deadline_ms);
                }
                return Lookup::Hit(Ok(session));
            }
            Found::Stale => {
                self.sessions.remove(miss.key, &miss.digest(token));
            }
            Found::Absent => {}
        }
        if self.policy.remembers_rejections()
            && let Found::Live((), _) = self.rejected.get(miss.key, || miss.digest(token), now)
        {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Lookup::Hit(Err(VerifyError::REVOKED));
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        Lookup::Miss(miss)
    }

    /// Drop every cached session of `user_id` (a user deleted, a membership changed).
    pub(crate) fn forget_user(&self, user_id: &str) {
        self.sessions.retain(|s| s.user_id() != user_id);
        self.hot.retain(|s| s.user_id() != user_id);
    }

    /// Keep what verifying `token` concluded, as the policy says: a session (offline: from
    /// its second sight on), or the session API's 404. Anything else is not kept.
    /// Returns until when a stored session may be reused (Unix milliseconds).
    pub(crate) fn store(
        &self,
        token: &str,
        miss: Miss,
        verdict: &Result<Session, VerifyError>,
    ) -> Option<i64> {
        self.store_until(token, miss, verdict, i64::MAX)
    }

    /// [`store`](Self::store), reusing a session no later than `until_ms` (one verified by
    /// another instance keeps the deadline it was given there).
    pub(crate) fn store_until(
        &self,
        token: &str,
        mut miss: Miss,
        verdict: &Result<Session, VerifyError>,
        until_ms: i64,
    ) -> Option<i64> {
        let now = self.now.millis();
        match verdict {
            Ok(session) => {
                if let Some((second_sight, _)) = &self.admission {
                    // The note is taken on every sight; a bypassed store is not filled.
                    if !second_sight.seen_before(miss.key) || !miss.consulted {
                        return None;
                    }
                }
                let until =
                    deadline(now, self.policy.lifetime(miss.key, session, now)).min(until_ms);
                let digest = miss.digest(token);
                let evicted = self
                    .sessions
                    .insert(miss.key, digest, session.clone(), until, now);
                if let (Some(was_used), Some((_, usefulness))) = (evicted, &self.admission) {
                    usefulness.evicted(was_used);
                }
                self.hot.put(token, session, until);
                Some(until)
            }
            Err(VerifyError::REVOKED) if self.policy.remembers_rejections() => {
                let until = deadline(now, self.policy.negative_ttl);
                self.rejected
                    .insert(miss.key, miss.digest(token), (), until, now);
                None
            }
            Err(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::RawClaims;
    use crate::clock::tests::TestClock;
    use crate::session::Generation;
    use std::sync::Arc;

    fn session() -> Session {
        let claims = RawClaims::parse(br#"{"sub":"usr_1"}"#).unwrap();
        Session::new(claims.to_session(Generation::V2).unwrap())
    }

    fn cache(capacity: u64, uses_api: bool) -> (Cache, Arc<TestClock>) {
        let clock = Arc::new(TestClock::default());
        let policy = Policy {
            ttl: Duration::from_secs(20),
            negative_ttl: Duration::from_secs(10),
            uses_api,
            capacity,
        };
        (Cache::new(policy, Now::custom(clock.clone())), clock)
    }

    /// Look `token` up and, on a miss, store `verdict`.
    fn verify(cache: &Cache, token: &str, verdict: Result<Session, VerifyError>) -> bool {
        match cache.lookup(token) {
            Lookup::Hit(_) => true,
            Lookup::Miss(miss) => {
                cache.store(token, miss, &verdict);
                false
            }
        }
    }

    #[test]
    fn offline_verdicts_are_stored_on_their_second_sight() {
        let (cache, _) = cache(1000, false);
        let s = session();
        assert!(!verify(&cache, "a.b.token-one", Ok(s.clone())));
        assert_eq!(cache.stats().entries, 0, "first sight: nothing stored");
        assert!(cache.hot("a.b.token-one").is_none());
        assert!(!verify(&cache, "a.b.token-one", Ok(s.clone())));
        assert_eq!(cache.stats().entries, 1, "second sight: stored");
        assert!(cache.hot("a.b.token-one").is_some());
        assert!(verify(&cache, "a.b.token-one", Ok(s)));
    }

    #[test]
    fn online_verdicts_are_stored_at_once() {
        let (cache, _) = cache(1000, true);
        assert!(!verify(&cache, "a.b.token-one", Ok(session())));
        assert!(verify(&cache, "a.b.token-one", Ok(session())));
    }

    #[test]
    fn expired_entries_are_not_served() {
        let (cache, clock) = cache(100, true);
        verify(&cache, "a.b.token", Ok(session()));
        assert!(cache.hot("a.b.token").is_some());
        clock.advance(Duration::from_secs(20));
        assert!(cache.hot("a.b.token").is_none());
        assert!(matches!(cache.lookup("a.b.token"), Lookup::Miss(_)));
        assert_eq!(cache.stats().entries, 0, "the stale entry was dropped");
    }

    #[test]
    fn rejections_have_their_own_bound_and_lifetime() {
        let (cache, clock) = cache(100, true);
        let valid: Vec<String> = (0..50).map(|i| format!("valid.{i}.token")).collect();
        for t in &valid {
            verify(&cache, t, Ok(session()));
        }
        for i in 0..5000 {
            verify(
                &cache,
                &format!("junk.{i}.token"),
                Err(VerifyError::REVOKED),
            );
        }
        assert!(cache.rejected.len() <= 10, "a tenth of the capacity");
        for t in &valid {
            assert!(
                matches!(cache.lookup(t), Lookup::Hit(Ok(_))),
                "{t} was evicted"
            );
        }
        let t = "junk.4999.token";
        assert!(matches!(
            cache.lookup(t),
            Lookup::Hit(Err(VerifyError::REVOKED))
        ));
        clock.advance(Duration::from_secs(10));
        assert!(
            matches!(cache.lookup(t), Lookup::Miss(_)),
            "negative TTL passed"
        );
        // Transient failures are never stored.
        let e = VerifyError::unavailable("down");
        verify(&cache, "down.a.token", Err(e));
        assert!(matches!(cache.lookup("down.a.token"), Lookup::Miss(_)));
    }

    #[test]
    fn online_lifetimes_are_jittered_down_only() {
        let policy = Policy {
            ttl: Duration::from_secs(100),
            negative_ttl: Duration::ZERO,
            uses_api: true,
            capacity: 10,
        };
        let s = session();
        for i in 0..1000u64 {
            let key = tail_key(&format!("token-{i}"));
            let life = policy.lifetime(key, &s, 0);
            assert!((80_000..=100_000).contains(&life.as_millis()), "{life:?}");
        }
    }
}

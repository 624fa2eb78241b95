//! The verified-result cache, on `moka`.
//!
//! * **Key**: the SHA-256 of the token, 256 bits. A hit for a different token would need a
//!   SHA-256 collision; no short or non-cryptographic hash is ever a key on its own.
//! * **Lifetime** per entry, decided here by the [`Policy`]: `min(TTL, exp − now)`; online
//!   entries get a jitter that only shortens (uniform in 80–100 % of the TTL, derived from the
//!   key so it costs nothing), so expiries spread out and never exceed the TTL. A hit
//!   re-checks `exp` too. Every deadline is read on the verifier's clock.
//! * **Single-flight**: concurrent misses for one key share one verification
//!   (`moka::future::Cache::try_get_with`).
//! * **Rejections**: only definitive session-API rejections (404), for the negative TTL, in a
//!   cache of their own with a smaller bound, so a flood of junk tokens can never evict a
//!   verified session. Transient failures are returned as errors and never stored.
//! * **Bounded**: at most `capacity` sessions, TinyLFU admission and eviction (moka), plus at
//!   most a tenth of that (up to 10 000) remembered rejections.
//! * **Index** beside moka: every valid cached session by key, so hits never make moka record
//!   an access and no request runs moka's maintenance for others (see `index`). moka's
//!   admission and eviction then see verifications, not uses.
//! * **Hot table** in front: the most recently used valid tokens, compared in full, so a
//!   token seen a moment ago skips the SHA-256 and the index lookup (see `hot`).
//!
//! Memory: a moka entry holds the 32-byte key and one `Arc` pointer to the session with its
//! deadline, plus moka's own bookkeeping; the index holds the key, the pointer and the
//! deadline again; the session itself is one shared allocation. BENCHMARKS.md gives the
//! measured bytes per typical AuthRocket 2 session.

mod hot;
mod index;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_lc_rs::digest;
use moka::Expiry;

use crate::clock::Now;
use crate::error::VerifyError;
use crate::session::Session;
use hot::Hot;
use index::Index;

/// SHA-256 of a token.
pub(crate) type Key = [u8; 32];

/// The cache key of `token`.
pub(crate) fn key(token: &str) -> Key {
    let d = digest::digest(&digest::SHA256, token.as_bytes());
    let mut k = [0u8; 32];
    k.copy_from_slice(d.as_ref());
    k
}

/// How long verdicts are kept: fixed when the verifier is built.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    /// The most a verified session is reused.
    pub(crate) ttl: Duration,
    /// How long a 404 from the session API is remembered; zero: never.
    pub(crate) negative_ttl: Duration,
    /// Spread expiries (online and hybrid verdicts, which cost an API call each).
    pub(crate) jitter: bool,
    /// Most sessions held.
    pub(crate) capacity: u64,
}

impl Policy {
    /// Most rejections remembered: a tenth of the sessions, at least 1, at most 10 000.
    fn rejection_capacity(&self) -> u64 {
        (self.capacity / 10).clamp(1, 10_000)
    }

    /// How long `session` (cached under `key`) may be reused from `now_ms`: `min(TTL ×
    /// jitter, exp − now)`.
    fn lifetime(&self, key: &Key, session: &Session, now_ms: i64) -> Duration {
        let mut life = self.ttl;
        if self.jitter {
            // 80 % + up to 20 %, from two key bytes: uniform, per token, never above the TTL.
            let frac = f64::from(u16::from_le_bytes([key[0], key[1]])) / f64::from(u16::MAX);
            life = self.ttl.mul_f64(0.8 + 0.2 * frac);
        }
        if let Some(exp) = session.expires_at() {
            let left_ms = exp.saturating_mul(1000).saturating_sub(now_ms);
            life = life.min(Duration::from_millis(u64::try_from(left_ms).unwrap_or(0)));
        }
        life
    }
}

/// A cached session and until when it may be reused (Unix milliseconds on the verifier's
/// clock, so the hot table can give its copies the very same deadline).
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    session: Session,
    deadline_ms: i64,
}

/// moka's per-entry expiry: the entry's own deadline. moka's expiry only reclaims memory;
/// whether an entry may still be served is decided on the verifier's clock.
struct PerEntryTtl(Now);

impl Expiry<Key, Entry> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &Key,
        value: &Entry,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(Duration::from_millis(
            u64::try_from(value.deadline_ms - self.0.millis()).unwrap_or(0),
        ))
    }
}

/// `true` when `session`'s token has reached its `exp` at `now_ms`: a cached copy must not
/// be served any more (a fresh check then applies the leeway rules).
fn past_exp(session: &Session, now_ms: i64) -> bool {
    session
        .expires_at()
        .is_some_and(|exp| exp.saturating_mul(1000) <= now_ms)
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
    /// Sessions currently held (approximate: moka applies writes lazily).
    pub entries: u64,
}

pub(crate) struct Cache {
    sessions: moka::future::Cache<Key, Entry>,
    /// Keys the session API answered 404 for, with their deadline: bounded on their own.
    rejected: moka::future::Cache<Key, i64>,
    index: Arc<Index>,
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
        let index = Arc::new(Index::new());
        let evicted = Arc::clone(&index);
        let negative_ttl = policy.negative_ttl.max(Duration::from_millis(1));
        Self {
            sessions: moka::future::Cache::builder()
                .max_capacity(policy.capacity)
                .expire_after(PerEntryTtl(now.clone()))
                .eviction_listener(move |key: Arc<Key>, entry: Entry, _cause| {
                    evicted.remove(&key, &entry.session);
                })
                .build(),
            rejected: moka::future::Cache::builder()
                .max_capacity(policy.rejection_capacity())
                .time_to_live(negative_ttl)
                .build(),
            index,
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
            entries: self.sessions.entry_count(),
        }
    }

    pub(crate) async fn run_pending_tasks(&self) {
        self.sessions.run_pending_tasks().await;
        self.rejected.run_pending_tasks().await;
    }

    /// The session for `token` from the hot table, if it is there and still valid. No hashing,
    /// no locking beyond one uncontended slot, no allocation.
    pub(crate) fn hot(&self, token: &str) -> Option<Session> {
        let now = self.now.millis();
        let session = self.hot.get(token, now)?;
        if past_exp(&session, now) {
            return None;
        }
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(session)
    }

    /// A usable cached verdict for `token` (whose key is `key`), if any: a valid session from
    /// the index (no moka bookkeeping), which is then promoted into the hot table, or a
    /// remembered rejection. A valid session past its `exp` is dropped.
    pub(crate) async fn get(&self, token: &str, key: &Key) -> Option<Result<Session, VerifyError>> {
        let now = self.now.millis();
        if let Some((session, deadline_ms)) = self.index.get(key) {
            if now < deadline_ms && !past_exp(&session, now) {
                self.hot.put(token, &session, deadline_ms);
                self.hits.fetch_add(1, Ordering::Relaxed);
                return Some(Ok(session));
            }
            // Stale on the verifier's clock: moka (whose own expiry may lag behind) must not
            // hand it back to the verification that follows.
            self.sessions.invalidate(key).await;
            return None;
        }
        let rejected_until = self.rejected.get(key).await?;
        if now >= rejected_until {
            return None;
        }
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(Err(VerifyError::Revoked))
    }

    /// Run `verify` once for all concurrent callers of `key`, keep what it concluded for as
    /// long as the policy allows (a session, or a 404 in the rejection cache) and return it.
    pub(crate) async fn get_or_verify<F>(
        &self,
        token: &str,
        key: Key,
        verify: F,
    ) -> Result<Session, VerifyError>
    where
        F: Future<Output = Result<Session, VerifyError>>,
    {
        self.misses.fetch_add(1, Ordering::Relaxed);
        let load = async {
            let session = verify.await?;
            let now = self.now.millis();
            let entry = Entry {
                deadline_ms: deadline(now, self.policy.lifetime(&key, &session, now)),
                session,
            };
            // Indexed before moka stores it, so moka's eviction listener always comes after.
            self.index.insert(key, &entry.session, entry.deadline_ms);
            Ok(entry)
        };
        match self.sessions.try_get_with(key, load).await {
            Ok(entry) => {
                self.hot.put(token, &entry.session, entry.deadline_ms);
                Ok(entry.session)
            }
            Err(shared) => {
                let error = Arc::unwrap_or_clone(shared);
                if error == VerifyError::Revoked && !self.policy.negative_ttl.is_zero() {
                    let until = deadline(self.now.millis(), self.policy.negative_ttl);
                    self.rejected.insert(key, until).await;
                }
                Err(error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::RawClaims;
    use crate::clock::tests::TestClock;
    use crate::session::Generation;

    fn session() -> Session {
        let claims = RawClaims::parse(br#"{"sub":"usr_1"}"#).unwrap();
        Session::new(claims.to_session(Generation::V2))
    }

    fn cache(capacity: u64, ttl: Duration) -> (Cache, Arc<TestClock>) {
        let clock = Arc::new(TestClock::default());
        let policy = Policy {
            ttl,
            negative_ttl: Duration::from_secs(10),
            jitter: false,
            capacity,
        };
        (Cache::new(policy, Now::custom(clock.clone())), clock)
    }

    async fn store(cache: &Cache, token: &str, session: &Session) -> Session {
        let session = session.clone();
        cache
            .get_or_verify(token, key(token), async { Ok(session) })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn the_index_never_holds_more_than_the_cache() {
        let (cache, _) = cache(8, Duration::from_secs(60));
        let s = session();
        for i in 0..200 {
            store(&cache, &format!("token-{i}"), &s).await;
        }
        cache.run_pending_tasks().await;
        let held = cache.sessions.entry_count();
        assert!(held <= 8, "moka holds {held}");
        assert_eq!(cache.index.len() as u64, held, "index and cache agree");
    }

    #[tokio::test]
    async fn invalidated_entries_leave_the_index() {
        let (cache, _) = cache(100, Duration::from_secs(60));
        store(&cache, "token-a", &session()).await;
        assert!(cache.get("token-a", &key("token-a")).await.is_some());
        cache.sessions.invalidate(&key("token-a")).await;
        assert_eq!(cache.index.len(), 0);
        assert!(cache.get("token-a", &key("token-a")).await.is_none());
    }

    #[tokio::test]
    async fn a_late_eviction_never_removes_the_newer_session() {
        let (cache, clock) = cache(100, Duration::from_secs(20));
        let (old, new) = (session(), session());
        store(&cache, "token-a", &old).await;
        clock.advance(Duration::from_secs(40));
        // The old entry expired; verifying again stores a new session for the same key, and
        // moka's eviction notice for the old one arrives afterwards.
        assert!(cache.get("token-a", &key("token-a")).await.is_none());
        let got = store(&cache, "token-a", &new).await;
        assert!(got.ptr_eq(&new), "the stale entry is not handed back");
        cache.run_pending_tasks().await;
        let (hit, _) = cache.index.get(&key("token-a")).expect("indexed");
        assert!(hit.ptr_eq(&new));
    }

    #[tokio::test]
    async fn expired_entries_are_not_served() {
        let (cache, clock) = cache(100, Duration::from_secs(20));
        store(&cache, "token-a", &session()).await;
        assert!(cache.hot("token-a").is_some());
        clock.advance(Duration::from_secs(20));
        assert!(cache.hot("token-a").is_none());
        assert!(cache.get("token-a", &key("token-a")).await.is_none());
    }

    #[tokio::test]
    async fn rejections_have_their_own_bound() {
        let (cache, _) = cache(20, Duration::from_secs(60));
        let valid: Vec<String> = (0..15).map(|i| format!("valid-{i}")).collect();
        for t in &valid {
            store(&cache, t, &session()).await;
        }
        for i in 0..500 {
            let t = format!("junk-{i}");
            let r = cache.get_or_verify(&t, key(&t), async { Err(VerifyError::Revoked) });
            assert_eq!(r.await.unwrap_err(), VerifyError::Revoked);
        }
        cache.run_pending_tasks().await;
        assert!(cache.rejected.entry_count() <= 2, "a tenth of the capacity");
        for t in &valid {
            assert!(cache.get(t, &key(t)).await.is_some(), "{t} was evicted");
        }
    }

    #[tokio::test]
    async fn a_rejection_is_remembered_for_the_negative_ttl() {
        let (cache, clock) = cache(20, Duration::from_secs(60));
        let t = "junk";
        let r = cache.get_or_verify(t, key(t), async { Err(VerifyError::Revoked) });
        assert_eq!(r.await.unwrap_err(), VerifyError::Revoked);
        let remembered = cache.get(t, &key(t)).await;
        assert_eq!(remembered.unwrap().unwrap_err(), VerifyError::Revoked);
        clock.advance(Duration::from_secs(10));
        assert!(cache.get(t, &key(t)).await.is_none(), "negative TTL passed");
    }
}

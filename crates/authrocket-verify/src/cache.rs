//! The verified-result cache (SPEC §5), on `moka`.
//!
//! * **Key**: the SHA-256 of the token, 256 bits. A hit for a different token would need a
//!   SHA-256 collision; no short or non-cryptographic hash is ever a key on its own.
//! * **Lifetime** per entry: `min(TTL, exp − now)`; online entries get a jitter that only
//!   shortens (uniform in 80–100 % of the TTL, derived from the key so it costs nothing), so
//!   expiries spread out and never exceed the TTL. A hit re-checks `exp` too.
//! * **Single-flight**: concurrent misses for one key share one verification
//!   (`moka::future::Cache::try_get_with`).
//! * **Negative entries**: only definitive session-API rejections (404), for the negative TTL.
//!   Transient failures are returned as errors and never stored.
//! * **Bounded**: at most `capacity` entries, TinyLFU admission and eviction (moka).
//! * **Index** beside moka: every valid cached session by key, so hits never make moka record
//!   an access and no request runs moka's maintenance for others (see `index`). moka's
//!   admission and eviction then see verifications, not uses.
//! * **Hot table** in front: the most recently used valid tokens, compared in full, so a
//!   token seen a moment ago skips the SHA-256 and the index lookup (see `hot`).
//!
//! Memory: a moka entry holds the 32-byte key, a small enum and one `Arc` pointer to the
//! session, plus moka's own bookkeeping; the index holds the key, the pointer and the
//! deadline again; the session itself is one shared allocation. BENCHMARKS.md gives the
//! measured bytes per typical AuthRocket 2 session.

mod hot;
mod index;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest;
use moka::Expiry;

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

/// What a cached verification concluded. Only two things are ever stored: a valid session,
/// or the session API's definitive "no such session" (404).
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    Valid(Session),
    Revoked,
}

/// A cache entry: the outcome and until when it may be reused (Unix milliseconds, so the hot
/// table can give its copies the very same deadline).
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) outcome: Outcome,
    deadline_ms: i64,
}

struct PerEntryTtl;

impl Expiry<Key, Entry> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &Key,
        value: &Entry,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(Duration::from_millis(
            u64::try_from(value.deadline_ms - now_millis()).unwrap_or(0),
        ))
    }
}

/// Unix time in milliseconds.
pub(crate) fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// `true` when `session`'s token has reached its `exp` at `now_ms`: a cached copy must not
/// be served any more (a fresh check then applies the leeway rules).
fn past_exp(session: &Session, now_ms: i64) -> bool {
    session
        .expires_at()
        .is_some_and(|exp| exp.saturating_mul(1000) <= now_ms)
}

/// `min(ttl × jitter, exp − now)`. `jitter` is `Some(key)` for online entries.
pub(crate) fn lifetime(ttl: Duration, exp: Option<i64>, jitter: Option<&Key>) -> Duration {
    let mut life = ttl;
    if let Some(k) = jitter {
        // 80 % + up to 20 %, from two key bytes: uniform, per token, never above the TTL.
        let frac = f64::from(u16::from_le_bytes([k[0], k[1]])) / f64::from(u16::MAX);
        life = ttl.mul_f64(0.8 + 0.2 * frac);
    }
    if let Some(exp) = exp {
        let left_ms = exp.saturating_mul(1000).saturating_sub(now_millis());
        life = life.min(Duration::from_millis(u64::try_from(left_ms).unwrap_or(0)));
    }
    life
}

/// Cache hit and miss counters, readable from the [`Verifier`](crate::Verifier).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CacheStats {
    /// Verifications answered from the cache.
    pub hits: u64,
    /// Verifications that had to do the work (including those that joined another's).
    pub misses: u64,
    /// Entries currently held (approximate: moka applies writes lazily).
    pub entries: u64,
}

pub(crate) struct Cache {
    inner: moka::future::Cache<Key, Entry>,
    index: Arc<Index>,
    hot: Hot,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("stats", &self.stats())
            .finish()
    }
}

impl Cache {
    pub(crate) fn new(capacity: u64) -> Self {
        let index = Arc::new(Index::new());
        let evicted = Arc::clone(&index);
        Self {
            inner: moka::future::Cache::builder()
                .max_capacity(capacity)
                .expire_after(PerEntryTtl)
                .eviction_listener(move |key: Arc<Key>, entry: Entry, _cause| {
                    if let Outcome::Valid(session) = &entry.outcome {
                        evicted.remove(&key, session);
                    }
                })
                .build(),
            index,
            hot: Hot::new(capacity),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub(crate) fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.inner.entry_count(),
        }
    }

    pub(crate) async fn run_pending_tasks(&self) {
        self.inner.run_pending_tasks().await;
    }

    /// The session for `token` from the hot table, if it is there and still valid. No hashing,
    /// no locking beyond one uncontended slot, no allocation.
    pub(crate) fn hot(&self, token: &str) -> Option<Session> {
        let now = now_millis();
        let session = self.hot.get(token, now)?;
        if past_exp(&session, now) {
            return None;
        }
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(session)
    }

    /// A usable cached outcome for `token` (whose key is `key`), if any: from the index
    /// (valid sessions, no moka bookkeeping), else from moka (revoked entries). A valid session
    /// past its `exp` is dropped; a valid one is promoted into the hot table.
    pub(crate) async fn get(&self, token: &str, key: &Key) -> Option<Result<Session, VerifyError>> {
        let now = now_millis();
        let (session, deadline_ms) = match self.index.get(key, now) {
            Some(hit) => hit,
            // Not indexed: a revoked entry, or (rarely) one being replaced or evicted.
            None => {
                let entry = self.inner.get(key).await?;
                match entry.outcome {
                    Outcome::Valid(session) => (session, entry.deadline_ms),
                    Outcome::Revoked => {
                        self.hits.fetch_add(1, Ordering::Relaxed);
                        return Some(Err(VerifyError::Revoked));
                    }
                }
            }
        };
        if past_exp(&session, now) {
            self.inner.invalidate(key).await;
            return None;
        }
        self.hot.put(token, &session, deadline_ms);
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(Ok(session))
    }

    /// Run `verify` once for all concurrent callers of `key`, store what it concluded (when it
    /// is storable) and return it.
    pub(crate) async fn get_or_verify<F>(
        &self,
        token: &str,
        key: Key,
        verify: F,
    ) -> Result<Session, VerifyError>
    where
        F: Future<Output = Result<Entry, VerifyError>>,
    {
        self.misses.fetch_add(1, Ordering::Relaxed);
        let load = async {
            let entry = verify.await?;
            // Indexed before moka stores it, so moka's eviction listener always comes after.
            if let Outcome::Valid(session) = &entry.outcome {
                self.index.insert(key, session, entry.deadline_ms);
            }
            Ok(entry)
        };
        match self.inner.try_get_with(key, load).await {
            Ok(entry) => match entry.outcome {
                Outcome::Valid(s) => {
                    self.hot.put(token, &s, entry.deadline_ms);
                    Ok(s)
                }
                Outcome::Revoked => Err(VerifyError::Revoked),
            },
            Err(shared) => Err(Arc::unwrap_or_clone(shared)),
        }
    }
}

fn deadline(ttl: Duration) -> i64 {
    now_millis().saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX))
}

impl Entry {
    pub(crate) fn valid(session: Session, ttl: Duration) -> Self {
        Self {
            outcome: Outcome::Valid(session),
            deadline_ms: deadline(ttl),
        }
    }

    pub(crate) fn revoked(ttl: Duration) -> Self {
        Self {
            outcome: Outcome::Revoked,
            deadline_ms: deadline(ttl),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::RawClaims;
    use crate::session::Generation;

    fn session() -> Session {
        let claims = RawClaims::parse(br#"{"sub":"usr_1"}"#).unwrap();
        Session::new(claims.to_session(Generation::V2))
    }

    async fn store(cache: &Cache, token: &str, session: &Session, ttl: Duration) -> Session {
        let entry = Entry::valid(session.clone(), ttl);
        cache
            .get_or_verify(token, key(token), async { Ok(entry) })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn the_index_never_holds_more_than_the_cache() {
        let cache = Cache::new(8);
        let s = session();
        for i in 0..200 {
            store(&cache, &format!("token-{i}"), &s, Duration::from_secs(60)).await;
        }
        cache.run_pending_tasks().await;
        let held = cache.inner.entry_count();
        assert!(held <= 8, "moka holds {held}");
        assert_eq!(cache.index.len() as u64, held, "index and cache agree");
    }

    #[tokio::test]
    async fn invalidated_entries_leave_the_index() {
        let cache = Cache::new(100);
        let s = session();
        store(&cache, "token-a", &s, Duration::from_secs(60)).await;
        assert!(cache.get("token-a", &key("token-a")).await.is_some());
        cache.inner.invalidate(&key("token-a")).await;
        assert_eq!(cache.index.len(), 0);
        assert!(cache.get("token-a", &key("token-a")).await.is_none());
    }

    #[tokio::test]
    async fn a_late_eviction_never_removes_the_newer_session() {
        let cache = Cache::new(100);
        let (old, new) = (session(), session());
        store(&cache, "token-a", &old, Duration::from_millis(20)).await;
        tokio::time::sleep(Duration::from_millis(40)).await;
        // The old entry expired; verifying again stores a new session for the same key, and
        // moka's eviction notice for the old one arrives afterwards.
        let got = store(&cache, "token-a", &new, Duration::from_secs(60)).await;
        assert!(got.ptr_eq(&new));
        cache.run_pending_tasks().await;
        let (hit, _) = cache
            .index
            .get(&key("token-a"), now_millis())
            .expect("indexed");
        assert!(hit.ptr_eq(&new));
    }

    #[tokio::test]
    async fn expired_index_entries_are_not_served() {
        let cache = Cache::new(100);
        store(&cache, "token-a", &session(), Duration::from_millis(20)).await;
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert!(cache.index.get(&key("token-a"), now_millis()).is_none());
        assert!(cache.get("token-a", &key("token-a")).await.is_none());
    }
}

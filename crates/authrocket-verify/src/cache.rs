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
//! * **Bounded**: at most `capacity` entries, TinyLFU admission and LRU eviction (moka).
//!
//! Memory: an entry holds the 32-byte key, a small enum and one `Arc` pointer to the session,
//! plus moka's own bookkeeping; the session itself is one shared allocation. BENCHMARKS.md
//! gives the measured bytes per typical AuthRocket 2 session.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest;
use moka::Expiry;

use crate::error::VerifyError;
use crate::session::Session;

/// SHA-256 of a token.
pub(crate) type Key = [u8; 32];

/// The cache key of `token`.
pub(crate) fn key(token: &str) -> Key {
    let d = digest::digest(&digest::SHA256, token.as_bytes());
    let mut k = [0u8; 32];
    k.copy_from_slice(d.as_ref());
    k
}

/// What a cached verification concluded.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    Valid(Session),
    Rejected(VerifyError),
}

/// A cache entry: the outcome and how long it may be reused.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) outcome: Outcome,
    ttl: Duration,
}

struct PerEntryTtl;

impl Expiry<Key, Entry> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &Key,
        value: &Entry,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// Unix time in milliseconds.
pub(crate) fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
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
        Self {
            inner: moka::future::Cache::builder()
                .max_capacity(capacity)
                .expire_after(PerEntryTtl)
                .build(),
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

    /// A usable cached outcome for `key`, if any. A valid session past its `exp` is dropped.
    pub(crate) async fn get(&self, key: &Key) -> Option<Result<Session, VerifyError>> {
        let entry = self.inner.get(key).await?;
        let result = match entry.outcome {
            Outcome::Valid(session) => {
                if session
                    .expires_at()
                    .is_some_and(|exp| exp.saturating_mul(1000) <= now_millis())
                {
                    self.inner.invalidate(key).await;
                    return None;
                }
                Ok(session)
            }
            Outcome::Rejected(e) => Err(e),
        };
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(result)
    }

    /// Run `verify` once for all concurrent callers of `key`, store what it concluded (when it
    /// is storable) and return it.
    pub(crate) async fn get_or_verify<F>(&self, key: Key, verify: F) -> Result<Session, VerifyError>
    where
        F: Future<Output = Result<Entry, VerifyError>>,
    {
        self.misses.fetch_add(1, Ordering::Relaxed);
        match self.inner.try_get_with(key, verify).await {
            Ok(entry) => match entry.outcome {
                Outcome::Valid(s) => Ok(s),
                Outcome::Rejected(e) => Err(e),
            },
            Err(shared) => Err(Arc::unwrap_or_clone(shared)),
        }
    }
}

impl Entry {
    pub(crate) fn valid(session: Session, ttl: Duration) -> Self {
        Self {
            outcome: Outcome::Valid(session),
            ttl,
        }
    }

    pub(crate) fn rejected(error: VerifyError, ttl: Duration) -> Self {
        Self {
            outcome: Outcome::Rejected(error),
            ttl,
        }
    }
}

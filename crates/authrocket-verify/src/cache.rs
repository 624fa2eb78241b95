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
//! * **Hot table** in front: the most recently used valid tokens, compared in full, so a
//!   token seen a moment ago skips the SHA-256 and the moka lookup (see `Hot`).
//!
//! Memory: an entry holds the 32-byte key, a small enum and one `Arc` pointer to the session,
//! plus moka's own bookkeeping; the session itself is one shared allocation. BENCHMARKS.md
//! gives the measured bytes per typical AuthRocket 2 session.

use std::sync::Arc;
use std::sync::Mutex;
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
        Self {
            inner: moka::future::Cache::builder()
                .max_capacity(capacity)
                .expire_after(PerEntryTtl)
                .build(),
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

    /// A usable cached outcome for `token` (whose key is `key`), if any. A valid session past
    /// its `exp` is dropped; a valid one is promoted into the hot table.
    pub(crate) async fn get(&self, token: &str, key: &Key) -> Option<Result<Session, VerifyError>> {
        let entry = self.inner.get(key).await?;
        let result = match entry.outcome {
            Outcome::Valid(session) => {
                if past_exp(&session, now_millis()) {
                    self.inner.invalidate(key).await;
                    return None;
                }
                self.hot.put(token, &session, entry.deadline_ms);
                Ok(session)
            }
            Outcome::Revoked => Err(VerifyError::Revoked),
        };
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(result)
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
        match self.inner.try_get_with(key, verify).await {
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

/// Slots in the hot table at most.
const HOT_SLOTS_MAX: usize = 4096;

struct HotEntry {
    token: Box<str>,
    session: Session,
    deadline_ms: i64,
}

/// The hot table: a small direct-mapped array of recently used *valid* tokens in front of the
/// moka cache, so a token seen a moment ago costs neither a SHA-256 nor a moka lookup.
///
/// * A slot holds the **whole token** and a hit compares it in full (SPEC §5's other
///   collision-safe key): a different token can never hit.
/// * The slot is chosen from the token's last characters (its signature, effectively random).
///   Only tokens that verified are ever stored, so crafted tokens cannot evict anything.
/// * A slot's deadline is its moka entry's own deadline, and `exp` is re-checked on every hit:
///   a hot hit never outlives what the cache itself would serve.
/// * Memory: at most 4 096 slots of one token plus one shared session each, about 0.8 KiB per
///   occupied slot with typical tokens (≈ 3 MiB when full), on top of the cache.
struct Hot {
    slots: Box<[Mutex<Option<HotEntry>>]>,
    mask: usize,
}

impl Hot {
    fn new(capacity: u64) -> Self {
        let n = usize::try_from(capacity)
            .unwrap_or(HOT_SLOTS_MAX)
            .clamp(1, HOT_SLOTS_MAX)
            .next_power_of_two();
        Self {
            slots: (0..n).map(|_| Mutex::new(None)).collect(),
            mask: n - 1,
        }
    }

    fn slot(&self, token: &str) -> &Mutex<Option<HotEntry>> {
        let bytes = token.as_bytes();
        let tail = &bytes[bytes.len().saturating_sub(8)..];
        let mut x = 0u64;
        for &b in tail {
            x = (x << 8) | u64::from(b);
        }
        let i = (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize & self.mask;
        &self.slots[i]
    }

    fn get(&self, token: &str, now_ms: i64) -> Option<Session> {
        let slot = self.slot(token).lock().unwrap_or_else(|e| e.into_inner());
        let e = slot.as_ref()?;
        (now_ms < e.deadline_ms && *e.token == *token).then(|| e.session.clone())
    }

    fn put(&self, token: &str, session: &Session, deadline_ms: i64) {
        let mut slot = self.slot(token).lock().unwrap_or_else(|e| e.into_inner());
        if slot
            .as_ref()
            .is_some_and(|e| *e.token == *token && e.deadline_ms == deadline_ms)
        {
            return;
        }
        *slot = Some(HotEntry {
            token: token.into(),
            session: session.clone(),
            deadline_ms,
        });
    }
}

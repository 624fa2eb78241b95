//! The revocation set: sessions that ended before their expiry (a logout, an admin delete, a
//! password change), refused on every verification path until they would have expired.
//!
//! * Filled by AuthRocket's `session.deleted` events (see [`events`](crate::events)) and by
//!   [`Verifier::revoke_session`](crate::Verifier::revoke_session).
//! * **Checked on every path**, offline included, the hot table and every cache hit: a
//!   revoked session answers `revoked` at once. With the set empty the check is one atomic
//!   load; otherwise one keyed hash of the session id and one lookup in a shard.
//! * **Bounded**: an entry leaves when its session's `expires_at` (plus the leeway) has
//!   passed — swept from a shard whenever something is added to it, and from all of them as
//!   the count is read, at the cost of what expired only (each shard keeps its ids by expiry
//!   time too) — so the set holds only sessions that could still be presented. On top
//!   of that, at most `capacity` entries (default 1 000 000): past it the
//!   entry that expires soonest in the shard makes room, with a warning, once. Events are
//!   only applied after the session API confirmed them, so nobody can fill the set with
//!   made-up ones.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

/// Shards of the set.
const SHARDS: usize = 16;

/// The default most revoked sessions held.
pub(crate) const DEFAULT_CAPACITY: usize = 1_000_000;

/// One shard: session id → revoked until (ms), and the same ids by time, soonest first, so
/// sweeping costs only what has expired. An id whose time was extended leaves a stale heap
/// entry behind, skipped when it comes up.
struct Shard {
    until: HashMap<Arc<str>, i64, RandomState>,
    by_time: BinaryHeap<Reverse<(i64, Arc<str>)>>,
}

impl Shard {
    fn new(hasher: RandomState) -> Self {
        Self {
            until: HashMap::with_hasher(hasher),
            by_time: BinaryHeap::new(),
        }
    }

    /// Drop the entries whose time has passed by `now_ms`; how many.
    fn sweep(&mut self, now_ms: i64) -> usize {
        let mut removed = 0;
        while let Some(Reverse((at, _))) = self.by_time.peek() {
            if *at > now_ms {
                break;
            }
            let Some(Reverse((at, id))) = self.by_time.pop() else {
                break;
            };
            // Only when the map still says this time (not extended since).
            if self.until.get(&id) == Some(&at) {
                self.until.remove(&id);
                removed += 1;
            }
        }
        removed
    }

    /// Drop the live entry that expires soonest.
    fn evict_soonest(&mut self) -> bool {
        while let Some(Reverse((at, id))) = self.by_time.pop() {
            if self.until.get(&id) == Some(&at) {
                self.until.remove(&id);
                return true;
            }
        }
        false
    }
}

pub(crate) struct Revocations {
    shards: Box<[RwLock<Shard>]>,
    /// Keyed hashing, so nobody can choose ids that land in one place.
    hasher: RandomState,
    len: AtomicUsize,
    capacity: usize,
    full_logged: AtomicBool,
}

impl std::fmt::Debug for Revocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revocations")
            .field("len", &self.len.load(Ordering::Relaxed))
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl Revocations {
    pub(crate) fn new(capacity: usize) -> Self {
        let hasher = RandomState::new();
        Self {
            shards: (0..SHARDS)
                .map(|_| RwLock::new(Shard::new(hasher.clone())))
                .collect(),
            hasher,
            len: AtomicUsize::new(0),
            capacity: capacity.max(SHARDS),
            full_logged: AtomicBool::new(false),
        }
    }

    fn shard(&self, session_id: &str) -> &RwLock<Shard> {
        let h = self.hasher.hash_one(session_id);
        &self.shards[usize::try_from(h >> 60).unwrap_or(0) % SHARDS]
    }

    /// Whether `session_id` is revoked at `now_ms`.
    pub(crate) fn contains(&self, session_id: &str, now_ms: i64) -> bool {
        if self.len.load(Ordering::Relaxed) == 0 {
            return false;
        }
        let shard = self
            .shard(session_id)
            .read()
            .unwrap_or_else(|e| e.into_inner());
        shard
            .until
            .get(session_id)
            .is_some_and(|&until| now_ms < until)
    }

    /// Revoke `session_id` until `until_ms` (its expiry plus the leeway); a later `until`
    /// of an entry already there wins.
    pub(crate) fn insert(&self, session_id: &str, until_ms: i64, now_ms: i64) {
        if until_ms <= now_ms {
            return; // already expired: nothing to refuse
        }
        let mut shard = self
            .shard(session_id)
            .write()
            .unwrap_or_else(|e| e.into_inner());
        let removed = shard.sweep(now_ms);
        self.len.fetch_sub(removed, Ordering::Relaxed);
        if let Some((id, until)) = shard.until.get_key_value(session_id) {
            if *until < until_ms {
                let id = Arc::clone(id);
                shard.until.insert(Arc::clone(&id), until_ms);
                shard.by_time.push(Reverse((until_ms, id)));
            }
            return;
        }
        if shard.until.len() >= self.capacity / SHARDS {
            if !self.full_logged.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    capacity = self.capacity,
                    "authrocket: the revocation set is full; the sessions that expire soonest \
                     make room (logged once)"
                );
            }
            if shard.evict_soonest() {
                self.len.fetch_sub(1, Ordering::Relaxed);
            }
        }
        let id: Arc<str> = session_id.into();
        shard.until.insert(Arc::clone(&id), until_ms);
        shard.by_time.push(Reverse((until_ms, id)));
        self.len.fetch_add(1, Ordering::Relaxed);
    }

    /// Sessions held, after dropping those whose time has passed.
    pub(crate) fn len(&self, now_ms: i64) -> usize {
        for shard in self.shards.iter() {
            let mut shard = shard.write().unwrap_or_else(|e| e.into_inner());
            let removed = shard.sweep(now_ms);
            self.len.fetch_sub(removed, Ordering::Relaxed);
        }
        self.len.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoked_until_the_time_given_then_gone() {
        let set = Revocations::new(1000);
        assert!(!set.contains("kss_a", 0));
        set.insert("kss_a", 10_000, 0);
        assert!(set.contains("kss_a", 9_999));
        assert!(!set.contains("kss_a", 10_000));
        assert!(!set.contains("kss_b", 0));
        // A later expiry for the same session extends it; an earlier one does not shorten it.
        set.insert("kss_a", 20_000, 0);
        set.insert("kss_a", 15_000, 0);
        assert!(set.contains("kss_a", 19_999));
        assert_eq!(set.len(0), 1);
        assert_eq!(set.len(15_000), 1, "the extended time holds, not the first");
        assert!(set.contains("kss_a", 15_000));
        assert_eq!(set.len(20_000), 0, "swept once expired");
        // Already expired: not even stored.
        set.insert("kss_old", 5, 10);
        assert_eq!(set.len(10), 0);
    }

    #[test]
    fn bounded_by_its_capacity_dropping_what_expires_soonest() {
        let set = Revocations::new(160);
        for i in 0..1000 {
            set.insert(&format!("kss_{i}"), 1_000_000 + i, 0);
        }
        assert!(set.len(0) <= 160);
        assert!(set.contains("kss_999", 0), "the latest-expiring are kept");
    }
}

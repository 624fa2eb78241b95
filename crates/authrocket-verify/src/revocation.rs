//! The revocation set: sessions that ended before their expiry (a logout, an admin delete, a
//! password change), refused on every verification path until they would have expired.
//!
//! * Filled by AuthRocket's `session.deleted` events (see [`events`](crate::events)) and by
//!   [`Verifier::revoke_session`](crate::Verifier::revoke_session).
//! * **Checked on every path**, offline included, the hot table and every cache hit: a
//!   revoked session answers `revoked` at once. With the set empty the check is one atomic
//!   load; otherwise one lookup in a shard, by the session's key — a keyed 64-bit hash of its
//!   id, computed once when the session is verified, so no string is hashed per request.
//!   Only keys are held, never ids: about 40 bytes per revoked session.
//! * **Bounded**: an entry leaves when its session's `expires_at` (plus the leeway) has
//!   passed — swept from a shard whenever something is added to it, and from all of them as
//!   the count is read, at the cost of what expired only (each shard keeps its keys by expiry
//!   time too) — so the set holds only sessions that could still be presented. On top of
//!   that, at most `capacity` entries (default 1 000 000): past it the entry that expires
//!   soonest in the shard makes room, with a warning, once. Events are only applied after
//!   the session API confirmed them, so nobody can fill the set with made-up ones.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::session::SessionKey;

/// Shards of the set.
const SHARDS: usize = 16;

/// The default most revoked sessions held.
pub(crate) const DEFAULT_CAPACITY: usize = 1_000_000;

/// Session keys are already keyed hashes: the table uses them as they are.
#[derive(Default)]
struct AsIs(u64);

impl Hasher for AsIs {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `u64`s are hashed here; anything else is folded in all the same.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// One shard: session key → revoked until (ms), and the same keys by time, soonest first, so
/// sweeping costs only what has expired. A key whose time was extended leaves a stale heap
/// entry behind, skipped when it comes up.
#[derive(Default)]
struct Shard {
    until: HashMap<u64, i64, BuildHasherDefault<AsIs>>,
    by_time: BinaryHeap<Reverse<(i64, u64)>>,
}

impl Shard {
    /// Drop the entries whose time has passed by `now_ms`; how many.
    fn sweep(&mut self, now_ms: i64) -> usize {
        let mut removed = 0;
        while let Some(&Reverse((at, key))) = self.by_time.peek() {
            if at > now_ms {
                break;
            }
            self.by_time.pop();
            // Only when the map still says this time (not extended since).
            if self.until.get(&key) == Some(&at) {
                self.until.remove(&key);
                removed += 1;
            }
        }
        removed
    }

    /// Drop the live entry that expires soonest.
    fn evict_soonest(&mut self) -> bool {
        while let Some(Reverse((at, key))) = self.by_time.pop() {
            if self.until.get(&key) == Some(&at) {
                self.until.remove(&key);
                return true;
            }
        }
        false
    }
}

pub(crate) struct Revocations {
    shards: Box<[RwLock<Shard>]>,
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
        Self {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            len: AtomicUsize::new(0),
            capacity: capacity.max(SHARDS),
            full_logged: AtomicBool::new(false),
        }
    }

    fn shard(&self, key: SessionKey) -> &RwLock<Shard> {
        &self.shards[usize::try_from(key.0 >> 60).unwrap_or(0) % SHARDS]
    }

    /// Whether the session with this key is revoked at `now_ms`.
    pub(crate) fn contains(&self, key: SessionKey, now_ms: i64) -> bool {
        if self.len.load(Ordering::Relaxed) == 0 {
            return false;
        }
        let shard = self.shard(key).read().unwrap_or_else(|e| e.into_inner());
        shard.until.get(&key.0).is_some_and(|&until| now_ms < until)
    }

    /// Revoke the session with this key until `until_ms` (its expiry plus the leeway); a
    /// later `until` of an entry already there wins.
    pub(crate) fn insert(&self, key: SessionKey, until_ms: i64, now_ms: i64) {
        if until_ms <= now_ms {
            return; // already expired: nothing to refuse
        }
        let mut shard = self.shard(key).write().unwrap_or_else(|e| e.into_inner());
        let removed = shard.sweep(now_ms);
        self.len.fetch_sub(removed, Ordering::Relaxed);
        if let Some(until) = shard.until.get_mut(&key.0) {
            if *until < until_ms {
                *until = until_ms;
                shard.by_time.push(Reverse((until_ms, key.0)));
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
        shard.until.insert(key.0, until_ms);
        shard.by_time.push(Reverse((until_ms, key.0)));
        let len = self.len.fetch_add(1, Ordering::Relaxed) + 1;
        crate::meters::revocations(len);
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

    fn k(id: &str) -> SessionKey {
        SessionKey::of(id)
    }

    #[test]
    fn revoked_until_the_time_given_then_gone() {
        let set = Revocations::new(1000);
        assert!(!set.contains(k("kss_a"), 0));
        set.insert(k("kss_a"), 10_000, 0);
        assert!(set.contains(k("kss_a"), 9_999));
        assert!(!set.contains(k("kss_a"), 10_000));
        assert!(!set.contains(k("kss_b"), 0));
        // A later expiry for the same session extends it; an earlier one does not shorten it.
        set.insert(k("kss_a"), 20_000, 0);
        set.insert(k("kss_a"), 15_000, 0);
        assert!(set.contains(k("kss_a"), 19_999));
        assert_eq!(set.len(0), 1);
        assert_eq!(set.len(15_000), 1, "the extended time holds, not the first");
        assert!(set.contains(k("kss_a"), 15_000));
        assert_eq!(set.len(20_000), 0, "swept once expired");
        // Already expired: not even stored.
        set.insert(k("kss_old"), 5, 10);
        assert_eq!(set.len(10), 0);
    }

    #[test]
    fn bounded_by_its_capacity_dropping_what_expires_soonest() {
        let set = Revocations::new(160);
        for i in 0..1000 {
            set.insert(SessionKey::of(&format!("kss_{i}")), 1_000_000 + i, 0);
        }
        assert!(set.len(0) <= 160);
        assert!(
            set.contains(k("kss_999"), 0),
            "the latest-expiring are kept"
        );
    }
}

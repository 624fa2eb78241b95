//! Admission on second sight: a token whose verification is cheap to repeat (offline) enters
//! the cache only the second time it is verified.
//!
//! Storing costs a SHA-256 of the token and an insert (with an eviction when full) — about a
//! third of an HS256 verification. A token used once (a one-off client, a scanner, a stream
//! of more active tokens than the cache holds) would pay it for nothing and push out sessions
//! in use. So the first sight only notes the token's tail key in a small direct-mapped table
//! (one atomic store); a second sight while the note is still there stores it. The price is
//! one extra verification per token (≈ 2 µs HS256, 15 µs RS256); online and hybrid
//! verifications, which cost an API call, are admitted at once.
//!
//! [`Usefulness`] goes one step further for offline verification: when the store keeps
//! evicting sessions that were never used again (more active tokens than it holds: whatever
//! is stored is pushed out before its next use), it is consulted, and filled, for one request
//! in 16 only, until the sessions it evicts have been used again. The other requests are
//! verified as if there were no cache — which is what it came to anyway — without paying for
//! a lookup that misses and an insert that is wasted.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// The most notes kept: 64 Ki (512 KiB).
const MAX_NOTES: usize = 1 << 16;

pub(super) struct SecondSight {
    notes: Box<[AtomicU64]>,
    mask: usize,
}

impl SecondSight {
    pub(super) fn new(capacity: u64) -> Self {
        let n = usize::try_from(capacity)
            .unwrap_or(MAX_NOTES)
            .clamp(1, MAX_NOTES)
            .next_power_of_two();
        Self {
            notes: (0..n).map(|_| AtomicU64::new(0)).collect(),
            mask: n - 1,
        }
    }

    /// `true` when the token with tail `key` was seen before (and its note is still there);
    /// otherwise note it and say `false`.
    pub(super) fn seen_before(&self, key: u64) -> bool {
        let note = &self.notes[usize::try_from(key).unwrap_or(0) & self.mask];
        note.swap(key, Ordering::Relaxed) == key
    }
}

/// Evictions per judgement of the store's usefulness.
const WINDOW: u64 = 1024;
/// While bypassed, one request in this many still consults the store.
const SAMPLE: u32 = 16;

/// Whether what the store keeps gets used: over a window of [`WINDOW`] evictions, when fewer
/// than one evicted session in 32 had ever been used, the store is bypassed but for samples.
#[derive(Default)]
pub(super) struct Usefulness {
    /// Evictions in the high 32 bits, evictions of sessions that had been used in the low.
    window: AtomicU64,
    bypass: AtomicBool,
    tick: AtomicU32,
}

impl Usefulness {
    /// Whether this request should consult (and may fill) the store.
    pub(super) fn consult(&self) -> bool {
        !self.bypass.load(Ordering::Relaxed)
            || self
                .tick
                .fetch_add(1, Ordering::Relaxed)
                .is_multiple_of(SAMPLE)
    }

    /// Count one eviction, and whether the evicted session had ever been used.
    pub(super) fn evicted(&self, was_used: bool) {
        let add = (1 << 32) | u64::from(was_used);
        let counted = self.window.fetch_add(add, Ordering::Relaxed) + add;
        let (evictions, used) = (counted >> 32, counted & 0xFFFF_FFFF);
        if evictions >= WINDOW {
            self.window.store(0, Ordering::Relaxed);
            self.bypass.store(used * 32 < evictions, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_second_sight_admits() {
        let s = SecondSight::new(1024);
        assert!(!s.seen_before(42));
        assert!(s.seen_before(42));
        assert!(s.seen_before(42));
        // Another key in the same note replaces it.
        assert!(!s.seen_before(42 + 1024));
        assert!(!s.seen_before(42));
    }

    #[test]
    fn a_store_that_evicts_unused_sessions_is_bypassed_until_they_are_used() {
        let u = Usefulness::default();
        for _ in 0..WINDOW {
            assert!(u.consult());
            u.evicted(false);
        }
        let consulted = (0..1600).filter(|_| u.consult()).count();
        assert_eq!(consulted, 100, "one in sixteen");
        // Evicted sessions that had been used bring it back.
        for _ in 0..WINDOW {
            u.evicted(true);
        }
        assert!((0..100).all(|_| u.consult()));
    }
}

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

use std::sync::atomic::{AtomicU64, Ordering};

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
}

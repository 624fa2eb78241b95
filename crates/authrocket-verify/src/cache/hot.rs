//! The hot table: the most recently used valid tokens, compared in full.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::session::Session;

/// Slots in the hot table at most.
const HOT_SLOTS_MAX: usize = 4096;

struct HotEntry {
    /// The whole token.
    token: String,
    session: Session,
    deadline_ms: i64,
}

/// The hot table: a small direct-mapped array of recently used *valid* tokens in front of the
/// cache, so a token seen a moment ago costs neither a SHA-256 nor an index lookup.
///
/// * A slot holds the **whole token** and a hit compares it in full (the other
///   collision-safe key): a different token can never hit.
/// * The slot is chosen from the token's last characters (its signature, effectively random).
///   Only tokens that verified are ever stored, so crafted tokens cannot evict anything.
/// * A slot's deadline is its store entry's own deadline (which never passes the token's
///   `exp`): a hot hit never outlives what the cache itself would serve.
/// * Beside the slots, an array of the slots' token tails (last eight bytes) is read without
///   locking: a token that is not in its slot is told apart by one load from a small array,
///   without taking the slot's lock or touching the stored token.
/// * Memory: at most 4 096 slots of one token plus one shared session each, about 0.8 KiB per
///   occupied slot with typical tokens (≈ 3 MiB when full), on top of the cache.
pub(super) struct Hot {
    slots: Box<[Mutex<Option<HotEntry>>]>,
    /// The tail of the token in each slot (0: empty), kept in step under the slot's lock.
    tails: Box<[AtomicU64]>,
    mask: usize,
}

impl Hot {
    pub(super) fn new(capacity: u64) -> Self {
        let n = usize::try_from(capacity)
            .unwrap_or(HOT_SLOTS_MAX)
            .clamp(1, HOT_SLOTS_MAX)
            .next_power_of_two();
        Self {
            slots: (0..n).map(|_| Mutex::new(None)).collect(),
            tails: (0..n).map(|_| AtomicU64::new(0)).collect(),
            mask: n - 1,
        }
    }

    /// The token's slot index, and its last eight bytes (never 0, the empty mark).
    fn slot(&self, token: &str) -> (usize, u64) {
        let bytes = token.as_bytes();
        let tail = &bytes[bytes.len().saturating_sub(8)..];
        let mut x = 0u64;
        for &b in tail {
            x = (x << 8) | u64::from(b);
        }
        let i = (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize & self.mask;
        (i, x.max(1))
    }

    pub(super) fn get(&self, token: &str, now_ms: i64) -> Option<Session> {
        let (i, tail) = self.slot(token);
        if self.tails[i].load(Ordering::Relaxed) != tail {
            return None;
        }
        let slot = self.slots[i].lock().unwrap_or_else(|e| e.into_inner());
        let e = slot.as_ref()?;
        (now_ms < e.deadline_ms && *e.token == *token).then(|| e.session.clone())
    }

    /// Empty every slot whose session does not pass `keep`.
    pub(super) fn retain(&self, keep: impl Fn(&Session) -> bool) {
        for (slot, tail) in self.slots.iter().zip(self.tails.iter()) {
            let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
            if slot.as_ref().is_some_and(|e| !keep(&e.session)) {
                *slot = None;
                tail.store(0, Ordering::Relaxed);
            }
        }
    }

    pub(super) fn put(&self, token: &str, session: &Session, deadline_ms: i64) {
        let (i, tail) = self.slot(token);
        let mut slot = self.slots[i].lock().unwrap_or_else(|e| e.into_inner());
        match &mut *slot {
            Some(e) if *e.token == *token && e.deadline_ms == deadline_ms => {}
            _ => {
                *slot = Some(HotEntry {
                    token: token.to_owned(),
                    session: session.clone(),
                    deadline_ms,
                });
                self.tails[i].store(tail, Ordering::Relaxed);
            }
        }
    }
}

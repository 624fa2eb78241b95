//! [`Store`]: a bounded map from tokens to verdicts, cheap to miss.
//!
//! * **Found by the token's tail, confirmed by its SHA-256.** An entry is filed under a
//!   64-bit key mixed from the token's last 16 bytes (signature bytes: random for genuine
//!   tokens) and holds the SHA-256 of the whole token. A lookup that finds nothing under the
//!   tail key is a miss without hashing the token; one that finds an entry compares the
//!   SHA-256 before answering. So a hit needs the full 256-bit digest to match — a token
//!   crafted to share a cached token's tail only costs itself one SHA-256 — and a miss costs
//!   a hash-map probe.
//! * **Bounded** at `capacity` entries in up to 64 shards of at least 64 entries, each an
//!   `RwLock` around a map and a fixed array of slots. Hits take a read lock and set a flag.
//! * **CLOCK eviction**: when a shard is full, its hand sweeps the slots and takes the first
//!   that is expired or was not used since the hand last passed (clearing the flags it
//!   passes): recently used sessions survive, O(1) amortised, no allocation.
//! * Every deadline is read by the caller on the verifier's clock.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

use aws_lc_rs::digest;

/// SHA-256 of a token.
pub(crate) type Digest = [u8; 32];

/// The SHA-256 of `token`.
pub(crate) fn digest(token: &str) -> Digest {
    let d = digest::digest(&digest::SHA256, token.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// The 64-bit key a token is filed under: its last 16 bytes, mixed.
pub(crate) fn tail_key(token: &str) -> u64 {
    let bytes = token.as_bytes();
    let mut tail = [0u8; 16];
    let n = bytes.len().min(16);
    tail[16 - n..].copy_from_slice(&bytes[bytes.len() - n..]);
    let (hi, lo) = tail.split_at(8);
    let mut x = u64::from_le_bytes(lo.try_into().unwrap_or_default())
        ^ u64::from_le_bytes(hi.try_into().unwrap_or_default()).rotate_left(29);
    // A multiply-xorshift finaliser, so both the bucket bits and the tag bits vary.
    x ^= x >> 32;
    x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^ (x >> 29)
}

/// Keys are already mixed: the map uses them as their own hash.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

struct Slot<V> {
    key: u64,
    digest: Digest,
    value: V,
    deadline_ms: i64,
    used: AtomicBool,
}

struct Shard<V> {
    map: HashMap<u64, u32, BuildHasherDefault<KeyHasher>>,
    slots: Vec<Option<Slot<V>>>,
    free: Vec<u32>,
    hand: usize,
}

/// What a lookup found.
pub(crate) enum Found<V> {
    /// The token's verdict, with its deadline.
    Live(V, i64),
    /// The token's entry, past its deadline.
    Stale,
    /// Nothing for this token.
    Absent,
}

/// A bounded, sharded map from tokens to `V`. See the module docs.
pub(crate) struct Store<V> {
    shards: Box<[RwLock<Shard<V>>]>,
    per_shard: usize,
}

impl<V: Clone> Store<V> {
    /// A store of at most `capacity` entries (at least 1).
    pub(crate) fn new(capacity: u64) -> Self {
        let capacity = usize::try_from(capacity).unwrap_or(usize::MAX).max(1);
        // Up to 64 shards (a power of two), each of at least 64 entries, so that CLOCK has
        // room to keep what is used.
        let shards = 1usize << (capacity / 64).clamp(1, 64).ilog2();
        let per_shard = capacity / shards;
        Self {
            shards: (0..shards)
                .map(|_| {
                    RwLock::new(Shard {
                        map: HashMap::default(),
                        slots: Vec::new(),
                        free: Vec::new(),
                        hand: 0,
                    })
                })
                .collect(),
            per_shard,
        }
    }

    fn shard(&self, key: u64) -> &RwLock<Shard<V>> {
        // The high bits pick the shard; the map inside uses the low ones.
        let index = usize::try_from(key >> 58).unwrap_or(0) % self.shards.len();
        &self.shards[index]
    }

    /// The entry of the token filed under `key` whose SHA-256 is `digest` (computed only if
    /// an entry is filed under `key`), judged at `now_ms`.
    pub(crate) fn get(&self, key: u64, digest: impl FnOnce() -> Digest, now_ms: i64) -> Found<V> {
        let candidate = {
            let shard = self.shard(key).read().unwrap_or_else(|e| e.into_inner());
            let Some(slot) = shard
                .map
                .get(&key)
                .and_then(|&i| shard.slots.get(usize::try_from(i).ok()?))
                .and_then(Option::as_ref)
            else {
                return Found::Absent;
            };
            slot.used.store(true, Ordering::Relaxed);
            (slot.digest, slot.value.clone(), slot.deadline_ms)
        };
        let (stored, value, deadline_ms) = candidate;
        match () {
            _ if stored != digest() => Found::Absent,
            _ if now_ms >= deadline_ms => Found::Stale,
            _ => Found::Live(value, deadline_ms),
        }
    }

    /// File `value` for the token with `key` and `digest` until `deadline_ms`, replacing
    /// what was filed under `key`, evicting another entry when the shard is full.
    pub(crate) fn insert(&self, key: u64, digest: Digest, value: V, deadline_ms: i64, now_ms: i64) {
        let mut guard = self.shard(key).write().unwrap_or_else(|e| e.into_inner());
        let shard = &mut *guard;
        let slot = Slot {
            key,
            digest,
            value,
            deadline_ms,
            used: AtomicBool::new(false),
        };
        let index = match shard.map.get(&key) {
            Some(&i) => i,
            None => {
                let Some(i) = shard.free_slot(self.per_shard, now_ms) else {
                    return;
                };
                shard.map.insert(key, i);
                i
            }
        };
        if let Some(place) = usize::try_from(index)
            .ok()
            .and_then(|i| shard.slots.get_mut(i))
        {
            *place = Some(slot);
        }
    }

    /// Remove the entry of the token with `key` and `digest`, if it is still filed.
    pub(crate) fn remove(&self, key: u64, digest: &Digest) {
        let mut guard = self.shard(key).write().unwrap_or_else(|e| e.into_inner());
        let shard = &mut *guard;
        let Some(&index) = shard.map.get(&key) else {
            return;
        };
        let i = usize::try_from(index).unwrap_or(usize::MAX);
        if shard
            .slots
            .get(i)
            .and_then(Option::as_ref)
            .is_some_and(|s| s.digest == *digest)
        {
            shard.map.remove(&key);
            shard.slots[i] = None;
            shard.free.push(index);
        }
    }

    /// Entries held.
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().unwrap_or_else(|e| e.into_inner()).map.len())
            .sum()
    }
}

impl<V> Shard<V> {
    /// A slot for a new entry: a free one, a new one while below `limit`, else the CLOCK
    /// hand's victim (whose key leaves the map). `None` only when `limit` is zero.
    fn free_slot(&mut self, limit: usize, now_ms: i64) -> Option<u32> {
        if let Some(i) = self.free.pop() {
            return Some(i);
        }
        if self.slots.len() < limit {
            self.slots.push(None);
            return u32::try_from(self.slots.len() - 1).ok();
        }
        if self.slots.is_empty() {
            return None;
        }
        // Two sweeps at most: the first clears every flag it passes.
        for _ in 0..2 * self.slots.len() {
            let i = self.hand;
            self.hand = (self.hand + 1) % self.slots.len();
            let victim = match &self.slots[i] {
                None => true,
                Some(s) => s.deadline_ms <= now_ms || !s.used.swap(false, Ordering::Relaxed),
            };
            if victim {
                if let Some(old) = self.slots[i].take() {
                    self.map.remove(&old.key);
                }
                return u32::try_from(i).ok();
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(store: &Store<u32>, token: &str, value: u32, deadline_ms: i64) {
        store.insert(tail_key(token), digest(token), value, deadline_ms, 0);
    }

    fn get(store: &Store<u32>, token: &str, now_ms: i64) -> Option<u32> {
        match store.get(tail_key(token), || digest(token), now_ms) {
            Found::Live(v, _) => Some(v),
            _ => None,
        }
    }

    #[test]
    fn a_hit_needs_the_whole_digest() {
        let store = Store::new(100);
        put(&store, "header.payload.SIGNATURE-TAIL-16", 1, 1000);
        assert_eq!(get(&store, "header.payload.SIGNATURE-TAIL-16", 0), Some(1));
        // Same tail (same key), different token: found under the key, refused by the digest.
        assert_eq!(get(&store, "forged.payload.SIGNATURE-TAIL-16", 0), None);
        assert!(matches!(
            store.get(
                tail_key("x.y.SIGNATURE-TAIL-16"),
                || digest("x.y.SIGNATURE-TAIL-16"),
                0
            ),
            Found::Absent
        ));
    }

    #[test]
    fn deadlines_are_judged_at_the_time_given() {
        let store = Store::new(100);
        put(&store, "a.b.c", 1, 1000);
        assert_eq!(get(&store, "a.b.c", 999), Some(1));
        assert!(matches!(
            store.get(tail_key("a.b.c"), || digest("a.b.c"), 1000),
            Found::Stale
        ));
        store.remove(tail_key("a.b.c"), &digest("a.b.c"));
        assert_eq!(store.len(), 0);
    }

    #[test]
    fn never_more_than_the_capacity_and_used_entries_survive() {
        for capacity in [1, 3, 8, 100, 1000] {
            let store = Store::new(capacity);
            for i in 0..capacity * 5 {
                put(&store, &format!("token-{i}"), 0, i64::MAX);
            }
            assert!(
                store.len() as u64 <= capacity,
                "{} > {capacity}",
                store.len()
            );
        }
        // A session in use keeps its place while new tokens stream through.
        let store = Store::new(64);
        put(&store, "kept.in.use", 7, i64::MAX);
        for i in 0..10_000 {
            assert_eq!(get(&store, "kept.in.use", 0), Some(7), "evicted after {i}");
            put(&store, &format!("stream-{i}"), 0, i64::MAX);
        }
    }
}

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
//!   `RwLock` around a map holding the entries inline (a lookup is one probe). Hits take a
//!   read lock and set a flag.
//! * **CLOCK eviction**: when a shard is full, its hand (a queue of the shard's keys) takes
//!   the first entry that is expired or was not used since the hand last passed, giving used
//!   ones a second chance: recently used sessions survive, O(1) amortised.
//! * Every deadline is read by the caller on the verifier's clock.

use std::collections::{HashMap, VecDeque};
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
    digest: Digest,
    value: V,
    deadline_ms: i64,
    used: AtomicBool,
}

struct Shard<V> {
    /// The entries, inline: a lookup is one probe.
    map: HashMap<u64, Slot<V>, BuildHasherDefault<KeyHasher>>,
    /// The keys in the order CLOCK visits them (the front is under the hand). Keys of
    /// entries removed since may linger until the hand reaches them.
    clock: VecDeque<u64>,
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
                        clock: VecDeque::new(),
                    })
                })
                .collect(),
            per_shard,
        }
    }

    fn shard(&self, key: u64) -> &RwLock<Shard<V>> {
        // Middle bits pick the shard: the map inside uses the low bits for the bucket and
        // the top seven as its tag, which must stay varied within a shard.
        let index = usize::try_from(key >> 32).unwrap_or(0) % self.shards.len();
        &self.shards[index]
    }

    /// The entry of the token filed under `key` whose SHA-256 is `digest` (computed only if
    /// an entry is filed under `key`), judged at `now_ms`.
    pub(crate) fn get(&self, key: u64, digest: impl FnOnce() -> Digest, now_ms: i64) -> Found<V> {
        let (stored, value, deadline_ms) = {
            let shard = self.shard(key).read().unwrap_or_else(|e| e.into_inner());
            let Some(slot) = shard.map.get(&key) else {
                return Found::Absent;
            };
            slot.used.store(true, Ordering::Relaxed);
            (slot.digest, slot.value.clone(), slot.deadline_ms)
        };
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
            digest,
            value,
            deadline_ms,
            used: AtomicBool::new(false),
        };
        if let Some(place) = shard.map.get_mut(&key) {
            *place = slot;
            return;
        }
        if shard.map.len() >= self.per_shard {
            shard.evict(now_ms);
        }
        shard.map.insert(key, slot);
        shard.clock.push_back(key);
        if shard.clock.len() > 2 * self.per_shard + 64 {
            // Keys of removed entries piled up: drop them.
            let map = &shard.map;
            shard.clock.retain(|k| map.contains_key(k));
        }
    }

    /// Remove the entry of the token with `key` and `digest`, if it is still filed.
    pub(crate) fn remove(&self, key: u64, digest: &Digest) {
        let mut guard = self.shard(key).write().unwrap_or_else(|e| e.into_inner());
        if guard.map.get(&key).is_some_and(|s| s.digest == *digest) {
            guard.map.remove(&key);
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
    /// Make room for one entry: the hand takes the first entry that is expired or was not
    /// used since it last passed, giving used ones a second chance (and clearing their flag).
    fn evict(&mut self, now_ms: i64) {
        // Every entry is visited at most twice: the first visit clears its flag.
        for _ in 0..2 * self.clock.len() {
            let Some(key) = self.clock.pop_front() else {
                return;
            };
            let Some(slot) = self.map.get(&key) else {
                continue; // removed earlier
            };
            if slot.deadline_ms > now_ms && slot.used.swap(false, Ordering::Relaxed) {
                self.clock.push_back(key);
                continue;
            }
            self.map.remove(&key);
            return;
        }
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

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
//!   `RwLock` around an open-addressing table whose entries are one cache line each (key,
//!   digest, deadline, value): a lookup usually reads one line, a hit then touches the
//!   session itself. Tables grow by doubling up to 3/4 full at capacity. Hits take a read
//!   lock and set a flag.
//! * **CLOCK eviction**: when a shard is full, its hand sweeps the table and takes the first
//!   entry that is expired or was not used since the hand last passed, giving used ones a
//!   second chance: recently used sessions survive, O(1) amortised.
//! * Every deadline is read by the caller on the verifier's clock.

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
    // A multiply-xorshift finaliser, so the low bits (the place in a table) and the middle
    // ones (the shard) all vary.
    x ^= x >> 32;
    x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^ (x >> 29)
}

/// One entry, on a cache line of its own: key, digest, deadline and value are read by one
/// memory access.
#[repr(align(64))]
struct Line<V> {
    key: u64,
    digest: Digest,
    deadline_ms: i64,
    /// `None`: an empty line.
    value: Option<V>,
    /// Used since the CLOCK hand last passed.
    used: AtomicBool,
    /// Ever used since stored.
    ever_used: AtomicBool,
}

impl<V> Line<V> {
    fn empty() -> Self {
        Self {
            key: 0,
            digest: [0; 32],
            deadline_ms: 0,
            value: None,
            used: AtomicBool::new(false),
            ever_used: AtomicBool::new(false),
        }
    }
}

/// An open-addressing table (linear probing, backward-shift deletion) that grows by doubling
/// up to its final size, and never holds more than `limit` entries (at most 3/4 full).
struct Shard<V> {
    lines: Vec<Line<V>>,
    len: usize,
    limit: usize,
    /// The CLOCK hand: an index into `lines`.
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
}

impl<V: Clone> Store<V> {
    /// A store of at most `capacity` entries (at least 1).
    pub(crate) fn new(capacity: u64) -> Self {
        let capacity = usize::try_from(capacity).unwrap_or(usize::MAX).max(1);
        // Up to 64 shards (a power of two), each of at least 64 entries, so that CLOCK has
        // room to keep what is used.
        let shards = 1usize << (capacity / 64).clamp(1, 64).ilog2();
        let limit = capacity / shards;
        Self {
            shards: (0..shards)
                .map(|_| RwLock::new(Shard::new(limit)))
                .collect(),
        }
    }

    fn shard(&self, key: u64) -> &RwLock<Shard<V>> {
        // Middle bits pick the shard: the table inside starts from the low bits.
        let index = usize::try_from(key >> 32).unwrap_or(0) % self.shards.len();
        &self.shards[index]
    }

    /// The entry of the token filed under `key` whose SHA-256 is `digest` (computed only if
    /// an entry is filed under `key`), judged at `now_ms`.
    pub(crate) fn get(&self, key: u64, digest: impl FnOnce() -> Digest, now_ms: i64) -> Found<V> {
        let (stored, value, deadline_ms) = {
            let shard = self.shard(key).read().unwrap_or_else(|e| e.into_inner());
            let Some(line) = shard.find(key).map(|i| &shard.lines[i]) else {
                return Found::Absent;
            };
            let Some(value) = &line.value else {
                return Found::Absent;
            };
            line.used.store(true, Ordering::Relaxed);
            line.ever_used.store(true, Ordering::Relaxed);
            (line.digest, value.clone(), line.deadline_ms)
        };
        match () {
            _ if stored != digest() => Found::Absent,
            _ if now_ms >= deadline_ms => Found::Stale,
            _ => Found::Live(value, deadline_ms),
        }
    }

    /// File `value` for the token with `key` and `digest` until `deadline_ms`, replacing
    /// what was filed under `key`, evicting another entry when the shard is full. Returns
    /// whether the evicted entry had ever been used, when one was evicted.
    pub(crate) fn insert(
        &self,
        key: u64,
        digest: Digest,
        value: V,
        deadline_ms: i64,
        now_ms: i64,
    ) -> Option<bool> {
        let mut shard = self.shard(key).write().unwrap_or_else(|e| e.into_inner());
        let line = Line {
            key,
            digest,
            deadline_ms,
            value: Some(value),
            used: AtomicBool::new(false),
            ever_used: AtomicBool::new(false),
        };
        if let Some(i) = shard.find(key) {
            shard.lines[i] = line;
            return None;
        }
        let evicted = (shard.len >= shard.limit)
            .then(|| shard.evict(now_ms))
            .flatten();
        shard.put(line);
        evicted
    }

    /// Remove the entry of the token with `key` and `digest`, if it is still filed.
    pub(crate) fn remove(&self, key: u64, digest: &Digest) {
        let mut shard = self.shard(key).write().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = shard.find(key)
            && shard.lines[i].digest == *digest
        {
            shard.remove_at(i);
        }
    }

    /// Keep only the entries whose value passes `keep`.
    pub(crate) fn retain(&self, keep: impl Fn(&V) -> bool) {
        for shard in self.shards.iter() {
            let mut shard = shard.write().unwrap_or_else(|e| e.into_inner());
            let mut i = 0;
            while i < shard.lines.len() {
                match &shard.lines[i].value {
                    Some(v) if !keep(v) => shard.remove_at(i), // a later entry may move here
                    _ => i += 1,
                }
            }
        }
    }

    /// Entries held.
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().unwrap_or_else(|e| e.into_inner()).len)
            .sum()
    }
}

impl<V> Shard<V> {
    fn new(limit: usize) -> Self {
        Self {
            lines: Vec::new(),
            len: 0,
            limit,
            hand: 0,
        }
    }

    fn mask(&self) -> usize {
        self.lines.len().wrapping_sub(1)
    }

    fn home(&self, key: u64) -> usize {
        usize::try_from(key).unwrap_or(0) & self.mask()
    }

    /// The index of the entry filed under `key`, if any.
    fn find(&self, key: u64) -> Option<usize> {
        if self.lines.is_empty() {
            return None;
        }
        let mut i = self.home(key);
        loop {
            let line = &self.lines[i];
            line.value.as_ref()?;
            if line.key == key {
                return Some(i);
            }
            i = (i + 1) & self.mask();
        }
    }

    /// Put `line` (whose key is not filed) in the first empty place from its home, growing
    /// the table first when it would be more than 3/4 full.
    fn put(&mut self, line: Line<V>) {
        if (self.len + 1) * 4 > self.lines.len() * 3 {
            self.grow();
        }
        let mut i = self.home(line.key);
        while self.lines[i].value.is_some() {
            i = (i + 1) & self.mask();
        }
        self.lines[i] = line;
        self.len += 1;
    }

    /// Double the table (to at least 16 lines) and put every entry back.
    fn grow(&mut self) {
        let size = (self.lines.len() * 2).max(16);
        let old = std::mem::replace(&mut self.lines, (0..size).map(|_| Line::empty()).collect());
        self.len = 0;
        self.hand = 0;
        for line in old.into_iter().filter(|l| l.value.is_some()) {
            self.put(line);
        }
    }

    /// Empty line `i`, moving later entries of its probe run back so none becomes
    /// unreachable.
    fn remove_at(&mut self, mut i: usize) {
        self.lines[i] = Line::empty();
        self.len -= 1;
        let mut j = i;
        loop {
            j = (j + 1) & self.mask();
            if self.lines[j].value.is_none() {
                return;
            }
            let home = self.home(self.lines[j].key);
            // The entry at `j` may stay where it is if its home lies in (i, j], cyclically.
            let stays = if i <= j {
                i < home && home <= j
            } else {
                i < home || home <= j
            };
            if !stays {
                self.lines.swap(i, j);
                i = j;
            }
        }
    }

    /// Make room for one entry: the hand takes the first entry that is expired or was not
    /// used since it last passed, giving used ones a second chance (and clearing their flag).
    /// Returns whether the entry taken had ever been used.
    fn evict(&mut self, now_ms: i64) -> Option<bool> {
        // Every line is visited at most twice: the first visit clears its flag.
        for _ in 0..2 * self.lines.len() {
            let i = self.hand;
            self.hand = (self.hand + 1) & self.mask();
            let line = &self.lines[i];
            if line.value.is_none() {
                continue;
            }
            if line.deadline_ms > now_ms && line.used.swap(false, Ordering::Relaxed) {
                continue;
            }
            let ever_used = line.ever_used.load(Ordering::Relaxed);
            self.remove_at(i);
            return Some(ever_used);
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
    fn an_entry_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<Line<crate::session::Session>>(), 64);
        assert_eq!(std::mem::size_of::<Line<()>>(), 64);
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
        // Removal keeps every other entry reachable.
        let store = Store::new(64);
        for i in 0..48 {
            put(&store, &format!("t-{i}"), i, i64::MAX);
        }
        for i in (0..48).step_by(3) {
            let t = format!("t-{i}");
            store.remove(tail_key(&t), &digest(&t));
        }
        for i in 0..48 {
            let expected = (i % 3 != 0).then_some(i);
            assert_eq!(get(&store, &format!("t-{i}"), 0), expected, "t-{i}");
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

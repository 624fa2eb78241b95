//! The session index: every valid session the moka cache holds, by key, readable without
//! touching moka.
//!
//! Why: each moka `get` records the access in a read log, and every 64th reader runs moka's
//! maintenance for all 64 inline (frequency sketch, access-order deque). With a million
//! entries those are cache misses, and that one request in 64 waits 10–40 µs: the hit
//! latency's p99 grows with the cache. Hits served here never record an access, so no reader
//! pays for maintenance; moka still decides what is stored and evicted, and keeps its
//! single-flight, admission, expiry and bound.
//!
//! Consistency: a session enters the index while moka's loader runs, before moka stores it,
//! and leaves through moka's eviction listener (expiry, size, invalidation), which removes it
//! only if the index still holds that very session. So the index never holds more than the
//! cache. The cache re-checks each hit's deadline and the token's `exp` on the verifier's clock.
//!
//! The trade-off: moka's admission and eviction see verifications, not hits, so under capacity
//! pressure the entries verified longest ago go first rather than the least recently used.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::RwLock;

use super::Key;
use crate::session::Session;

/// Shards: enough that concurrent readers and the writer rarely meet on one lock.
const SHARDS: usize = 64;

struct Indexed {
    session: Session,
    deadline_ms: i64,
}

/// The keys are SHA-256 digests, already uniform: the hasher uses eight of their bytes as is
/// (SipHash would cost more than the lookup). Lookups still compare all 32 bytes.
#[derive(Default)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // `[u8; 32]` hashes as its length (`write_usize`, ignored) and then its bytes.
        if let Some(word) = bytes.first_chunk::<8>() {
            self.0 = u64::from_le_bytes(*word);
        }
    }

    fn write_usize(&mut self, _len: usize) {}
}

type Shard = HashMap<Key, Indexed, BuildHasherDefault<DigestHasher>>;

pub(super) struct Index {
    shards: Box<[RwLock<Shard>]>,
}

impl Index {
    pub(super) fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
        }
    }

    fn shard(&self, key: &Key) -> &RwLock<Shard> {
        // The last byte picks the shard; the first eight hash within it.
        &self.shards[usize::from(key[31]) % SHARDS]
    }

    /// The session under `key` with its deadline (the caller judges the deadline).
    pub(super) fn get(&self, key: &Key) -> Option<(Session, i64)> {
        let shard = self.shard(key).read().unwrap_or_else(|e| e.into_inner());
        let hit = shard.get(key)?;
        Some((hit.session.clone(), hit.deadline_ms))
    }

    pub(super) fn insert(&self, key: Key, session: &Session, deadline_ms: i64) {
        let mut shard = self.shard(&key).write().unwrap_or_else(|e| e.into_inner());
        shard.insert(
            key,
            Indexed {
                session: session.clone(),
                deadline_ms,
            },
        );
    }

    /// Remove `key` if it still maps to `session` (and not to a newer verification of the same
    /// token stored since).
    pub(super) fn remove(&self, key: &Key, session: &Session) {
        let mut shard = self.shard(key).write().unwrap_or_else(|e| e.into_inner());
        if shard.get(key).is_some_and(|e| e.session.ptr_eq(session)) {
            shard.remove(key);
        }
    }

    /// Sessions held (for tests).
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }
}

//! [`SessionKey`]: a session id as a keyed 64-bit hash, computed once per session, so the
//! revocation check on every request is a table lookup with no string hashing.

use std::hash::{BuildHasher, RandomState};
use std::sync::OnceLock;

/// A session id, hashed with this process's secret key. Two ids sharing a key is a chance of
/// one in 2⁶⁴ per pair, and would only ever refuse a session (never accept one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct SessionKey(pub(crate) u64);

impl SessionKey {
    /// The key of `session_id`.
    pub(crate) fn of(session_id: &str) -> Self {
        static HASHER: OnceLock<RandomState> = OnceLock::new();
        Self(HASHER.get_or_init(RandomState::new).hash_one(session_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_id_gives_the_same_key() {
        assert_eq!(SessionKey::of("kss_a"), SessionKey::of("kss_a"));
        assert_ne!(SessionKey::of("kss_a"), SessionKey::of("kss_b"));
    }
}

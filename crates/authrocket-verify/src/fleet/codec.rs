//! What the fleet tier writes to Redis, and how it reads it back without trusting Redis.
//!
//! * **Keys** are `authrocket:{namespace}:…`; a verdict's key ends with the hex SHA-256 of
//!   its token: never the token.
//! * **Verdicts** are sealed: `"ar1"`, an HMAC-SHA256 tag, when it was stored and until when
//!   it may be used (Unix milliseconds, big-endian), then the session as JSON. The tag covers
//!   the namespace, the key's digest, both times and the JSON, under a key Redis never sees:
//!   a value written by anyone else, or moved to another token's key, is refused.

use std::borrow::Cow;

use aws_lc_rs::{digest, hmac};
use serde::Deserialize;

use crate::cache::Digest;
use crate::session::{Draft, DraftMembership, Generation, Session, SessionData};

const MAGIC: &[u8; 3] = b"ar1";
const TAG: usize = 32;
const HEADER: usize = MAGIC.len() + TAG + 8 + 8;

/// The names this deployment uses in Redis.
#[derive(Debug, Clone)]
pub(crate) struct Names {
    namespace: String,
}

impl Names {
    /// Names under `realm` when it is a plain id, else under a digest of `site` (the
    /// AuthRocket or LoginRocket URL): instances of one app agree, other realms differ.
    pub(crate) fn new(realm: Option<&str>, site: &str) -> Self {
        let plain = |r: &&str| {
            !r.is_empty()
                && r.len() <= 64
                && r.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        let namespace = match realm.filter(plain) {
            Some(realm) => realm.to_owned(),
            None => {
                let d = digest::digest(&digest::SHA256, site.as_bytes());
                format!("u-{}", hex(&d.as_ref()[..8]))
            }
        };
        Self { namespace }
    }

    /// The key of the verdict for the token whose SHA-256 is `digest`.
    pub(crate) fn verdict(&self, digest: &Digest) -> String {
        format!("authrocket:{}:session:{}", self.namespace, hex(digest))
    }

    /// The key an instance sets while it asks the session API about the token whose SHA-256
    /// is `digest`, so the others wait for its answer instead of asking too.
    pub(crate) fn claim(&self, digest: &Digest) -> String {
        format!("authrocket:{}:asking:{}", self.namespace, hex(digest))
    }

    /// The sorted set of revoked session ids, scored by the Unix millisecond they expire.
    pub(crate) fn revoked(&self) -> String {
        format!("authrocket:{}:revoked", self.namespace)
    }

    /// The sorted set of users whose sessions were dropped (deleted, memberships changed),
    /// scored by when.
    pub(crate) fn forgotten(&self) -> String {
        format!("authrocket:{}:forgotten", self.namespace)
    }

    /// The channel revocations and forgotten users are announced on.
    pub(crate) fn channel(&self) -> String {
        format!("authrocket:{}:notices", self.namespace)
    }

    pub(crate) fn namespace(&self) -> &str {
        &self.namespace
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Seals and opens verdicts with the tag key.
pub(crate) struct Seal {
    key: hmac::Key,
}

impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seal([redacted])")
    }
}

/// A verdict read back from Redis.
#[derive(Debug)]
pub(crate) struct Opened {
    pub(crate) session: Session,
    pub(crate) stored_ms: i64,
    pub(crate) until_ms: i64,
}

/// Why a stored value was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The tag does not match: written by someone without the key, or for another token.
    Tampered,
    /// The tag matches but the session cannot be read (another version of this crate).
    Unreadable,
    /// Its time has passed.
    Expired,
}

impl Seal {
    /// The tag key, derived from `secret` (the API key, or the configured one).
    pub(crate) fn new(secret: &str) -> Self {
        let derive = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        let tag_key = hmac::sign(&derive, b"authrocket fleet verdicts v1");
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, tag_key.as_ref()),
        }
    }

    fn tag(&self, names: &Names, digest: &Digest, times: &[u8], json: &[u8]) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(names.namespace.as_bytes());
        ctx.update(&[0]);
        ctx.update(digest);
        ctx.update(times);
        ctx.update(json);
        ctx.sign()
    }

    /// The value to store for `session`, verified for the token whose SHA-256 is `digest`.
    pub(crate) fn seal(
        &self,
        names: &Names,
        digest: &Digest,
        session: &Session,
        stored_ms: i64,
        until_ms: i64,
    ) -> Option<Vec<u8>> {
        let json = serde_json::to_vec(session).ok()?;
        let mut times = [0u8; 16];
        times[..8].copy_from_slice(&stored_ms.to_be_bytes());
        times[8..].copy_from_slice(&until_ms.to_be_bytes());
        let tag = self.tag(names, digest, &times, &json);
        let mut out = Vec::with_capacity(HEADER + json.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(tag.as_ref());
        out.extend_from_slice(&times);
        out.extend_from_slice(&json);
        Some(out)
    }

    /// The session in `value`, if this deployment sealed it for this `digest` and it is
    /// still usable at `now_ms`.
    pub(crate) fn open(
        &self,
        names: &Names,
        digest: &Digest,
        value: &[u8],
        now_ms: i64,
    ) -> Result<Opened, Refusal> {
        if value.len() < HEADER || &value[..3] != MAGIC {
            return Err(Refusal::Tampered);
        }
        let (tag, rest) = value[3..].split_at(TAG);
        let (times, json) = rest.split_at(16);
        let expected = self.tag(names, digest, times, json);
        // Constant time: the comparison leaks nothing about the expected tag.
        if aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_ref(), tag).is_err() {
            return Err(Refusal::Tampered);
        }
        let time = |b: &[u8]| i64::from_be_bytes(b.try_into().unwrap_or([0; 8]));
        let (stored_ms, until_ms) = (time(&times[..8]), time(&times[8..]));
        if until_ms <= now_ms {
            return Err(Refusal::Expired);
        }
        let session = decode(json).ok_or(Refusal::Unreadable)?;
        if session
            .expires_at()
            .is_some_and(|exp| exp.saturating_mul(1000) <= now_ms)
        {
            return Err(Refusal::Expired);
        }
        Ok(Opened {
            session,
            stored_ms,
            until_ms,
        })
    }
}

/// A session as [`Session`]'s `Serialize` writes it.
#[derive(Deserialize)]
struct Stored<'a> {
    #[serde(borrow)]
    user: StoredUser<'a>,
    #[serde(borrow)]
    session_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    realm_id: Option<Cow<'a, str>>,
    issued_at: Option<i64>,
    expires_at: Option<i64>,
    #[serde(borrow)]
    memberships: Vec<StoredMembership<'a>>,
    generation: StoredGeneration,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum StoredGeneration {
    V1,
    V2,
}

#[derive(Deserialize)]
struct StoredUser<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    first_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    last_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    username: Option<Cow<'a, str>>,
    #[serde(borrow)]
    email: Option<Cow<'a, str>>,
    email_verified: Option<bool>,
    #[serde(borrow)]
    reference: Option<Cow<'a, str>>,
    custom: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct StoredMembership<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    org: StoredOrg<'a>,
    #[serde(borrow)]
    permissions: Vec<Cow<'a, str>>,
    selected: bool,
    custom: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct StoredOrg<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    reference: Option<Cow<'a, str>>,
    custom: Option<serde_json::Value>,
}

fn decode(json: &[u8]) -> Option<Session> {
    let s: Stored<'_> = serde_json::from_slice(json).ok()?;
    let u = &s.user;
    let draft = Draft {
        generation: match s.generation {
            StoredGeneration::V1 => Generation::V1,
            StoredGeneration::V2 => Generation::V2,
        },
        user_id: &u.id,
        name: u.name.as_deref(),
        first_name: u.first_name.as_deref(),
        last_name: u.last_name.as_deref(),
        username: u.username.as_deref(),
        email: u.email.as_deref(),
        email_verified: u.email_verified,
        reference: u.reference.as_deref(),
        custom: u.custom.as_ref(),
        session_id: s.session_id.as_deref(),
        realm_id: s.realm_id.as_deref(),
        issued_at: s.issued_at,
        expires_at: s.expires_at,
    };
    let memberships = s.memberships.iter().map(|m| DraftMembership {
        id: m.id.as_deref(),
        org_id: m.org.id.as_deref(),
        org_name: m.org.name.as_deref(),
        org_reference: m.org.reference.as_deref(),
        selected: m.selected,
        custom: m.custom.as_ref(),
        org_custom: m.org.custom.as_ref(),
        permissions: m.permissions.iter().map(|p| &**p),
    });
    let data = SessionData::from_draft(draft, memberships).ok()?;
    Some(Session::new(data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::RawClaims;

    fn session() -> Session {
        let claims = RawClaims::parse(
            br#"{"sub":"usr_1","sid":"kss_1","rid":"rl_1","name":"Ann \"A\"","email":"a@example.com",
                "email_verified":true,"cs":{"plan":"pro"},"iat":1700000000,"exp":1900000000,
                "orgs":[{"mid":"mb_1","oid":"org_1","name":"Acme","ref":"acme","cs":{"x":1},
                         "perm":["ar:admin","forum:moderate"],"selected":true},
                        {"oid":"org_2","perm":[]}]}"#,
        )
        .unwrap();
        Session::new(claims.to_session(Generation::V2).unwrap())
    }

    fn names() -> Names {
        Names::new(Some("rl_1"), "https://example.authrocket.com/v2")
    }

    #[test]
    fn a_sealed_session_opens_as_itself() {
        let (seal, names, digest) = (Seal::new("ks_api_key"), names(), [7u8; 32]);
        let s = session();
        let value = seal.seal(&names, &digest, &s, 1_000, 9_000).unwrap();
        let opened = seal.open(&names, &digest, &value, 2_000).unwrap();
        assert_eq!(opened.session, s);
        assert_eq!((opened.stored_ms, opened.until_ms), (1_000, 9_000));
        assert_eq!(
            serde_json::to_value(&opened.session).unwrap(),
            serde_json::to_value(&s).unwrap()
        );
    }

    #[test]
    fn anything_not_sealed_by_this_key_for_this_token_is_refused() {
        let (seal, names, digest) = (Seal::new("ks_api_key"), names(), [7u8; 32]);
        let value = seal
            .seal(&names, &digest, &session(), 1_000, 9_000)
            .unwrap();
        let other = Seal::new("ks_another_key");
        assert_eq!(
            other.open(&names, &digest, &value, 2_000).unwrap_err(),
            Refusal::Tampered
        );
        assert_eq!(
            seal.open(&names, &[8u8; 32], &value, 2_000).unwrap_err(),
            Refusal::Tampered,
            "moved to another token's key"
        );
        let elsewhere = Names::new(Some("rl_2"), "https://example.authrocket.com/v2");
        assert_eq!(
            seal.open(&elsewhere, &digest, &value, 2_000).unwrap_err(),
            Refusal::Tampered
        );
        for i in 0..value.len() {
            let mut flipped = value.clone();
            flipped[i] ^= 1;
            assert!(
                seal.open(&names, &digest, &flipped, 2_000).is_err(),
                "byte {i}"
            );
        }
        assert!(seal.open(&names, &digest, &value[..40], 2_000).is_err());
        assert!(seal.open(&names, &digest, b"", 2_000).is_err());
        assert_eq!(
            seal.open(&names, &digest, &value, 9_000).unwrap_err(),
            Refusal::Expired
        );
    }

    #[test]
    fn names_hold_digests_never_tokens() {
        let names = Names::new(None, "https://example.authrocket.com/v2");
        assert!(names.namespace().starts_with("u-"));
        let key = names.verdict(&crate::cache::digest("eyJ.a.token"));
        assert!(!key.contains("eyJ"));
        assert_eq!(
            key.len(),
            "authrocket::session:".len() + names.namespace().len() + 64
        );
        assert_eq!(
            Names::new(Some("rl 1:*"), "x").namespace(),
            Names::new(None, "x").namespace(),
            "an odd realm is hashed"
        );
    }
}

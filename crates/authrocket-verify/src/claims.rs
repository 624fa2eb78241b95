//! AuthRocket 1 and 2 claim sets: strict parsing, validation (SPEC §3.4–3.7) and the mapping
//! to [`Session`](crate::Session).
//!
//! Parsing borrows from the decoded payload wherever the JSON has no escapes; a duplicate
//! claim, a wrongly typed claim or nesting deeper than serde_json's limit is `malformed`.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::error::VerifyError;
use crate::session::{Generation, NewMembership, NewSession, SessionData};

/// Latest time claim accepted: 9999-12-31T23:59:59Z. Anything later is absurd.
const MAX_TIME: i64 = 253_402_300_799;

/// A JSON time claim (`exp`, `nbf`, `iat`): a number of Unix seconds in range, or invalid.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeClaim {
    #[default]
    Absent,
    Valid(i64),
    /// Present but a string, boolean, null, non-finite, negative or absurd value.
    Invalid,
}

impl<'de> Deserialize<'de> for TimeClaim {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TimeClaim;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a NumericDate")
            }
            fn visit_i64<E>(self, v: i64) -> Result<TimeClaim, E> {
                Ok(if (0..=MAX_TIME).contains(&v) {
                    TimeClaim::Valid(v)
                } else {
                    TimeClaim::Invalid
                })
            }
            fn visit_u64<E>(self, v: u64) -> Result<TimeClaim, E> {
                Ok(match i64::try_from(v) {
                    Ok(v) if v <= MAX_TIME => TimeClaim::Valid(v),
                    _ => TimeClaim::Invalid,
                })
            }
            fn visit_f64<E>(self, v: f64) -> Result<TimeClaim, E> {
                if v.is_finite() && (0.0..=MAX_TIME as f64).contains(&v) {
                    // In range, so the cast is exact after flooring.
                    Ok(TimeClaim::Valid(v.floor() as i64))
                } else {
                    Ok(TimeClaim::Invalid)
                }
            }
            fn visit_bool<E>(self, _: bool) -> Result<TimeClaim, E> {
                Ok(TimeClaim::Invalid)
            }
            fn visit_str<E>(self, _: &str) -> Result<TimeClaim, E> {
                Ok(TimeClaim::Invalid)
            }
            fn visit_unit<E>(self) -> Result<TimeClaim, E> {
                Ok(TimeClaim::Invalid)
            }
            fn visit_none<E>(self) -> Result<TimeClaim, E> {
                Ok(TimeClaim::Invalid)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TimeClaim, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(TimeClaim::Invalid)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TimeClaim, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(TimeClaim::Invalid)
            }
        }
        d.deserialize_any(V)
    }
}

/// `aud`: a string or an array of strings (RFC 7519 §4.1.3).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, realm: &str) -> bool {
        match self {
            Self::One(a) => a == realm,
            Self::Many(all) => all.iter().any(|a| a == realm),
        }
    }

    fn single(&self) -> Option<&str> {
        match self {
            Self::One(a) => Some(a),
            Self::Many(all) => all.first().map(String::as_str),
        }
    }
}

type Text<'a> = Option<Cow<'a, str>>;

/// The union of AuthRocket 1 and 2 claims, borrowed from the payload where possible.
#[derive(Debug, Deserialize)]
pub(crate) struct RawClaims<'a> {
    #[serde(borrow, default)]
    iss: Text<'a>,
    #[serde(default)]
    exp: TimeClaim,
    #[serde(default)]
    nbf: TimeClaim,
    #[serde(default)]
    iat: TimeClaim,
    #[serde(default)]
    aud: Option<Audience>,
    // AuthRocket 2
    #[serde(borrow, default)]
    sub: Text<'a>,
    #[serde(borrow, default)]
    rid: Text<'a>,
    #[serde(borrow, default)]
    sid: Text<'a>,
    #[serde(borrow, default)]
    name: Text<'a>,
    #[serde(borrow, default)]
    given_name: Text<'a>,
    #[serde(borrow, default)]
    family_name: Text<'a>,
    #[serde(borrow, default)]
    preferred_username: Text<'a>,
    #[serde(borrow, default)]
    email: Text<'a>,
    #[serde(default)]
    email_verified: Option<bool>,
    #[serde(borrow, default, rename = "ref")]
    reference: Text<'a>,
    #[serde(borrow, default)]
    orgs: Option<Vec<RawOrgV2<'a>>>,
    // AuthRocket 1
    #[serde(borrow, default)]
    uid: Text<'a>,
    #[serde(borrow, default)]
    tk: Text<'a>,
    #[serde(borrow, default)]
    n: Text<'a>,
    #[serde(borrow, default, rename = "fn")]
    first_name_v1: Text<'a>,
    #[serde(borrow, default)]
    ln: Text<'a>,
    #[serde(borrow, default)]
    un: Text<'a>,
    #[serde(borrow, default)]
    m: Option<Vec<RawMemberV1<'a>>>,
    // Both
    #[serde(default)]
    cs: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct RawOrgV2<'a> {
    #[serde(borrow, default)]
    mid: Text<'a>,
    #[serde(borrow, default)]
    oid: Text<'a>,
    #[serde(borrow, default)]
    name: Text<'a>,
    #[serde(borrow, default, rename = "ref")]
    reference: Text<'a>,
    #[serde(default)]
    cs: Option<serde_json::Value>,
    #[serde(borrow, default)]
    perm: Option<Vec<Cow<'a, str>>>,
    #[serde(default)]
    selected: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct RawMemberV1<'a> {
    #[serde(borrow, default)]
    oid: Text<'a>,
    #[serde(borrow, default)]
    o: Text<'a>,
    #[serde(borrow, default)]
    p: Option<Vec<Cow<'a, str>>>,
    #[serde(default)]
    cs: Option<serde_json::Value>,
    #[serde(default)]
    ocs: Option<serde_json::Value>,
}

/// The claim rules of SPEC §3.4–3.7, fixed at build time.
#[derive(Debug, Clone)]
pub(crate) struct ClaimRules {
    /// Expected `iss`; `None` disables the check.
    pub(crate) issuer: Option<String>,
    /// Expected realm (`rid` / `aud`); `None` means "not configured".
    pub(crate) realm: Option<String>,
    /// Leeway in seconds for `exp`, `nbf` and `iat`.
    pub(crate) leeway: i64,
    /// Whether `exp` must be present.
    pub(crate) require_exp: bool,
}

impl<'a> RawClaims<'a> {
    /// Parse a decoded payload. Any JSON or type error is `malformed`.
    pub(crate) fn parse(payload: &'a [u8]) -> Result<Self, VerifyError> {
        serde_json::from_slice(payload).map_err(|_| VerifyError::malformed("claims are not valid"))
    }

    fn generation(&self) -> Result<Generation, VerifyError> {
        let id = match (&self.sub, &self.uid) {
            (Some(sub), _) => (sub, Generation::V2),
            (None, Some(uid)) => (uid, Generation::V1),
            (None, None) => return Err(VerifyError::invalid_claims("no user id (sub or uid)")),
        };
        if id.0.is_empty() {
            return Err(VerifyError::invalid_claims("empty user id"));
        }
        Ok(id.1)
    }

    /// Apply the claim rules at `now` (Unix seconds). Returns the token's generation.
    pub(crate) fn validate(&self, rules: &ClaimRules, now: i64) -> Result<Generation, VerifyError> {
        let leeway = rules.leeway;
        match self.exp {
            TimeClaim::Valid(exp) if now > exp.saturating_add(leeway) => {
                return Err(VerifyError::Expired);
            }
            TimeClaim::Valid(_) => {}
            TimeClaim::Invalid => {
                return Err(VerifyError::invalid_claims("exp is not a valid time"));
            }
            TimeClaim::Absent if rules.require_exp => {
                return Err(VerifyError::invalid_claims("exp is required"));
            }
            TimeClaim::Absent => {}
        }
        match self.nbf {
            TimeClaim::Valid(nbf) if now.saturating_add(leeway) < nbf => {
                return Err(VerifyError::NotYetValid);
            }
            TimeClaim::Invalid => {
                return Err(VerifyError::invalid_claims("nbf is not a valid time"));
            }
            _ => {}
        }
        match self.iat {
            TimeClaim::Valid(iat) if iat > now.saturating_add(leeway) => {
                return Err(VerifyError::NotYetValid);
            }
            TimeClaim::Invalid => {
                return Err(VerifyError::invalid_claims("iat is not a valid time"));
            }
            _ => {}
        }
        if let Some(expected) = &rules.issuer {
            if self.iss.as_deref() != Some(expected.as_str()) {
                return Err(VerifyError::WrongIssuer);
            }
        }
        match (&rules.realm, &self.aud) {
            (None, Some(_)) => {
                return Err(VerifyError::WrongRealm {
                    hint: " (the token carries an aud claim: set AUTHROCKET_REALM to accept it)",
                });
            }
            (Some(realm), Some(aud)) if !aud.contains(realm) => {
                return Err(VerifyError::WrongRealm { hint: "" });
            }
            _ => {}
        }
        if let (Some(realm), Some(rid)) = (&rules.realm, &self.rid) {
            if rid.as_ref() != realm.as_str() {
                return Err(VerifyError::WrongRealm { hint: "" });
            }
        }
        self.generation()
    }

    /// Map the claims of a validated token to session data, per SPEC's claim table.
    pub(crate) fn to_session(&self, generation: Generation) -> SessionData {
        let time = |t: TimeClaim| match t {
            TimeClaim::Valid(v) => Some(v),
            _ => None,
        };
        fn perms<'p>(p: &'p Option<Vec<Cow<'_, str>>>) -> Vec<&'p str> {
            p.as_deref()
                .unwrap_or_default()
                .iter()
                .map(AsRef::as_ref)
                .collect()
        }
        let (issued_at, expires_at) = (time(self.iat), time(self.exp));
        let new = match generation {
            Generation::V2 => NewSession {
                user_id: self.sub.as_deref().unwrap_or_default(),
                name: self.name.as_deref(),
                first_name: self.given_name.as_deref(),
                last_name: self.family_name.as_deref(),
                username: self.preferred_username.as_deref(),
                email: self.email.as_deref(),
                email_verified: self.email_verified,
                reference: self.reference.as_deref(),
                custom: self.cs.clone(),
                session_id: self.sid.as_deref(),
                realm_id: self.rid.as_deref(),
                issued_at,
                expires_at,
                memberships: self
                    .orgs
                    .iter()
                    .flatten()
                    .map(|o| NewMembership {
                        id: o.mid.as_deref(),
                        org_id: o.oid.as_deref(),
                        org_name: o.name.as_deref(),
                        reference: o.reference.as_deref(),
                        permissions: perms(&o.perm),
                        selected: o.selected.unwrap_or(false),
                        custom: o.cs.clone(),
                        org_custom: None,
                    })
                    .collect(),
                generation,
            },
            Generation::V1 => NewSession {
                user_id: self.uid.as_deref().unwrap_or_default(),
                name: self.n.as_deref(),
                first_name: self.first_name_v1.as_deref(),
                last_name: self.ln.as_deref(),
                username: self.un.as_deref(),
                email: None,
                email_verified: None,
                reference: None,
                custom: self.cs.clone(),
                session_id: self.tk.as_deref(),
                realm_id: self.aud.as_ref().and_then(Audience::single),
                issued_at,
                expires_at,
                memberships: self
                    .m
                    .iter()
                    .flatten()
                    .map(|m| NewMembership {
                        id: None,
                        org_id: m.oid.as_deref(),
                        org_name: m.o.as_deref(),
                        reference: None,
                        permissions: perms(&m.p),
                        selected: false,
                        custom: m.cs.clone(),
                        org_custom: m.ocs.clone(),
                    })
                    .collect(),
                generation,
            },
        };
        new.build()
    }
}

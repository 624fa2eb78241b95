//! AuthRocket 1 and 2 claim sets: strict parsing, validation (expiry, issuer, realm, user id) and the mapping
//! to [`Session`](crate::Session).
//!
//! Parsing borrows from the decoded payload wherever the JSON has no escapes. A duplicate
//! claim, a wrongly typed claim, a claim set or membership written as anything but a JSON
//! object, or nesting deeper than 128 levels is `malformed`.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::error::VerifyError;
use crate::json;
use crate::session::{Draft, DraftMembership, Generation, SessionData};

/// Latest time claim accepted: 9999-12-31T23:59:59Z. Anything later is absurd.
const MAX_TIME: i64 = 253_402_300_799;

/// A JSON time claim (`exp`, `nbf`, `iat`): a number of Unix seconds in range, or invalid.
///
/// A fractional value is never rounded toward acceptance: it counts as the whole second
/// before it where it ends validity (`exp`) and as the whole second after it where it starts
/// it (`nbf`, `iat`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeClaim {
    #[default]
    Absent,
    /// The value, rounded down (`floor`) and up (`ceil`); equal for whole seconds.
    Valid { floor: i64, ceil: i64 },
    /// Present but a string, boolean, null, non-finite, negative or absurd value.
    Invalid,
}

impl TimeClaim {
    fn whole(v: i64) -> Self {
        Self::Valid { floor: v, ceil: v }
    }

    /// The value rounded down, when valid.
    fn floor(self) -> Option<i64> {
        match self {
            Self::Valid { floor, .. } => Some(floor),
            _ => None,
        }
    }
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
                    TimeClaim::whole(v)
                } else {
                    TimeClaim::Invalid
                })
            }
            fn visit_u64<E>(self, v: u64) -> Result<TimeClaim, E> {
                Ok(match i64::try_from(v) {
                    Ok(v) if v <= MAX_TIME => TimeClaim::whole(v),
                    _ => TimeClaim::Invalid,
                })
            }
            fn visit_f64<E>(self, v: f64) -> Result<TimeClaim, E> {
                if v.is_finite() && (0.0..=MAX_TIME as f64).contains(&v) {
                    // In range, so the casts are exact after rounding.
                    Ok(TimeClaim::Valid {
                        floor: v.floor() as i64,
                        ceil: v.ceil() as i64,
                    })
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

/// A JSON string borrowed from the payload, or owned when it has escapes.
///
/// serde borrows a `Cow<str>` only when it is a field's whole type: inside `Option` or `Vec` a
/// `Cow` always allocates. This type borrows wherever it sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Str<'a>(Cow<'a, str>);

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Str<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

type Text<'a> = Option<Str<'a>>;

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
    #[serde(borrow, default, deserialize_with = "json::objects")]
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
    #[serde(borrow, default, deserialize_with = "json::objects")]
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
    perm: Option<Vec<Str<'a>>>,
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
    p: Option<Vec<Str<'a>>>,
    #[serde(default)]
    cs: Option<serde_json::Value>,
    #[serde(default)]
    ocs: Option<serde_json::Value>,
}

/// The claim rules (time claims and leeway, issuer, realm, `exp` required), fixed at build
/// time.
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
    /// Parse a decoded payload. Any JSON or type error, a claim set that is not a JSON
    /// object, or nesting deeper than 128 levels is `malformed`.
    pub(crate) fn parse(payload: &'a [u8]) -> Result<Self, VerifyError> {
        // One UTF-8 check of the whole payload is cheaper than serde_json's check per string.
        let text = std::str::from_utf8(payload)
            .map_err(|_| VerifyError::malformed("claims are not UTF-8"))?;
        json::parse_object(text).ok_or(VerifyError::malformed("claims are not valid"))
    }

    pub(crate) fn generation(&self) -> Result<Generation, VerifyError> {
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
            TimeClaim::Valid { floor: exp, .. } if now > exp.saturating_add(leeway) => {
                return Err(VerifyError::EXPIRED);
            }
            TimeClaim::Valid { .. } => {}
            TimeClaim::Invalid => {
                return Err(VerifyError::invalid_claims("exp is not a valid time"));
            }
            TimeClaim::Absent if rules.require_exp => {
                return Err(VerifyError::invalid_claims("exp is required"));
            }
            TimeClaim::Absent => {}
        }
        match self.nbf {
            TimeClaim::Valid { ceil: nbf, .. } if now.saturating_add(leeway) < nbf => {
                return Err(VerifyError::NOT_YET_VALID);
            }
            TimeClaim::Invalid => {
                return Err(VerifyError::invalid_claims("nbf is not a valid time"));
            }
            _ => {}
        }
        match self.iat {
            TimeClaim::Valid { ceil: iat, .. } if iat > now.saturating_add(leeway) => {
                return Err(VerifyError::NOT_YET_VALID);
            }
            TimeClaim::Invalid => {
                return Err(VerifyError::invalid_claims("iat is not a valid time"));
            }
            _ => {}
        }
        if let Some(expected) = &rules.issuer
            && self.iss.as_deref() != Some(expected.as_str())
        {
            return Err(VerifyError::WRONG_ISSUER);
        }
        match (&rules.realm, &self.aud) {
            (None, Some(_)) => {
                return Err(VerifyError::wrong_realm(true));
            }
            (Some(realm), Some(aud)) if !aud.contains(realm) => {
                return Err(VerifyError::wrong_realm(false));
            }
            _ => {}
        }
        if let (Some(realm), Some(rid)) = (&rules.realm, &self.rid)
            && **rid != *realm.as_str()
        {
            return Err(VerifyError::wrong_realm(false));
        }
        self.generation()
    }

    /// The parts of a draft both generations fill the same way.
    fn common<'s>(&'s self, generation: Generation, user_id: &'s Text<'a>) -> Draft<'s> {
        Draft {
            generation,
            user_id: user_id.as_deref().unwrap_or_default(),
            name: None,
            first_name: None,
            last_name: None,
            username: None,
            email: None,
            email_verified: None,
            reference: None,
            custom: self.cs.as_ref(),
            session_id: None,
            realm_id: None,
            issued_at: self.iat.floor(),
            expires_at: self.exp.floor(),
        }
    }

    /// Store the claims of a validated token as a session: the claim table of AuthRocket 2
    /// (`sub`, `sid`, `rid`, `orgs[]`) or AuthRocket 1 (`uid`, `tk`, `aud`, `m[]`).
    pub(crate) fn to_session(&self, generation: Generation) -> Result<SessionData, VerifyError> {
        match generation {
            Generation::V2 => SessionData::from_draft(
                Draft {
                    name: self.name.as_deref(),
                    first_name: self.given_name.as_deref(),
                    last_name: self.family_name.as_deref(),
                    username: self.preferred_username.as_deref(),
                    email: self.email.as_deref(),
                    email_verified: self.email_verified,
                    reference: self.reference.as_deref(),
                    session_id: self.sid.as_deref(),
                    realm_id: self.rid.as_deref(),
                    ..self.common(generation, &self.sub)
                },
                // `orgs[].ref` and `orgs[].cs` describe the org, as in the SDKs; an AR2
                // membership has no custom attributes of its own in the token.
                self.orgs.iter().flatten().map(|o| DraftMembership {
                    id: o.mid.as_deref(),
                    org_id: o.oid.as_deref(),
                    org_name: o.name.as_deref(),
                    org_reference: o.reference.as_deref(),
                    selected: o.selected.unwrap_or(false),
                    custom: None,
                    org_custom: o.cs.as_ref(),
                    permissions: o.perm.iter().flatten().map(|p| &**p),
                }),
            ),
            Generation::V1 => SessionData::from_draft(
                Draft {
                    name: self.n.as_deref(),
                    first_name: self.first_name_v1.as_deref(),
                    last_name: self.ln.as_deref(),
                    username: self.un.as_deref(),
                    session_id: self.tk.as_deref(),
                    realm_id: self.aud.as_ref().and_then(Audience::single),
                    ..self.common(generation, &self.uid)
                },
                self.m.iter().flatten().map(|m| DraftMembership {
                    id: None,
                    org_id: m.oid.as_deref(),
                    org_name: m.o.as_deref(),
                    org_reference: None,
                    selected: false,
                    custom: m.cs.as_ref(),
                    org_custom: m.ocs.as_ref(),
                    permissions: m.p.iter().flatten().map(|p| &**p),
                }),
            ),
        }
    }
}

#[cfg(feature = "test-util")]
impl crate::session::Session {
    /// A session with the claims a token would carry (AuthRocket 2: `sub`, `name`, `orgs`,
    /// …; or AuthRocket 1: `uid`, `m`, …), **without any token or verification**: for unit
    /// tests of code that takes a `Session`. Only with the `test-util` feature, which the
    /// test kit turns on (`authrocket_testkit::TokenBuilder::session`).
    ///
    /// ```
    /// let session = authrocket_verify::Session::from_claims_unverified(
    ///     &serde_json::json!({"sub": "usr_1", "name": "Frank", "orgs": [{"oid": "org_1", "perm": ["ar:admin"]}]}),
    /// )?;
    /// assert!(session.has_permission("ar:admin"));
    /// # Ok::<(), authrocket_verify::VerifyError>(())
    /// ```
    pub fn from_claims_unverified(claims: &serde_json::Value) -> Result<Self, VerifyError> {
        let text = claims.to_string();
        let raw = RawClaims::parse(text.as_bytes())?;
        let generation = raw.generation()?;
        Ok(Self::new(raw.to_session(generation)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_without_escapes_are_borrowed_from_the_payload() {
        let payload = br#"{"sub":"usr_1","name":"A \"B\"","orgs":[{"perm":["x","y\/z"]}]}"#;
        let claims = RawClaims::parse(payload).unwrap();
        let sub = claims.sub.as_ref().unwrap();
        assert!(matches!(sub.0, Cow::Borrowed(_)), "{sub:?}");
        assert_eq!(claims.name.as_deref(), Some("A \"B\""));
        assert!(matches!(claims.name.as_ref().unwrap().0, Cow::Owned(_)));
        let perms = claims.orgs.as_ref().unwrap()[0].perm.as_ref().unwrap();
        assert!(matches!(perms[0].0, Cow::Borrowed("x")));
        assert_eq!(&*perms[1], "y/z");
    }
}

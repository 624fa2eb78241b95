//! The verified session: who the user is, which session this is, and their memberships.
//!
//! A session is stored compactly — every string in one buffer, memberships and permissions
//! as slices of small ranges into it — so that a cached session costs a few hundred bytes and
//! a handful of allocations. The public types [`User`] and [`Membership`] are borrowed views
//! into it, built on demand (they are `Copy` and cost nothing to make).

mod data;
mod key;

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde::ser::{SerializeSeq, SerializeStruct};

pub(crate) use data::{Draft, DraftMembership, SessionData};
use data::{Field, MembershipData, Span};
pub(crate) use key::SessionKey;

/// A verified AuthRocket session.
///
/// Cheap to clone (one reference count): the verifier's cache, the request extensions and
/// your handler all share the same allocation. The same type represents AuthRocket 1 and
/// AuthRocket 2 tokens and session-API answers; [`generation`](Session::generation) tells
/// which one it came from.
///
/// ```
/// # async fn run(verifier: authrocket_verify::Verifier, token: &str) -> Result<(), authrocket_verify::VerifyError> {
/// let session = verifier.verify(token).await?;
/// println!("user {} ({:?})", session.user_id(), session.user().name);
/// if session.has_permission("ar:admin") {
///     // ...
/// }
/// for m in session.memberships() {
///     println!("member of {:?} with {:?}", m.org.name, m.permissions.iter().collect::<Vec<_>>());
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, PartialEq)]
pub struct Session {
    inner: Arc<SessionData>,
}

/// Which AuthRocket generation a session came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Generation {
    /// AuthRocket 1 (`uid`, `tk`, `aud`, `m[]` claims; `/v1` API).
    V1,
    /// AuthRocket 2 (`sub`, `sid`, `rid`, `orgs[]` claims; `/v2` API).
    V2,
}

/// The signed-in user: a view into a [`Session`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct User<'a> {
    /// The user id (`usr_…`): `sub` (v2) or `uid` (v1). Never empty.
    pub id: &'a str,
    /// Display name: `name` (v2) or `n` (v1).
    pub name: Option<&'a str>,
    /// First name: `given_name` (v2) or `fn` (v1).
    pub first_name: Option<&'a str>,
    /// Last name: `family_name` (v2) or `ln` (v1).
    pub last_name: Option<&'a str>,
    /// Username: `preferred_username` (v2) or `un` (v1).
    pub username: Option<&'a str>,
    /// Email address (v2 tokens, session API).
    pub email: Option<&'a str>,
    /// Whether the email address has been verified (v2 tokens).
    pub email_verified: Option<bool>,
    /// The app's own reference for this user (`ref`, v2).
    pub reference: Option<&'a str>,
    /// Custom attributes (`cs`).
    pub custom: Option<&'a serde_json::Value>,
}

/// The user's membership of an organization: a view into a [`Session`].
///
/// Organization data is in [`org`](Membership::org), as `membership.org` in AuthRocket's
/// official SDKs, whichever generation the session came from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Membership<'a> {
    /// Membership id (`mid` in AuthRocket 2 tokens; the session API's membership `id`).
    pub id: Option<&'a str>,
    /// The organization.
    pub org: Org<'a>,
    /// Permission strings (`perm` in AuthRocket 2 `orgs[]`, `p` in AuthRocket 1 `m[]`),
    /// matched exactly.
    pub permissions: Permissions<'a>,
    /// Whether this is the membership the user selected (AuthRocket 2 `selected`).
    pub selected: bool,
    /// Custom attributes of the membership itself (`cs` in AuthRocket 1 `m[]`; the session
    /// API's membership `custom`). AuthRocket 2 tokens carry none: their `orgs[].cs` belongs
    /// to the [organization](Org::custom).
    pub custom: Option<&'a serde_json::Value>,
}

/// The organization of a [`Membership`]: a view into a [`Session`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Org<'a> {
    /// Organization id (`oid`, `org_…`).
    pub id: Option<&'a str>,
    /// Organization name (`name` in AuthRocket 2 `orgs[]`, `o` in AuthRocket 1 `m[]`).
    pub name: Option<&'a str>,
    /// The app's own reference for the organization (`ref` in AuthRocket 2 `orgs[]`).
    pub reference: Option<&'a str>,
    /// Custom attributes of the organization (`cs` in AuthRocket 2 `orgs[]`, `ocs` in
    /// AuthRocket 1 `m[]`; the session API's `org.custom`).
    pub custom: Option<&'a serde_json::Value>,
}

impl Membership<'_> {
    /// `true` when this membership grants `permission` (exact match, e.g. `ar:admin`).
    ///
    /// ```
    /// # fn check(m: authrocket_verify::Membership<'_>) {
    /// if m.has_permission("ar:owner") { /* ... */ }
    /// # }
    /// ```
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }
}

/// The permission strings of a [`Membership`]; iterate with [`iter`](Permissions::iter).
#[derive(Clone, Copy)]
pub struct Permissions<'a> {
    text: &'a str,
    spans: &'a [Span],
}

impl<'a> Permissions<'a> {
    /// The permissions, in the token's order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'a str> + DoubleEndedIterator + 'a {
        let text = self.text;
        self.spans
            .iter()
            .map(move |s| s.get(text).unwrap_or_default())
    }

    /// How many permissions there are.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// `true` when there are none.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

impl PartialEq for Permissions<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl fmt::Debug for Permissions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Permissions<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for p in self.iter() {
            seq.serialize_element(p)?;
        }
        seq.end()
    }
}

impl Session {
    pub(crate) fn new(data: SessionData) -> Self {
        Self {
            inner: Arc::new(data),
        }
    }

    /// The signed-in user.
    pub fn user(&self) -> User<'_> {
        let d = &*self.inner;
        User {
            id: self.user_id(),
            name: d.field(Field::Name),
            first_name: d.field(Field::FirstName),
            last_name: d.field(Field::LastName),
            username: d.field(Field::Username),
            email: d.field(Field::Email),
            email_verified: d.email_verified,
            reference: d.field(Field::Reference),
            custom: d.custom.as_deref(),
        }
    }

    /// Shorthand for `self.user().id`: the user id (`usr_…`), never empty.
    pub fn user_id(&self) -> &str {
        self.inner.user_id()
    }

    /// The session id (`kss_…`): `sid` (v2) or `tk` (v1), when the token carries one.
    pub fn session_id(&self) -> Option<&str> {
        self.inner.session_id()
    }

    /// The session id's key, for the revocation check.
    pub(crate) fn session_key(&self) -> Option<SessionKey> {
        self.inner.session_key()
    }

    /// The realm id (`rl_…`): `rid` (v2) or `aud` (v1), when known.
    pub fn realm_id(&self) -> Option<&str> {
        self.inner.field(Field::RealmId)
    }

    /// When the session was created, in Unix seconds (`iat`).
    pub fn issued_at(&self) -> Option<i64> {
        self.inner.issued_at()
    }

    /// When the token or session expires, in Unix seconds (`exp`).
    pub fn expires_at(&self) -> Option<i64> {
        self.inner.expires_at()
    }

    /// All of the user's memberships, in the token's order.
    pub fn memberships(
        &self,
    ) -> impl ExactSizeIterator<Item = Membership<'_>> + DoubleEndedIterator {
        self.inner.memberships.iter().map(|m| self.membership(m))
    }

    /// The current membership: the first with `selected == true`, else the first one.
    pub fn current_membership(&self) -> Option<Membership<'_>> {
        let all = &self.inner.memberships;
        all.iter()
            .find(|m| m.selected)
            .or_else(|| all.first())
            .map(|m| self.membership(m))
    }

    /// The view of a stored membership.
    fn membership<'s>(&'s self, m: &'s MembershipData) -> Membership<'s> {
        let d = &*self.inner;
        Membership {
            id: d.str(m.id),
            org: Org {
                id: d.str(m.org_id),
                name: d.str(m.org_name),
                reference: d.str(m.org_reference),
                custom: m.org_custom(),
            },
            permissions: Permissions {
                text: d.text(),
                spans: d.permissions_of(m),
            },
            selected: m.selected,
            custom: m.custom(),
        }
    }

    /// `true` when the [current membership](Session::current_membership) grants
    /// `permission` (exact match).
    pub fn has_permission(&self, permission: &str) -> bool {
        self.current_membership()
            .is_some_and(|m| m.has_permission(permission))
    }

    /// Which AuthRocket generation this session came from.
    pub fn generation(&self) -> Generation {
        self.inner.generation
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("user", &self.user())
            .field("session_id", &self.session_id())
            .field("realm_id", &self.realm_id())
            .field("issued_at", &self.issued_at())
            .field("expires_at", &self.expires_at())
            .field("memberships", &self.memberships().collect::<Vec<_>>())
            .field("generation", &self.generation())
            .finish()
    }
}

/// Serializes as `{"user": {…}, "session_id", "realm_id", "issued_at", "expires_at",
/// "memberships": [{…}], "generation"}`.
impl Serialize for Session {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct All<'a>(&'a Session);
        impl Serialize for All<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.memberships())
            }
        }
        let mut s = serializer.serialize_struct("Session", 7)?;
        s.serialize_field("user", &self.user())?;
        s.serialize_field("session_id", &self.session_id())?;
        s.serialize_field("realm_id", &self.realm_id())?;
        s.serialize_field("issued_at", &self.issued_at())?;
        s.serialize_field("expires_at", &self.expires_at())?;
        s.serialize_field("memberships", &All(self))?;
        s.serialize_field("generation", &self.generation())?;
        s.end()
    }
}

//! The verified session: who the user is, which session this is, and their memberships.
//!
//! A session is stored compactly — every string in one buffer, memberships and permissions
//! as slices of small ranges into it — so that a cached session costs a few hundred bytes and
//! a handful of allocations. The public types [`User`] and [`Membership`] are borrowed views
//! into it, built on demand (they are `Copy` and cost nothing to make).

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde::ser::{SerializeSeq, SerializeStruct};

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

/// A range of the session's text; `Span::NONE` for an absent value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    start: u32,
    len: u32,
}

impl Span {
    const NONE: Span = Span {
        start: u32::MAX,
        len: 0,
    };

    fn get(self, text: &str) -> Option<&str> {
        if self.start == u32::MAX {
            return None;
        }
        text.get(self.start as usize..(self.start + self.len) as usize)
    }
}

#[derive(Debug, Clone, PartialEq)]
struct MembershipData {
    id: Span,
    org_id: Span,
    org_name: Span,
    org_reference: Span,
    /// Range of `SessionData::permissions`.
    perms_start: u32,
    perms_len: u32,
    selected: bool,
    /// The membership's and the org's custom attributes, rare: one box for both keeps the
    /// common membership small.
    customs: Option<Box<(Option<serde_json::Value>, Option<serde_json::Value>)>>,
}

/// "No time" in [`SessionData`]'s time fields (an `Option<i64>` would cost 8 more bytes).
const NO_TIME: i64 = i64::MIN;

/// The fields of a [`Session`], in compact form. Built with [`SessionBuilder`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SessionData {
    text: Box<str>,
    /// The string fields, indexed by [`Field`].
    fields: [Span; FIELDS],
    email_verified: Option<bool>,
    generation: Generation,
    issued_at: i64,
    expires_at: i64,
    custom: Option<Box<serde_json::Value>>,
    memberships: Box<[MembershipData]>,
    permissions: Box<[Span]>,
}

/// The string fields of a session, in the order [`Builder::field`] takes them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Field {
    UserId,
    Name,
    FirstName,
    LastName,
    Username,
    Email,
    Reference,
    SessionId,
    RealmId,
}

const FIELDS: usize = 9;

/// The parts of a session that are not strings.
pub(crate) struct Fixed {
    pub(crate) email_verified: Option<bool>,
    pub(crate) generation: Generation,
    pub(crate) issued_at: Option<i64>,
    pub(crate) expires_at: Option<i64>,
    pub(crate) custom: Option<serde_json::Value>,
}

/// A membership's strings and flags, handed to [`Builder::membership`].
pub(crate) struct MembershipFields<'s> {
    pub(crate) id: Option<&'s str>,
    pub(crate) org_id: Option<&'s str>,
    pub(crate) org_name: Option<&'s str>,
    pub(crate) org_reference: Option<&'s str>,
    pub(crate) selected: bool,
    pub(crate) custom: Option<&'s serde_json::Value>,
    pub(crate) org_custom: Option<&'s serde_json::Value>,
}

/// Builds a [`SessionData`] in two passes over the same description: the first counts
/// bytes, memberships and permissions, the second writes them into buffers of exactly that
/// size. No intermediate vectors, no reallocation.
pub(crate) struct Builder {
    writing: bool,
    bytes: usize,
    text: String,
    fields: [Span; FIELDS],
    memberships: Vec<MembershipData>,
    membership_count: usize,
    permissions: Vec<Span>,
    permission_count: usize,
}

impl Builder {
    /// Build from `describe`, which is called twice and must describe the same session both
    /// times: its [`field`](Self::field)s, then each [`membership`](Self::membership) followed
    /// by that membership's [`permission`](Self::permission)s.
    pub(crate) fn build(fixed: Fixed, describe: impl Fn(&mut Builder)) -> SessionData {
        let mut b = Builder {
            writing: false,
            bytes: 0,
            text: String::new(),
            fields: [Span::NONE; FIELDS],
            memberships: Vec::new(),
            membership_count: 0,
            permissions: Vec::new(),
            permission_count: 0,
        };
        describe(&mut b);
        b.writing = true;
        b.text = String::with_capacity(b.bytes);
        b.memberships = Vec::with_capacity(b.membership_count);
        b.permissions = Vec::with_capacity(b.permission_count);
        describe(&mut b);
        SessionData {
            text: b.text.into_boxed_str(),
            fields: b.fields,
            email_verified: fixed.email_verified,
            generation: fixed.generation,
            issued_at: fixed.issued_at.unwrap_or(NO_TIME),
            expires_at: fixed.expires_at.unwrap_or(NO_TIME),
            custom: fixed.custom.map(Box::new),
            memberships: b.memberships.into_boxed_slice(),
            permissions: b.permissions.into_boxed_slice(),
        }
    }

    fn push(&mut self, s: Option<&str>) -> Span {
        let Some(s) = s else { return Span::NONE };
        if !self.writing {
            self.bytes += s.len();
            return Span::NONE;
        }
        let start = self.text.len() as u32;
        self.text.push_str(s);
        Span {
            start,
            len: s.len() as u32,
        }
    }

    /// Set one of the session's string fields.
    pub(crate) fn field(&mut self, field: Field, value: Option<&str>) {
        self.fields[field as usize] = self.push(value);
    }

    /// Add a membership; the [`permission`](Self::permission)s that follow are its own.
    pub(crate) fn membership(&mut self, m: MembershipFields<'_>) {
        let spans = [m.id, m.org_id, m.org_name, m.org_reference].map(|s| self.push(s));
        if !self.writing {
            self.membership_count += 1;
            return;
        }
        let customs = (m.custom.is_some() || m.org_custom.is_some())
            .then(|| Box::new((m.custom.cloned(), m.org_custom.cloned())));
        let [id, org_id, org_name, org_reference] = spans;
        self.memberships.push(MembershipData {
            id,
            org_id,
            org_name,
            org_reference,
            perms_start: self.permissions.len() as u32,
            perms_len: 0,
            selected: m.selected,
            customs,
        });
    }

    /// Add a permission to the latest membership.
    pub(crate) fn permission(&mut self, p: &str) {
        let span = self.push(Some(p));
        if !self.writing {
            self.permission_count += 1;
            return;
        }
        self.permissions.push(span);
        if let Some(m) = self.memberships.last_mut() {
            m.perms_len += 1;
        }
    }
}

impl SessionData {
    fn str(&self, span: Span) -> Option<&str> {
        span.get(&self.text)
    }

    fn field(&self, field: Field) -> Option<&str> {
        self.str(self.fields[field as usize])
    }

    pub(crate) fn session_id(&self) -> Option<&str> {
        self.field(Field::SessionId)
    }

    pub(crate) fn user_id(&self) -> &str {
        self.field(Field::UserId).unwrap_or_default()
    }

    pub(crate) fn expires_at(&self) -> Option<i64> {
        (self.expires_at != NO_TIME).then_some(self.expires_at)
    }

    pub(crate) fn set_expires_at(&mut self, exp: Option<i64>) {
        self.expires_at = exp.unwrap_or(NO_TIME);
    }

    /// Replace the session id (hybrid mode fills it from the API when the token had none).
    pub(crate) fn with_session_id(mut self, id: &str) -> Self {
        let mut text = String::from(std::mem::take(&mut self.text));
        self.fields[Field::SessionId as usize] = Span {
            start: text.len() as u32,
            len: id.len() as u32,
        };
        text.push_str(id);
        self.text = text.into_boxed_str();
        self
    }

    fn membership<'s>(&'s self, m: &'s MembershipData) -> Membership<'s> {
        let start = m.perms_start as usize;
        Membership {
            id: self.str(m.id),
            org: Org {
                id: self.str(m.org_id),
                name: self.str(m.org_name),
                reference: self.str(m.org_reference),
                custom: m.customs.as_ref().and_then(|c| c.1.as_ref()),
            },
            permissions: Permissions {
                text: &self.text,
                spans: &self.permissions[start..start + m.perms_len as usize],
            },
            selected: m.selected,
            custom: m.customs.as_ref().and_then(|c| c.0.as_ref()),
        }
    }
}

impl Session {
    pub(crate) fn new(data: SessionData) -> Self {
        Self {
            inner: Arc::new(data),
        }
    }

    /// Whether `self` and `other` are the same shared session (one verification).
    pub(crate) fn ptr_eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
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

    /// The realm id (`rl_…`): `rid` (v2) or `aud` (v1), when known.
    pub fn realm_id(&self) -> Option<&str> {
        self.inner.field(Field::RealmId)
    }

    /// When the session was created, in Unix seconds (`iat`).
    pub fn issued_at(&self) -> Option<i64> {
        (self.inner.issued_at != NO_TIME).then_some(self.inner.issued_at)
    }

    /// When the token or session expires, in Unix seconds (`exp`).
    pub fn expires_at(&self) -> Option<i64> {
        self.inner.expires_at()
    }

    /// All of the user's memberships, in the token's order.
    pub fn memberships(
        &self,
    ) -> impl ExactSizeIterator<Item = Membership<'_>> + DoubleEndedIterator {
        self.inner
            .memberships
            .iter()
            .map(|m| self.inner.membership(m))
    }

    /// The current membership: the first with `selected == true`, else the first one.
    pub fn current_membership(&self) -> Option<Membership<'_>> {
        let all = &self.inner.memberships;
        all.iter()
            .find(|m| m.selected)
            .or_else(|| all.first())
            .map(|m| self.inner.membership(m))
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

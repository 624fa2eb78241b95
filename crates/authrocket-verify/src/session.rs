//! The verified session: who the user is, which session this is, and their memberships.

use std::sync::Arc;

use serde::Serialize;

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

/// The signed-in user.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct User {
    /// The user id (`usr_…`): `sub` (v2) or `uid` (v1). Never empty.
    pub id: String,
    /// Display name: `name` (v2) or `n` (v1).
    pub name: Option<String>,
    /// First name: `given_name` (v2) or `fn` (v1).
    pub first_name: Option<String>,
    /// Last name: `family_name` (v2) or `ln` (v1).
    pub last_name: Option<String>,
    /// Username: `preferred_username` (v2) or `un` (v1).
    pub username: Option<String>,
    /// Email address (v2 tokens, session API).
    pub email: Option<String>,
    /// Whether the email address has been verified (v2 tokens).
    pub email_verified: Option<bool>,
    /// The app's own reference for this user (`ref`, v2).
    pub reference: Option<String>,
    /// Custom attributes (`cs`).
    pub custom: Option<serde_json::Value>,
}

/// The user's membership of an organization.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Membership {
    /// Membership id (`mid`, v2).
    pub id: Option<String>,
    /// Organization id (`oid`, `org_…`).
    pub org_id: Option<String>,
    /// Organization name (`name` in v2 `orgs[]`, `o` in v1 `m[]`).
    pub org_name: Option<String>,
    /// The app's own reference for the organization (`ref`, v2).
    pub reference: Option<String>,
    /// Permission strings (`perm` in v2, `p` in v1), matched exactly.
    pub permissions: Vec<String>,
    /// Whether this is the membership the user selected (v2 `selected`).
    pub selected: bool,
    /// Custom attributes of the membership (`cs`).
    pub custom: Option<serde_json::Value>,
    /// Custom attributes of the organization (`ocs`, v1).
    pub org_custom: Option<serde_json::Value>,
}

impl Membership {
    /// `true` when this membership grants `permission` (exact match, e.g. `ar:admin`).
    ///
    /// ```
    /// # fn check(m: &authrocket_verify::Membership) {
    /// if m.has_permission("ar:owner") { /* ... */ }
    /// # }
    /// ```
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }
}

/// The fields of a [`Session`], built by the claim mapping or the session-API parser.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct SessionData {
    pub(crate) user: User,
    pub(crate) session_id: Option<String>,
    pub(crate) realm_id: Option<String>,
    pub(crate) issued_at: Option<i64>,
    pub(crate) expires_at: Option<i64>,
    pub(crate) memberships: Vec<Membership>,
    pub(crate) generation: Generation,
}

impl Session {
    pub(crate) fn new(data: SessionData) -> Self {
        Self {
            inner: Arc::new(data),
        }
    }

    /// The signed-in user.
    pub fn user(&self) -> &User {
        &self.inner.user
    }

    /// Shorthand for `self.user().id`: the user id (`usr_…`), never empty.
    pub fn user_id(&self) -> &str {
        &self.inner.user.id
    }

    /// The session id (`kss_…`): `sid` (v2) or `tk` (v1), when the token carries one.
    pub fn session_id(&self) -> Option<&str> {
        self.inner.session_id.as_deref()
    }

    /// The realm id (`rl_…`): `rid` (v2) or `aud` (v1), when known.
    pub fn realm_id(&self) -> Option<&str> {
        self.inner.realm_id.as_deref()
    }

    /// When the session was created, in Unix seconds (`iat`).
    pub fn issued_at(&self) -> Option<i64> {
        self.inner.issued_at
    }

    /// When the token or session expires, in Unix seconds (`exp`).
    pub fn expires_at(&self) -> Option<i64> {
        self.inner.expires_at
    }

    /// All of the user's memberships, in the token's order.
    pub fn memberships(&self) -> &[Membership] {
        &self.inner.memberships
    }

    /// The current membership: the first with `selected == true`, else the first one.
    pub fn current_membership(&self) -> Option<&Membership> {
        let all = &self.inner.memberships;
        all.iter().find(|m| m.selected).or_else(|| all.first())
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

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl Serialize for Session {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.inner.serialize(serializer)
    }
}

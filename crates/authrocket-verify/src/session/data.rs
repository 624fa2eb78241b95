//! The compact form of a session, and the one shape every source maps into first.
//!
//! AuthRocket 2 claims, AuthRocket 1 claims and session-API answers each describe a session
//! as a [`Draft`] (borrowed strings, memberships as an iterator); [`SessionData::from_draft`]
//! is the only code that turns one into a stored session: every string in one buffer,
//! memberships and permissions as small ranges into it — a few allocations and a few hundred
//! bytes per cached session. Offsets are `u32`, checked once against the buffer's length.

use crate::error::VerifyError;
use crate::session::Generation;
use crate::session::key::SessionKey;

/// A range of the session's text; [`Span::NONE`] for an absent value.
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

    /// The text this span covers in `text`, `None` for an absent value.
    pub(crate) fn get(self, text: &str) -> Option<&str> {
        if self.start == u32::MAX {
            return None;
        }
        let start = usize::try_from(self.start).ok()?;
        let end = start.checked_add(usize::try_from(self.len).ok()?)?;
        text.get(start..end)
    }
}

/// The string fields of a session, indexing [`SessionData`]'s spans.
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

/// A membership as any source describes it.
#[derive(Debug, Clone)]
pub(crate) struct DraftMembership<'a, P> {
    pub(crate) id: Option<&'a str>,
    pub(crate) org_id: Option<&'a str>,
    pub(crate) org_name: Option<&'a str>,
    pub(crate) org_reference: Option<&'a str>,
    pub(crate) selected: bool,
    /// The membership's own custom attributes.
    pub(crate) custom: Option<&'a serde_json::Value>,
    /// The organization's custom attributes.
    pub(crate) org_custom: Option<&'a serde_json::Value>,
    /// Permission strings, in order.
    pub(crate) permissions: P,
}

/// A session as any source describes it, before it is stored (its memberships are handed to
/// [`SessionData::from_draft`] beside it).
#[derive(Debug, Clone)]
pub(crate) struct Draft<'a> {
    pub(crate) generation: Generation,
    pub(crate) user_id: &'a str,
    pub(crate) name: Option<&'a str>,
    pub(crate) first_name: Option<&'a str>,
    pub(crate) last_name: Option<&'a str>,
    pub(crate) username: Option<&'a str>,
    pub(crate) email: Option<&'a str>,
    pub(crate) email_verified: Option<bool>,
    pub(crate) reference: Option<&'a str>,
    pub(crate) custom: Option<&'a serde_json::Value>,
    pub(crate) session_id: Option<&'a str>,
    pub(crate) realm_id: Option<&'a str>,
    pub(crate) issued_at: Option<i64>,
    pub(crate) expires_at: Option<i64>,
}

impl Draft<'_> {
    /// The string fields in [`Field`] order.
    fn strings(&self) -> [Option<&str>; FIELDS] {
        [
            Some(self.user_id),
            self.name,
            self.first_name,
            self.last_name,
            self.username,
            self.email,
            self.reference,
            self.session_id,
            self.realm_id,
        ]
    }
}

/// A stored membership: spans into the session's text, a range of its permissions.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MembershipData {
    pub(crate) id: Span,
    pub(crate) org_id: Span,
    pub(crate) org_name: Span,
    pub(crate) org_reference: Span,
    /// Range of [`SessionData::permissions`].
    perms_start: u32,
    perms_len: u32,
    pub(crate) selected: bool,
    /// The membership's and the org's custom attributes, rare: one box for both keeps the
    /// common membership small.
    customs: Option<Box<(Option<serde_json::Value>, Option<serde_json::Value>)>>,
}

impl MembershipData {
    pub(crate) fn custom(&self) -> Option<&serde_json::Value> {
        self.customs.as_ref().and_then(|c| c.0.as_ref())
    }

    pub(crate) fn org_custom(&self) -> Option<&serde_json::Value> {
        self.customs.as_ref().and_then(|c| c.1.as_ref())
    }
}

/// "No time" in the time fields (an `Option<i64>` would cost 8 more bytes each).
const NO_TIME: i64 = i64::MIN;

/// The fields of a session, in compact form.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SessionData {
    text: Box<str>,
    /// The string fields, indexed by [`Field`].
    fields: [Span; FIELDS],
    pub(crate) email_verified: Option<bool>,
    pub(crate) generation: Generation,
    issued_at: i64,
    expires_at: i64,
    pub(crate) custom: Option<Box<serde_json::Value>>,
    pub(crate) memberships: Box<[MembershipData]>,
    permissions: Box<[Span]>,
    /// The session id's key, for the revocation check.
    session_key: Option<SessionKey>,
}

fn too_large() -> VerifyError {
    VerifyError::malformed("the session is too large")
}

/// Appends strings to the session's text, handing out their spans.
struct Text(String);

impl Text {
    fn push(&mut self, s: Option<&str>) -> Result<Span, VerifyError> {
        let Some(s) = s else { return Ok(Span::NONE) };
        let start = u32::try_from(self.0.len()).map_err(|_| too_large())?;
        let len = u32::try_from(s.len()).map_err(|_| too_large())?;
        self.0.push_str(s);
        Ok(Span { start, len })
    }
}

impl SessionData {
    /// Store `draft` with its `memberships` (in order): one pass to size the buffers, one to
    /// fill them.
    pub(crate) fn from_draft<'a, M, P>(
        draft: Draft<'a>,
        memberships: M,
    ) -> Result<Self, VerifyError>
    where
        M: Iterator<Item = DraftMembership<'a, P>> + Clone,
        P: Iterator<Item = &'a str> + Clone,
    {
        let strings = draft.strings();
        let mut bytes: usize = strings.iter().flatten().map(|s| s.len()).sum();
        let (mut member_count, mut permission_count) = (0usize, 0usize);
        for m in memberships.clone() {
            let own = [m.id, m.org_id, m.org_name, m.org_reference];
            bytes += own.iter().flatten().map(|s| s.len()).sum::<usize>();
            member_count += 1;
            for p in m.permissions {
                bytes += p.len();
                permission_count += 1;
            }
        }
        u32::try_from(bytes).map_err(|_| too_large())?;

        let mut text = Text(String::with_capacity(bytes));
        let mut fields = [Span::NONE; FIELDS];
        for (field, s) in fields.iter_mut().zip(strings) {
            *field = text.push(s)?;
        }
        let mut stored = Vec::with_capacity(member_count);
        let mut permissions = Vec::with_capacity(permission_count);
        for m in memberships {
            let perms_start = u32::try_from(permissions.len()).map_err(|_| too_large())?;
            for p in m.permissions {
                permissions.push(text.push(Some(p))?);
            }
            let perms_end = u32::try_from(permissions.len()).map_err(|_| too_large())?;
            let customs = (m.custom.is_some() || m.org_custom.is_some())
                .then(|| Box::new((m.custom.cloned(), m.org_custom.cloned())));
            stored.push(MembershipData {
                id: text.push(m.id)?,
                org_id: text.push(m.org_id)?,
                org_name: text.push(m.org_name)?,
                org_reference: text.push(m.org_reference)?,
                perms_start,
                perms_len: perms_end - perms_start,
                selected: m.selected,
                customs,
            });
        }
        Ok(Self {
            text: text.0.into_boxed_str(),
            fields,
            email_verified: draft.email_verified,
            generation: draft.generation,
            issued_at: draft.issued_at.unwrap_or(NO_TIME),
            expires_at: draft.expires_at.unwrap_or(NO_TIME),
            custom: draft.custom.cloned().map(Box::new),
            memberships: stored.into_boxed_slice(),
            permissions: permissions.into_boxed_slice(),
            session_key: draft.session_id.map(SessionKey::of),
        })
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    pub(crate) fn str(&self, span: Span) -> Option<&str> {
        span.get(&self.text)
    }

    pub(crate) fn field(&self, field: Field) -> Option<&str> {
        self.str(self.fields[field as usize])
    }

    pub(crate) fn user_id(&self) -> &str {
        self.field(Field::UserId).unwrap_or_default()
    }

    pub(crate) fn session_id(&self) -> Option<&str> {
        self.field(Field::SessionId)
    }

    pub(crate) fn session_key(&self) -> Option<SessionKey> {
        self.session_key
    }

    pub(crate) fn issued_at(&self) -> Option<i64> {
        (self.issued_at != NO_TIME).then_some(self.issued_at)
    }

    pub(crate) fn expires_at(&self) -> Option<i64> {
        (self.expires_at != NO_TIME).then_some(self.expires_at)
    }

    #[cfg(feature = "http")]
    pub(crate) fn set_expires_at(&mut self, exp: Option<i64>) {
        self.expires_at = exp.unwrap_or(NO_TIME);
    }

    /// The permission spans of `m`.
    pub(crate) fn permissions_of(&self, m: &MembershipData) -> &[Span] {
        let start = usize::try_from(m.perms_start).unwrap_or(usize::MAX);
        let len = usize::try_from(m.perms_len).unwrap_or(0);
        self.permissions
            .get(start..start.saturating_add(len))
            .unwrap_or_default()
    }

    #[cfg(feature = "http")]
    /// Replace the session id (hybrid mode fills it from the API when the token had none).
    pub(crate) fn with_session_id(mut self, id: &str) -> Result<Self, VerifyError> {
        let mut text = Text(String::from(std::mem::take(&mut self.text)));
        self.fields[Field::SessionId as usize] = text.push(Some(id))?;
        self.text = text.0.into_boxed_str();
        self.session_key = Some(SessionKey::of(id));
        Ok(self)
    }
}

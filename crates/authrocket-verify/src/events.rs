//! AuthRocket's events, received as webhook deliveries: how a logout becomes visible at once.
//!
//! AuthRocket sends each event as a `POST` of its JSON, at least once, possibly late,
//! duplicated or out of order, and **unsigned**. So a delivery is only a hint: the verifier
//! fetches the event from the API (`GET {AUTHROCKET_URL}/events/{id}`, with this server's API
//! key) and acts on that copy alone. Then:
//!
//! | event | effect |
//! | --- | --- |
//! | `session.deleted` | the session joins the revocation set until its `expires_at`: every verification of it, in every mode, answers `revoked` |
//! | `user.deleted`, `membership.created`, `membership.updated`, `membership.deleted` | the user's cached sessions are dropped (online and hybrid then ask the API afresh) |
//! | anything else | ignored |
//!
//! Applying is idempotent, and the last 10 000 applied event ids are remembered, so a
//! duplicate costs no API call. An event the API does not know changes nothing.
//!
//! The HTTP side (body size cap, an optional shared secret, statuses) is the adapters': the
//! tower crate's `EventReceiver` and the axum crate's `events_route`.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;

#[cfg(feature = "http")]
use crate::api_gate::Caller;
use crate::error::VerifyError;
use crate::json;
use crate::secret::Secret;

/// Applied event ids remembered, most recent first out last.
const REMEMBERED: usize = 10_000;

/// Longest event id accepted.
const MAX_ID_LEN: usize = 128;

/// When a `session.deleted` event gives no `expires_at`: revoke for this long.
pub(crate) const UNKNOWN_EXPIRY: Duration = Duration::from_secs(30 * 24 * 3600);

/// What receiving a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventOutcome {
    /// The event was confirmed by the API and applied.
    Applied,
    /// The event was confirmed by the API and needs nothing from the verifier.
    Ignored,
    /// The event was applied before: nothing to do.
    Duplicate,
}

impl EventOutcome {
    /// `applied`, `ignored` or `duplicate`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Ignored => "ignored",
            Self::Duplicate => "duplicate",
        }
    }
}

/// Why a delivery was not applied. Opaque: ask it through [`kind`](EventError::kind) and
/// [`code`](EventError::code).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct EventError {
    kind: EventErrorKind,
    reason: &'static str,
    retry_after: Option<Duration>,
}

/// What an adapter answers for an [`EventError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventErrorKind {
    /// The delivery is not an event (400).
    Malformed,
    /// The API does not know this event: a forgery, or a mistake (404).
    Unknown,
    /// The delivery does not carry the shared secret (401).
    Unauthorized,
    /// The event cannot be confirmed right now; AuthRocket retries (503).
    Unavailable,
}

impl EventError {
    const fn new(kind: EventErrorKind, reason: &'static str) -> Self {
        Self {
            kind,
            reason,
            retry_after: None,
        }
    }

    pub(crate) const fn malformed(reason: &'static str) -> Self {
        Self::new(EventErrorKind::Malformed, reason)
    }

    pub(crate) const fn unauthorized() -> Self {
        Self::new(
            EventErrorKind::Unauthorized,
            "the delivery does not carry the shared secret",
        )
    }

    /// What to answer.
    pub fn kind(&self) -> EventErrorKind {
        self.kind
    }

    /// A stable code: `malformed_event`, `unknown_event`, `unauthorized`, `unavailable`.
    pub fn code(&self) -> &'static str {
        match self.kind {
            EventErrorKind::Malformed => "malformed_event",
            EventErrorKind::Unknown => "unknown_event",
            EventErrorKind::Unauthorized => "unauthorized",
            EventErrorKind::Unavailable => "unavailable",
        }
    }

    /// For unavailable ones: how long AuthRocket should wait, when known.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

/// What a delivery says: only its id is read.
#[derive(Deserialize)]
struct Delivery {
    id: String,
}

/// The event as the API confirms it.
#[derive(Debug, Deserialize)]
pub(crate) struct Event {
    #[serde(default)]
    object: Option<String>,
    pub(crate) id: String,
    pub(crate) event_type: String,
    #[serde(default)]
    pub(crate) session_id: Option<String>,
    #[serde(default)]
    pub(crate) user_id: Option<String>,
    #[serde(default)]
    pub(crate) expires_at: Option<f64>,
}

/// What an event asks of the verifier.
pub(crate) enum Effect {
    /// Revoke this session until this Unix time (seconds), or for [`UNKNOWN_EXPIRY`].
    Revoke {
        session_id: String,
        expires_at: Option<i64>,
    },
    /// Drop this user's cached sessions.
    Forget { user_id: String },
    /// Nothing.
    None,
}

impl Event {
    fn effect(self) -> Effect {
        match self.event_type.as_str() {
            "session.deleted" => match self.session_id.filter(|s| !s.is_empty()) {
                Some(session_id) => Effect::Revoke {
                    session_id,
                    expires_at: self
                        .expires_at
                        .filter(|e| e.is_finite() && *e > 0.0)
                        .map(|e| e.ceil() as i64),
                },
                None => Effect::None,
            },
            "user.deleted" | "membership.created" | "membership.updated" | "membership.deleted" => {
                match self.user_id.filter(|u| !u.is_empty()) {
                    Some(user_id) => Effect::Forget { user_id },
                    None => Effect::None,
                }
            }
            _ => Effect::None,
        }
    }
}

/// The session API that confirms events (none without the `http` feature).
#[cfg(feature = "http")]
pub(crate) type Api = std::sync::Arc<crate::session_api::SessionApi>;
/// The session API that confirms events (none without the `http` feature).
#[cfg(not(feature = "http"))]
pub(crate) type Api = std::convert::Infallible;

/// The event `id`, as the API has it.
#[cfg(feature = "http")]
async fn fetch(api: &Api, id: &str) -> Result<Event, VerifyError> {
    api.get(Caller::Event, &["events", id]).await
}

#[cfg(not(feature = "http"))]
async fn fetch(api: &Api, _: &str) -> Result<Event, VerifyError> {
    match *api {}
}

/// Event ids applied, and the order they came in (the oldest is forgotten first).
type Applied = (HashSet<Box<str>>, VecDeque<Box<str>>);

/// The receiving side of events: the API to confirm them with, the ids already applied.
pub(crate) struct Events {
    api: Option<Api>,
    secret: Option<Secret>,
    applied: Mutex<Applied>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("api", &self.api.is_some())
            .field("secret", &self.secret)
            .finish_non_exhaustive()
    }
}

/// The id of a delivery: a strict JSON object whose `id` is a short plain token.
fn delivery_id(body: &[u8]) -> Result<String, EventError> {
    let text =
        std::str::from_utf8(body).map_err(|_| EventError::malformed("the body is not UTF-8"))?;
    let delivery: Delivery =
        json::parse_object(text).ok_or(EventError::malformed("the body is not an event object"))?;
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if delivery.id.is_empty() || delivery.id.len() > MAX_ID_LEN || !delivery.id.chars().all(plain) {
        return Err(EventError::malformed("the event id is not valid"));
    }
    Ok(delivery.id)
}

/// Compare without an early exit on the first difference.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Events {
    pub(crate) fn new(api: Option<Api>, secret: Option<Secret>) -> Self {
        Self {
            api,
            secret,
            applied: Mutex::default(),
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.api.is_some()
    }

    /// Whether `presented` is the configured shared secret (always, when none is set).
    pub(crate) fn authorized(&self, presented: Option<&str>) -> bool {
        match (&self.secret, presented) {
            (None, _) => true,
            (Some(secret), Some(p)) => same_secret(secret.0.as_bytes(), p.as_bytes()),
            (Some(_), None) => false,
        }
    }

    fn seen(&self, id: &str) -> bool {
        let applied = self.applied.lock().unwrap_or_else(|e| e.into_inner());
        applied.0.contains(id)
    }

    /// Remember `id` as applied.
    pub(crate) fn applied(&self, id: &str) {
        let mut applied = self.applied.lock().unwrap_or_else(|e| e.into_inner());
        let (set, order) = &mut *applied;
        if set.insert(id.into()) {
            order.push_back(id.into());
            if order.len() > REMEMBERED
                && let Some(old) = order.pop_front()
            {
                set.remove(&old);
            }
        }
    }

    /// Confirm the delivery `body` with the API. `Ok(None)`: a duplicate.
    pub(crate) async fn confirm(
        &self,
        body: &[u8],
    ) -> Result<Option<(String, Effect)>, EventError> {
        let id = delivery_id(body)?;
        if self.seen(&id) {
            return Ok(None);
        }
        let api = self.api.as_ref().ok_or(EventError::new(
            EventErrorKind::Unavailable,
            "no session API is configured to confirm events (AUTHROCKET_URL, AUTHROCKET_API_KEY)",
        ))?;
        let event: Event = fetch(api, &id).await.map_err(|e| match e {
            e if e == VerifyError::REVOKED => {
                EventError::new(EventErrorKind::Unknown, "the API does not know this event")
            }
            e => EventError {
                kind: EventErrorKind::Unavailable,
                reason: "the event cannot be confirmed right now",
                retry_after: e.retry_after(),
            },
        })?;
        if event.id != id || event.object.as_deref().is_some_and(|o| o != "event") {
            return Err(EventError {
                kind: EventErrorKind::Unavailable,
                reason: "the API answered about another event",
                retry_after: None,
            });
        }
        Ok(Some((id, event.effect())))
    }
}

/// The event handling, for the fuzz targets (`fuzz/`): `body` as a webhook delivery and as
/// the API's copy of the event; errors are fine, panics are not.
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_event(body: &[u8]) {
    let _ = delivery_id(body);
    let Some(text) = std::str::from_utf8(body).ok() else {
        return;
    };
    if let Some(event) = json::parse_object::<Event>(text) {
        match event.effect() {
            Effect::Revoke { session_id, .. } => assert!(!session_id.is_empty()),
            Effect::Forget { user_id } => assert!(!user_id.is_empty()),
            Effect::None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_need_a_plain_id_in_an_object() {
        assert_eq!(delivery_id(br#"{"id":"ev_1","x":[1]}"#).unwrap(), "ev_1");
        for bad in [
            &br#"["ev_1"]"#[..],
            br#"{"id":""}"#,
            br#"{"id":"../sessions/x"}"#,
            br#"{"id":5}"#,
            br#"{"event_type":"session.deleted"}"#,
            b"\xff",
            b"not json",
        ] {
            let err = delivery_id(bad).unwrap_err();
            assert_eq!(err.kind(), EventErrorKind::Malformed, "{bad:?}");
        }
    }

    #[test]
    fn the_secret_is_compared_whole() {
        let events = Events::new(None, Some(Secret("s3cret".into())));
        assert!(events.authorized(Some("s3cret")));
        assert!(!events.authorized(Some("s3cre")));
        assert!(!events.authorized(Some("s3creT")));
        assert!(!events.authorized(None));
        assert!(Events::new(None, None).authorized(None));
    }
}

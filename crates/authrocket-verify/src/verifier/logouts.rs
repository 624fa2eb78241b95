//! How a verifier learns of logouts: [`Verifier::receive_event`] (AuthRocket's events) and
//! [`Verifier::revoke_session`] (the app's own), both into the revocation set that every
//! verification consults.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::events::{Effect, EventError, EventOutcome, UNKNOWN_EXPIRY};
use crate::fleet::Listener;
use crate::session::{Session, SessionKey};
use crate::setup::Parts;
use crate::verifier::Verifier;

impl Verifier {
    /// Refuse `session_id` from now on, on every verification path, until `expires_at` (plus
    /// the leeway) — for logouts the app learns of itself (its own logout route, an admin
    /// action). AuthRocket's `session.deleted` events do the same through
    /// [`receive_event`](Self::receive_event).
    ///
    /// ```
    /// # async fn run(verifier: authrocket_verify::Verifier, session: authrocket_verify::Session) {
    /// use std::time::{Duration, SystemTime};
    ///
    /// if let Some(sid) = session.session_id() {
    ///     let expires = SystemTime::now() + Duration::from_secs(3600);
    ///     verifier.revoke_session(sid, expires);
    /// }
    /// # }
    /// ```
    pub fn revoke_session(&self, session_id: &str, expires_at: SystemTime) {
        let until_ms = expires_at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        self.revoke_until(session_id, until_ms);
    }

    /// Refuse this verified `session` from now on, on every verification path, until it
    /// expires — what a logout route does before sending the browser to LoginRocket, so the
    /// app never accepts the token again even before AuthRocket's event arrives. A session
    /// without a session id (a token that names none) cannot be revoked: `false`.
    ///
    /// ```
    /// # async fn run(verifier: authrocket_verify::Verifier, session: authrocket_verify::Session) {
    /// if verifier.revoke(&session) {
    ///     assert!(verifier.revoked_sessions() >= 1);
    /// }
    /// # }
    /// ```
    pub fn revoke(&self, session: &Session) -> bool {
        let Some(id) = session.session_id() else {
            return false;
        };
        self.revoke_until(id, self.expiry_ms(session.expires_at()));
        true
    }

    /// When a revocation of something expiring at `expires_at` (Unix seconds) may end: then,
    /// or [`UNKNOWN_EXPIRY`] from now when unknown.
    fn expiry_ms(&self, expires_at: Option<i64>) -> i64 {
        match expires_at {
            Some(secs) => secs.saturating_mul(1000),
            None => self
                .inner
                .now
                .millis()
                .saturating_add(i64::try_from(UNKNOWN_EXPIRY.as_millis()).unwrap_or(i64::MAX)),
        }
    }

    /// Revoke `session_id` here and, with a fleet tier, on every instance.
    fn revoke_until(&self, session_id: &str, expires_ms: i64) {
        let p = &*self.inner;
        let until = expires_ms.saturating_add(p.leeway_ms);
        p.revoked(session_id, until);
        if let Some(fleet) = &p.fleet {
            fleet.revoked(session_id, until);
        }
    }

    /// How many sessions are revoked and not yet expired.
    pub fn revoked_sessions(&self) -> usize {
        self.inner.revocations.len(self.inner.now.millis())
    }

    /// Whether this verifier can confirm AuthRocket events: the session API is configured
    /// (`AUTHROCKET_URL` and `AUTHROCKET_API_KEY`), whatever the mode.
    pub fn receives_events(&self) -> bool {
        self.inner.events.enabled()
    }

    /// Receive one webhook delivery of an AuthRocket event (`body`, the delivered JSON),
    /// presenting `secret` when deliveries carry one. The event is fetched from the API and
    /// only that copy is acted on; see [`events`](crate::events) for what each event does.
    /// Never logs the body, a token or a key.
    ///
    /// ```no_run
    /// # async fn run(verifier: authrocket_verify::Verifier, body: &[u8]) {
    /// match verifier.receive_event(body, None).await {
    ///     Ok(outcome) => println!("{}", outcome.as_str()), // answer 200
    ///     Err(e) => println!("{}", e.code()),             // 400, 401, 404 or 503: see kind()
    /// }
    /// # }
    /// ```
    pub async fn receive_event(
        &self,
        body: &[u8],
        secret: Option<&str>,
    ) -> Result<EventOutcome, EventError> {
        let result = self.apply_event(body, secret).await;
        match &result {
            Ok(outcome) => {
                crate::meters::event(outcome.as_str(), None);
                tracing::debug!(outcome = outcome.as_str(), "authrocket: event received")
            }
            Err(e) => {
                crate::meters::event("refused", Some(e.code()));
                tracing::debug!(
                    outcome = "refused",
                    code = e.code(),
                    "authrocket: event received"
                )
            }
        }
        result
    }

    async fn apply_event(
        &self,
        body: &[u8],
        secret: Option<&str>,
    ) -> Result<EventOutcome, EventError> {
        let events = &self.inner.events;
        if !events.authorized(secret) {
            return Err(EventError::unauthorized());
        }
        let Some((id, effect)) = events.confirm(body).await? else {
            return Ok(EventOutcome::Duplicate);
        };
        let outcome = match effect {
            Effect::Revoke {
                session_id,
                expires_at,
            } => {
                self.revoke_until(&session_id, self.expiry_ms(expires_at));
                EventOutcome::Applied
            }
            Effect::Forget { user_id } => {
                let p = &*self.inner;
                p.forgotten(&user_id);
                if let Some(fleet) = &p.fleet {
                    fleet.forgotten(&user_id);
                }
                EventOutcome::Applied
            }
            Effect::None => EventOutcome::Ignored,
        };
        events.applied(&id);
        Ok(outcome)
    }

    /// Whether `session` was revoked.
    pub(crate) fn is_revoked(&self, session: &Session) -> bool {
        session.session_key().is_some_and(|key| {
            self.inner
                .revocations
                .contains(key, self.inner.now.millis())
        })
    }
}

/// What the fleet tier hands over: announcements of other instances, applied here only.
impl Listener for Parts {
    fn revoked(&self, session_id: &str, until_ms: i64) {
        self.revocations
            .insert(SessionKey::of(session_id), until_ms, self.now.millis());
    }

    fn forgotten(&self, user_id: &str) {
        if let Some(cache) = &self.cache {
            cache.forget_user(user_id);
        }
    }
}

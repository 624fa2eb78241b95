//! The fleet tier itself: one Redis connection (redis-rs's connection manager, RESP3 so that
//! announcements arrive on the same connection), the sealed verdicts, the announcements.
//!
//! A miss asks Redis once (one round trip: the stored verdict, and a claim on asking the API
//! for it). Found: done. Not found and claimed: this instance asks the API, stores the
//! session, drops the claim and announces it has settled the token. Not found and claimed
//! by another instance: it waits for that announcement (at most the API timeout), reads the
//! verdict, and asks the API itself only if there is none.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{
    AsyncCommands, ExistenceCheck, IntoConnectionInfo, ProtocolVersion, PushInfo, SetExpiry,
    SetOptions,
};
use tokio::sync::mpsc::UnboundedReceiver;

use super::codec::{Names, Refusal, Seal, hex};
use super::health::Health;
use super::waiters::Waiters;
use super::{FleetSettings, FleetStats, Shared};
use crate::cache::Digest;
use crate::clock::Now;
use crate::error::ConfigError;
use crate::session::Session;

/// How long background writes and loads may take (never on a request's path).
pub(super) const BACKGROUND: Duration = Duration::from_secs(2);
/// Revocations kept while Redis is unreachable, shared when it is back.
const PENDING: usize = 10_000;
/// Users remembered as forgotten, to refuse their sessions stored before.
const FORGOTTEN: usize = 10_000;

#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) lookups: AtomicU64,
    pub(super) hits: AtomicU64,
    pub(super) refused: AtomicU64,
    pub(super) errors: AtomicU64,
    pub(super) skipped: AtomicU64,
    pub(super) shared: AtomicU64,
    pub(super) waited: AtomicU64,
    pub(super) published: AtomicU64,
    pub(super) received: AtomicU64,
    pub(super) reloads: AtomicU64,
}

pub(super) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// The connection and what goes through it, shared with the background task.
pub(super) struct Inner {
    pub(super) conn: ConnectionManager,
    pub(super) names: Names,
    seal: Option<Seal>,
    deadline: Duration,
    /// How long a claim on asking the API lasts, and another instance's answer is awaited.
    claim: Duration,
    pub(super) now: Now,
    pub(super) health: Health,
    pub(super) counters: Counters,
    pub(super) runtime: tokio::runtime::Handle,
    /// This instance's id in announcements: its own are not applied twice.
    pub(super) origin: u64,
    /// Whether the connection is known to be down: set when the connection manager announces
    /// a disconnection, cleared by the next (re)subscription.
    pub(super) disconnected: AtomicBool,
    /// Whether the stored set must be loaded (and kept revocations stored): set by every
    /// (re)subscription, cleared once done.
    pub(super) stale: AtomicBool,
    /// Revocations not yet stored in Redis.
    pub(super) pending: Mutex<Vec<(String, i64)>>,
    /// Misses waiting for another instance's answer.
    pub(super) waiters: Waiters,
    /// Users forgotten, and when (Unix milliseconds).
    forgotten: Mutex<HashMap<String, i64>>,
    forget_window_ms: i64,
    /// The announcements' receiver, until the background task takes it.
    pub(super) pushes: Mutex<Option<UnboundedReceiver<PushInfo>>>,
}

/// The fleet tier of one verifier.
pub(crate) struct Fleet {
    pub(super) inner: Arc<Inner>,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("namespace", &self.inner.names.namespace())
            .field("shares_sessions", &self.inner.seal.is_some())
            .field("deadline", &self.inner.deadline)
            .finish_non_exhaustive()
    }
}

fn bad_url() -> ConfigError {
    ConfigError::invalid(
        "AUTHROCKET_REDIS_URL",
        "expected a Redis URL such as redis://host:6379/0",
    )
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Fleet {
    /// Check the settings and prepare the connection (made in the background, never here).
    pub(crate) fn new(s: FleetSettings<'_>) -> Result<Self, ConfigError> {
        let info = s
            .url
            .0
            .trim()
            .into_connection_info()
            .map_err(|_| bad_url())?;
        let redis = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP3);
        let client = redis::Client::open(info.set_redis_settings(redis)).map_err(|_| bad_url())?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            ConfigError::invalid(
                "AUTHROCKET_REDIS_URL",
                "the verifier must be built inside a Tokio runtime to use Redis",
            )
        })?;
        if s.timeout.is_zero() {
            return Err(ConfigError::invalid(
                "AUTHROCKET_REDIS_TIMEOUT_MS",
                "must be at least 1 millisecond",
            ));
        }
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let config = ConnectionManagerConfig::new()
            .set_push_sender(tx)
            .set_automatic_resubscription()
            .set_connection_timeout(Some(BACKGROUND))
            .set_response_timeout(None)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_secs(1));
        let conn = {
            let _entered = runtime.enter();
            ConnectionManager::new_lazy_with_config(client, config).map_err(|_| bad_url())?
        };
        Ok(Self {
            inner: Arc::new(Inner {
                conn,
                names: Names::new(s.realm, s.site),
                seal: s.seal_secret.map(Seal::new),
                deadline: s.timeout,
                claim: s.api_timeout.max(Duration::from_millis(1)),
                now: s.now,
                health: Health::default(),
                counters: Counters::default(),
                runtime,
                origin: u64::from_ne_bytes(rand_bytes()),
                disconnected: AtomicBool::new(false),
                stale: AtomicBool::new(false),
                pending: Mutex::new(Vec::new()),
                waiters: Waiters::default(),
                forgotten: Mutex::new(HashMap::new()),
                forget_window_ms: i64::try_from(s.ttl.as_millis()).unwrap_or(i64::MAX),
                pushes: Mutex::new(Some(rx)),
            }),
        })
    }

    /// What the fleet knows of the token whose SHA-256 is `digest`: the session another
    /// instance verified, or ask the API (on a miss, an error, a slow answer, or a value this
    /// deployment did not seal for this token).
    pub(crate) async fn verdict(&self, digest: &Digest) -> Shared {
        let inner = &*self.inner;
        let ask = Shared::Ask { claimed: false };
        let Some(seal) = &inner.seal else { return ask };
        if !inner.usable() {
            bump(&inner.counters.skipped);
            return ask;
        }
        bump(&inner.counters.lookups);
        // Registered before asking, so an answer announced in between is not missed.
        let waiter = inner.waiters.register(hex(digest));
        let settled = waiter.notify.notified();
        tokio::pin!(settled);
        settled.as_mut().enable();

        let mut pipe = redis::pipe();
        pipe.get(inner.names.verdict(digest)).set_options(
            inner.names.claim(digest),
            inner.origin,
            SetOptions::default()
                .conditional_set(ExistenceCheck::NX)
                .with_expiration(SetExpiry::PX(millis(inner.claim))),
        );
        let mut conn = inner.conn.clone();
        let asked = async move { pipe.query_async(&mut conn).await };
        let Some((value, claim)) = inner
            .call::<(Option<Vec<u8>>, Option<String>)>(inner.deadline, asked)
            .await
        else {
            return ask;
        };
        let claimed = claim.is_some();
        if let Some(value) = value {
            return inner
                .open(seal, digest, &value)
                .map_or(Shared::Ask { claimed }, |(session, until)| {
                    Shared::Found(session, until)
                });
        }
        if claimed {
            return Shared::Ask { claimed };
        }
        // Another instance is asking the API about this token right now: its answer.
        bump(&inner.counters.waited);
        let _ = tokio::time::timeout(inner.claim, settled).await;
        let mut conn = inner.conn.clone();
        let key = inner.names.verdict(digest);
        let got = async move { conn.get(key).await };
        match inner.call::<Option<Vec<u8>>>(inner.deadline, got).await {
            Some(Some(value)) => inner
                .open(seal, digest, &value)
                .map_or(ask, |(session, until)| Shared::Found(session, until)),
            _ => ask,
        }
    }

    /// The session API answered about the token whose SHA-256 is `digest`: keep a verified
    /// `session` for the other instances until its deadline, and when this instance
    /// `claimed` the token, let the instances waiting for it go on. Awaited (within the
    /// deadline) so that the next instance asked for this token finds it.
    pub(crate) async fn settle(
        &self,
        digest: &Digest,
        session: Option<(&Session, i64)>,
        claimed: bool,
    ) {
        let inner = &*self.inner;
        let now_ms = inner.now.millis();
        let Some(seal) = &inner.seal else { return };
        if !inner.usable() {
            return;
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        let mut shares = false;
        if let Some((session, until)) = session {
            let ttl = until.saturating_sub(now_ms);
            let value = seal.seal(&inner.names, digest, session, now_ms, until);
            if let (true, Some(value)) = (ttl > 0, value) {
                let px = SetExpiry::PX(u64::try_from(ttl).unwrap_or(u64::MAX));
                pipe.set_options(
                    inner.names.verdict(digest),
                    value,
                    SetOptions::default().with_expiration(px),
                )
                .ignore();
                shares = true;
            }
        }
        if claimed {
            let news = format!("s {:x} {}", inner.origin, hex(digest));
            pipe.del(inner.names.claim(digest))
                .ignore()
                .publish(inner.names.channel(), news)
                .ignore();
        }
        if !shares && !claimed {
            return;
        }
        let mut conn = inner.conn.clone();
        let sent = async move { pipe.query_async::<()>(&mut conn).await };
        if inner.call(inner.deadline, sent).await.is_some() && shares {
            bump(&inner.counters.shared);
        }
    }

    /// Store and announce a revocation of `session_id` until `until_ms` (leeway included).
    /// Kept and sent later if Redis is unreachable.
    pub(crate) fn revoked(&self, session_id: &str, until_ms: i64) {
        let task = Arc::clone(&self.inner);
        let id = session_id.to_owned();
        self.inner.runtime.spawn(async move {
            // A first command on a connection that just dropped fails before the manager
            // reconnects: once more, then kept for later.
            for _ in 0..2 {
                if task.store_revocation(&id, until_ms).await {
                    return;
                }
            }
            task.keep_pending(id, until_ms);
        });
    }

    /// Store and announce that `user_id`'s sessions must be dropped (a user deleted, a
    /// membership changed): every instance drops its cached ones and refuses shared ones
    /// stored before now, for as long as a shared session may live.
    pub(crate) fn forgotten(&self, user_id: &str) {
        let inner = &*self.inner;
        let now_ms = inner.now.millis();
        inner.forget_at(user_id, now_ms);
        let key = inner.names.forgotten();
        let mut pipe = redis::pipe();
        pipe.atomic()
            .zadd(&key, user_id, now_ms)
            .ignore()
            .zrembyscore(&key, "-inf", now_ms.saturating_sub(inner.forget_window_ms))
            .ignore()
            .publish(
                inner.names.channel(),
                format!("u {:x} {now_ms} {user_id}", inner.origin),
            )
            .ignore();
        let task = Arc::clone(&self.inner);
        inner.runtime.spawn(async move {
            for _ in 0..2 {
                let mut conn = task.conn.clone();
                let pipe = pipe.clone();
                let sent = async move { pipe.query_async::<()>(&mut conn).await };
                if task.call(BACKGROUND, sent).await.is_some() {
                    return;
                }
            }
        });
    }

    pub(crate) fn stats(&self) -> FleetStats {
        let inner = &*self.inner;
        let c = &inner.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        FleetStats {
            lookups: get(&c.lookups),
            hits: get(&c.hits),
            refused: get(&c.refused),
            errors: get(&c.errors),
            skipped: get(&c.skipped),
            shared: get(&c.shared),
            waited: get(&c.waited),
            published: get(&c.published),
            received: get(&c.received),
            pending: inner
                .pending
                .lock()
                .map_or(0, |p| u64::try_from(p.len()).unwrap_or(u64::MAX)),
            reloads: get(&c.reloads),
            connected: inner.health.is_ok() && !inner.disconnected.load(Ordering::Relaxed),
        }
    }
}

impl Inner {
    /// Whether to ask Redis on a request's path: not while the connection is known to be
    /// down (the connection manager says so at once), nor while calls keep failing.
    fn usable(&self) -> bool {
        !self.disconnected.load(Ordering::Relaxed) && self.health.allows(self.now.millis())
    }

    /// Run one call within `deadline`, keeping the health: `None` on error or timeout.
    pub(super) async fn call<T>(
        &self,
        deadline: Duration,
        call: impl Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        let code = match tokio::time::timeout(deadline, call).await {
            Ok(Ok(value)) => {
                self.health.ok();
                return Some(value);
            }
            Ok(Err(_)) => "redis_error",
            Err(_) => "redis_timeout",
        };
        self.health.failed(self.now.millis());
        bump(&self.counters.errors);
        tracing::debug!(code, "authrocket: redis call failed (a miss)");
        None
    }

    /// The session in a stored `value` for `digest`, if this deployment sealed it for this
    /// token, it is still usable, and its user was not forgotten since.
    fn open(&self, seal: &Seal, digest: &Digest, value: &[u8]) -> Option<(Session, i64)> {
        let opened = match seal.open(&self.names, digest, value, self.now.millis()) {
            Ok(opened) => opened,
            Err(Refusal::Expired) => return None,
            Err(refusal) => {
                bump(&self.counters.refused);
                let code = match refusal {
                    Refusal::Tampered => "fleet_tampered",
                    _ => "fleet_unreadable",
                };
                tracing::debug!(code, "authrocket: shared session refused");
                return None;
            }
        };
        if self.forgotten_since(opened.session.user_id(), opened.stored_ms) {
            return None;
        }
        bump(&self.counters.hits);
        Some((opened.session, opened.until_ms))
    }

    /// Store the revocation and announce it, in one transaction: `true` once done.
    pub(super) async fn store_revocation(&self, id: &str, until_ms: i64) -> bool {
        let key = self.names.revoked();
        let mut pipe = redis::pipe();
        pipe.atomic()
            .zadd(&key, id, until_ms)
            .ignore()
            .zrembyscore(&key, "-inf", self.now.millis())
            .ignore()
            .publish(
                self.names.channel(),
                format!("r {:x} {until_ms} {id}", self.origin),
            )
            .ignore();
        let mut conn = self.conn.clone();
        let stored = self
            .call(BACKGROUND, async move {
                pipe.query_async::<()>(&mut conn).await
            })
            .await;
        if stored.is_some() {
            bump(&self.counters.published);
        }
        stored.is_some()
    }

    fn keep_pending(&self, id: String, until_ms: i64) {
        if let Ok(mut pending) = self.pending.lock()
            && pending.len() < PENDING
        {
            pending.push((id, until_ms));
        }
    }

    /// Remember that `user_id` was forgotten at `at_ms`: `false` if that was already known.
    pub(super) fn forget_at(&self, user_id: &str, at_ms: i64) -> bool {
        let Ok(mut forgotten) = self.forgotten.lock() else {
            return false;
        };
        if forgotten.get(user_id).is_some_and(|known| *known >= at_ms) {
            return false;
        }
        if forgotten.len() >= FORGOTTEN {
            let (now_ms, window) = (self.now.millis(), self.forget_window_ms);
            forgotten.retain(|_, at| now_ms.saturating_sub(*at) < window);
        }
        if forgotten.len() < FORGOTTEN {
            forgotten.insert(user_id.to_owned(), at_ms);
        }
        true
    }

    pub(super) fn forget_window_ms(&self) -> i64 {
        self.forget_window_ms
    }

    /// Whether `user_id` was forgotten after a session of theirs was stored at `stored_ms`.
    fn forgotten_since(&self, user_id: &str, stored_ms: i64) -> bool {
        self.forgotten
            .lock()
            .map(|f| f.get(user_id).is_some_and(|at| *at >= stored_ms))
            .unwrap_or(true)
    }
}

fn rand_bytes() -> [u8; 8] {
    let mut out = [0u8; 8];
    // An id, not a secret: a failure only makes two instances share one (then each applies
    // the other's announcements twice, harmlessly).
    let _ = aws_lc_rs::rand::fill(&mut out);
    out
}

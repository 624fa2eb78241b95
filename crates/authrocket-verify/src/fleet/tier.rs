//! The fleet tier itself: one Redis connection (redis-rs's connection manager, RESP3 so that
//! announcements arrive on the same connection), the sealed verdicts, the announcements.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, IntoConnectionInfo, ProtocolVersion, PushInfo, SetExpiry, SetOptions};
use tokio::sync::mpsc::UnboundedReceiver;

use super::codec::{Names, Refusal, Seal};
use super::health::Health;
use super::{FleetSettings, FleetStats, Listener};
use crate::cache::Digest;
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
    pub(super) published: AtomicU64,
    pub(super) received: AtomicU64,
    pub(super) reloads: AtomicU64,
}

pub(super) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// The connection and what goes through it, shared with the background tasks.
pub(super) struct Inner {
    pub(super) conn: ConnectionManager,
    pub(super) names: Names,
    seal: Option<Seal>,
    deadline: Duration,
    pub(super) health: Health,
    pub(super) counters: Counters,
    pub(super) runtime: tokio::runtime::Handle,
    /// This instance's id in announcements: its own are not applied twice.
    pub(super) origin: u64,
    /// Whether the connection is known to be down (announced by the connection manager).
    pub(super) disconnected: AtomicBool,
    /// Revocations not yet stored in Redis.
    pub(super) pending: Mutex<Vec<(String, i64)>>,
    /// Users forgotten, and when (Unix milliseconds).
    forgotten: Mutex<HashMap<String, i64>>,
    forget_window_ms: i64,
    /// The announcements' receiver, until the listener task takes it.
    pushes: Mutex<Option<UnboundedReceiver<PushInfo>>>,
}

/// The fleet tier of one verifier.
pub(crate) struct Fleet {
    inner: Arc<Inner>,
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
        let origin = u64::from_ne_bytes(rand_bytes());
        Ok(Self {
            inner: Arc::new(Inner {
                conn,
                names: Names::new(s.realm, s.site),
                seal: s.seal_secret.map(Seal::new),
                deadline: s.timeout,
                health: Health::default(),
                counters: Counters::default(),
                runtime,
                origin,
                disconnected: AtomicBool::new(true),
                pending: Mutex::new(Vec::new()),
                forgotten: Mutex::new(HashMap::new()),
                forget_window_ms: i64::try_from(s.ttl.as_millis()).unwrap_or(i64::MAX),
                pushes: Mutex::new(Some(rx)),
            }),
        })
    }

    /// Connect, subscribe and load the stored revocations in the background, handing what
    /// arrives to `listener` for as long as it lives.
    pub(crate) fn start(&self, listener: Weak<dyn Listener>) {
        let pushes = self.inner.pushes.lock().ok().and_then(|mut p| p.take());
        if let Some(pushes) = pushes {
            let inner = Arc::clone(&self.inner);
            self.inner
                .runtime
                .spawn(super::listen::run(inner, listener, pushes));
        }
    }

    /// The session another instance verified for the token whose SHA-256 is `digest`, and
    /// until when it may be used; `None` on a miss, an error, a slow answer or a value this
    /// deployment did not seal for this token.
    pub(crate) async fn verdict(&self, digest: &Digest, now_ms: i64) -> Option<(Session, i64)> {
        let inner = &*self.inner;
        let seal = inner.seal.as_ref()?;
        if !inner.health.allows(now_ms) {
            bump(&inner.counters.skipped);
            return None;
        }
        bump(&inner.counters.lookups);
        let key = inner.names.verdict(digest);
        let mut conn = inner.conn.clone();
        let got: Option<Vec<u8>> = inner
            .call(now_ms, inner.deadline, async move { conn.get(key).await })
            .await?;
        let opened = match seal.open(&inner.names, digest, &got?, now_ms) {
            Ok(opened) => opened,
            Err(Refusal::Expired) => return None,
            Err(refusal) => {
                bump(&inner.counters.refused);
                let code = match refusal {
                    Refusal::Tampered => "fleet_tampered",
                    _ => "fleet_unreadable",
                };
                tracing::debug!(code, "authrocket: shared session refused");
                return None;
            }
        };
        if inner.forgotten_since(opened.session.user_id(), opened.stored_ms) {
            return None;
        }
        bump(&inner.counters.hits);
        Some((opened.session, opened.until_ms))
    }

    /// Keep `session`, just verified for the token whose SHA-256 is `digest`, for the other
    /// instances until `until_ms`. Awaited (within the deadline) so that the next instance
    /// asked for this token finds it.
    pub(crate) async fn share(
        &self,
        digest: &Digest,
        session: &Session,
        until_ms: i64,
        now_ms: i64,
    ) {
        let inner = &*self.inner;
        let Some(seal) = &inner.seal else { return };
        let ttl = until_ms.saturating_sub(now_ms);
        if ttl <= 0 || !inner.health.allows(now_ms) {
            return;
        }
        let Some(value) = seal.seal(&inner.names, digest, session, now_ms, until_ms) else {
            return;
        };
        let key = inner.names.verdict(digest);
        let mut conn = inner.conn.clone();
        let options = SetOptions::default()
            .with_expiration(SetExpiry::PX(u64::try_from(ttl).unwrap_or(u64::MAX)));
        let set = async move { conn.set_options::<_, _, ()>(key, value, options).await };
        if inner.call(now_ms, inner.deadline, set).await.is_some() {
            bump(&inner.counters.shared);
        }
    }

    /// Store and announce a revocation of `session_id` until `until_ms` (leeway included).
    /// Kept and sent later if Redis is unreachable.
    pub(crate) fn revoked(&self, session_id: &str, until_ms: i64, now_ms: i64) {
        let task = Arc::clone(&self.inner);
        let id = session_id.to_owned();
        self.inner.runtime.spawn(async move {
            // A first command on a connection that just dropped fails before the manager
            // reconnects: once more, then kept for later.
            for _ in 0..2 {
                if task.store_revocation(&id, until_ms, now_ms).await {
                    return;
                }
            }
            task.keep_pending(id, until_ms);
        });
    }

    /// Announce that `user_id`'s sessions must be dropped (a user deleted, a membership
    /// changed); shared sessions stored before `now_ms` are refused here from now on.
    pub(crate) fn forgotten(&self, user_id: &str, now_ms: i64) {
        self.inner.forget(user_id, now_ms);
        let task = Arc::clone(&self.inner);
        let message = format!("u {:x} {user_id}", self.inner.origin);
        self.inner.runtime.spawn(async move {
            for _ in 0..2 {
                if task.publish(&message, now_ms).await {
                    return;
                }
            }
        });
    }

    pub(crate) fn stats(&self) -> FleetStats {
        let c = &self.inner.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        FleetStats {
            lookups: get(&c.lookups),
            hits: get(&c.hits),
            refused: get(&c.refused),
            errors: get(&c.errors),
            skipped: get(&c.skipped),
            shared: get(&c.shared),
            published: get(&c.published),
            received: get(&c.received),
            reloads: get(&c.reloads),
            pending: self
                .inner
                .pending
                .lock()
                .map_or(0, |p| u64::try_from(p.len()).unwrap_or(u64::MAX)),
            connected: self.inner.health.is_ok()
                && !self.inner.disconnected.load(Ordering::Relaxed),
        }
    }
}

impl Inner {
    /// Run one call within `deadline`, keeping the health: `None` on error or timeout.
    pub(super) async fn call<T>(
        &self,
        now_ms: i64,
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
        self.health.failed(now_ms);
        bump(&self.counters.errors);
        tracing::debug!(code, "authrocket: redis call failed (a miss)");
        None
    }

    /// Store the revocation and announce it, in one transaction: `true` once done.
    pub(super) async fn store_revocation(&self, id: &str, until_ms: i64, now_ms: i64) -> bool {
        let key = self.names.revoked();
        let mut pipe = redis::pipe();
        pipe.atomic()
            .zadd(&key, id, until_ms)
            .ignore()
            .zrembyscore(&key, "-inf", now_ms)
            .ignore()
            .publish(
                self.names.channel(),
                format!("r {:x} {until_ms} {id}", self.origin),
            )
            .ignore();
        let mut conn = self.conn.clone();
        let stored = self
            .call(now_ms, BACKGROUND, async move {
                pipe.query_async::<()>(&mut conn).await
            })
            .await;
        if stored.is_some() {
            bump(&self.counters.published);
        }
        stored.is_some()
    }

    async fn publish(&self, message: &str, now_ms: i64) -> bool {
        let mut conn = self.conn.clone();
        let channel = self.names.channel();
        let message = message.to_owned();
        self.call(now_ms, BACKGROUND, async move {
            conn.publish::<_, _, ()>(channel, message).await
        })
        .await
        .is_some()
    }

    fn keep_pending(&self, id: String, until_ms: i64) {
        if let Ok(mut pending) = self.pending.lock() {
            if pending.len() < PENDING {
                pending.push((id, until_ms));
            }
        }
    }

    /// Remember that `user_id` was forgotten at `now_ms`.
    pub(super) fn forget(&self, user_id: &str, now_ms: i64) {
        let Ok(mut forgotten) = self.forgotten.lock() else {
            return;
        };
        if forgotten.len() >= FORGOTTEN {
            let window = self.forget_window_ms;
            forgotten.retain(|_, at| now_ms.saturating_sub(*at) < window);
        }
        if forgotten.len() < FORGOTTEN {
            forgotten.insert(user_id.to_owned(), now_ms);
        }
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

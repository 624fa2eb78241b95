//! The fleet tier's background task: subscribe to the announcements, apply those of other
//! instances, and on every (re)subscription send the revocations kept while Redis was
//! unreachable and load the stored set — pub/sub keeps no history.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::{AsyncCommands, PushInfo, PushKind, Value};
use tokio::sync::mpsc::UnboundedReceiver;

use super::Listener;
use super::tier::{BACKGROUND, Fleet, Inner, bump};

/// How often the task checks that its verifier lives, and pings Redis while it is down.
const PROBE: Duration = Duration::from_secs(1);
/// Revocations loaded per call.
const PAGE: isize = 10_000;

impl Fleet {
    /// Connect, subscribe and load the stored revocations in the background, handing what
    /// arrives to `listener` for as long as it lives.
    pub(crate) fn start(&self, listener: Weak<dyn Listener>) {
        let pushes = self.inner.pushes.lock().ok().and_then(|mut p| p.take());
        if let Some(pushes) = pushes {
            let inner = Arc::clone(&self.inner);
            self.inner.runtime.spawn(run(inner, listener, pushes));
        }
    }
}

async fn run(
    inner: Arc<Inner>,
    listener: Weak<dyn Listener>,
    mut pushes: UnboundedReceiver<PushInfo>,
) {
    // Subscribe until it works: its confirmation (a push) loads the set.
    loop {
        if listener.strong_count() == 0 {
            return;
        }
        if subscribe(&inner).await {
            break;
        }
        tokio::time::sleep(PROBE).await;
    }
    loop {
        tokio::select! {
            push = pushes.recv() => {
                let Some(push) = push else { return };
                let Some(listener) = listener.upgrade() else { return };
                on_push(&inner, &*listener, push);
            }
            () = tokio::time::sleep(PROBE) => {
                if listener.strong_count() == 0 {
                    return;
                }
                let disconnected = inner.disconnected.load(Ordering::Relaxed);
                if disconnected || !inner.health.is_ok() {
                    // A command makes the connection manager reconnect (and resubscribe).
                    let mut conn = inner.conn.clone();
                    let ping = async move { redis::cmd("PING").query_async::<()>(&mut conn).await };
                    let back = inner.call(BACKGROUND, ping).await.is_some();
                    if back && disconnected {
                        // Connected, but no resubscription was seen: subscribe again (its
                        // confirmation clears the flag and loads the set).
                        subscribe(&inner).await;
                    }
                }
            }
        }
        // After a (re)subscription, until it succeeds: store what was kept, load the set.
        if inner.stale.load(Ordering::Relaxed) {
            let Some(listener) = listener.upgrade() else {
                return;
            };
            if flush_pending(&inner).await && reload(&inner, &*listener).await {
                inner.stale.store(false, Ordering::Relaxed);
            }
        }
    }
}

/// Subscribe to the announcements (the connection manager resubscribes after a
/// reconnection); its confirmation arrives as a push. `true` once subscribed.
async fn subscribe(inner: &Inner) -> bool {
    let mut conn = inner.conn.clone();
    let channel = inner.names.channel();
    inner
        .call(BACKGROUND, async move { conn.subscribe(channel).await })
        .await
        .is_some()
}

fn on_push(inner: &Inner, listener: &dyn Listener, push: PushInfo) {
    match push.kind {
        PushKind::Message => {
            if let Some(text) = push.data.get(1).and_then(text) {
                apply(inner, listener, &text);
            }
        }
        PushKind::Subscribe => {
            inner.disconnected.store(false, Ordering::Relaxed);
            inner.health.ok();
            inner.stale.store(true, Ordering::Relaxed);
        }
        PushKind::Disconnection => {
            inner.disconnected.store(true, Ordering::Relaxed);
            tracing::debug!(
                code = "redis_disconnected",
                "authrocket: redis connection lost"
            );
        }
        _ => {}
    }
}

fn text(value: &Value) -> Option<String> {
    redis::from_redis_value_ref::<String>(value).ok()
}

/// Apply one announcement of another instance: `r {origin} {until_ms} {session_id}` (a
/// revocation), `u {origin} {at_ms} {user_id}` (a user to forget) or `s {origin} {digest}` (a token
/// it asked the API about is settled). Anything else is ignored.
fn apply(inner: &Inner, listener: &dyn Listener, message: &str) {
    let mut parts = message.splitn(3, ' ');
    let (Some(kind), Some(origin), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    if u64::from_str_radix(origin, 16).ok() == Some(inner.origin) {
        return;
    }
    match kind {
        "r" => {
            let Some((until, id)) = rest.split_once(' ') else {
                return;
            };
            if let (Ok(until), false) = (until.parse::<i64>(), id.is_empty()) {
                listener.revoked(id, until);
                bump(&inner.counters.received);
            }
        }
        "u" => {
            let Some((at, user_id)) = rest.split_once(' ') else {
                return;
            };
            if let (Ok(at), false) = (at.parse::<i64>(), user_id.is_empty()) {
                inner.forget_at(user_id, at);
                listener.forgotten(user_id);
            }
        }
        "s" => inner.waiters.wake(rest),
        _ => {}
    }
}

/// Store the revocations kept while Redis was unreachable: `true` once all are.
async fn flush_pending(inner: &Inner) -> bool {
    let pending = inner
        .pending
        .lock()
        .map(|mut p| std::mem::take(&mut *p))
        .unwrap_or_default();
    let mut all = true;
    for (id, until) in pending {
        if !inner.store_revocation(&id, until).await {
            all = false;
            if let Ok(mut p) = inner.pending.lock() {
                p.push((id, until));
            }
        }
    }
    all
}

/// Load every stored revocation that has not expired, and every user forgotten within the
/// window of shared sessions: `true` once done.
async fn reload(inner: &Inner, listener: &dyn Listener) -> bool {
    let now = inner.now.millis();
    let Some(revoked) = load(inner, inner.names.revoked(), now).await else {
        return false;
    };
    for (id, until) in revoked {
        listener.revoked(&id, until);
    }
    let since = now.saturating_sub(inner.forget_window_ms());
    let Some(forgotten) = load(inner, inner.names.forgotten(), since).await else {
        return false;
    };
    for (user_id, at) in forgotten {
        // Users forgotten while this instance was not listening: drop what it cached.
        if inner.forget_at(&user_id, at) {
            listener.forgotten(&user_id);
        }
    }
    bump(&inner.counters.reloads);
    true
}

/// The members of the sorted set `key` scored from `min` on, a page at a time.
async fn load(inner: &Inner, key: String, min: i64) -> Option<Vec<(String, i64)>> {
    let mut all = Vec::new();
    let mut offset: isize = 0;
    loop {
        let mut conn = inner.conn.clone();
        let key = key.clone();
        let page = async move {
            conn.zrangebyscore_limit_withscores::<_, _, _, Vec<(String, f64)>>(
                key, min, "+inf", offset, PAGE,
            )
            .await
        };
        let page = inner.call(BACKGROUND, page).await?;
        let len = page.len();
        // Scores are whole milliseconds, exact in an f64 for a quarter of a million years.
        #[allow(clippy::cast_possible_truncation)]
        all.extend(
            page.into_iter()
                .map(|(member, score)| (member, score as i64)),
        );
        if len < PAGE as usize {
            return Some(all);
        }
        offset += PAGE;
    }
}

//! The fleet tier's background task: subscribe to the announcements, apply those of other
//! instances, and on every (re)subscription send the revocations kept while Redis was
//! unreachable and load the stored set — pub/sub keeps no history.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::{AsyncCommands, PushInfo, PushKind, Value};
use tokio::sync::mpsc::UnboundedReceiver;

use super::Listener;
use super::tier::{BACKGROUND, Inner, bump};

/// How often the task checks that its verifier lives, and pings Redis while it is down.
const PROBE: Duration = Duration::from_secs(1);
/// Revocations loaded per call.
const PAGE: isize = 10_000;

pub(super) async fn run(
    inner: Arc<Inner>,
    listener: Weak<dyn Listener>,
    mut pushes: UnboundedReceiver<PushInfo>,
) {
    // Subscribe until it works: its confirmation (a push) loads the set.
    loop {
        if listener.strong_count() == 0 {
            return;
        }
        let mut conn = inner.conn.clone();
        let channel = inner.names.channel();
        let subscribed = inner
            .call(BACKGROUND, async move { conn.subscribe(channel).await })
            .await;
        if subscribed.is_some() {
            break;
        }
        tokio::time::sleep(PROBE).await;
    }
    loop {
        tokio::select! {
            push = pushes.recv() => {
                let Some(push) = push else { return };
                let Some(listener) = listener.upgrade() else { return };
                on_push(&inner, &*listener, push).await;
            }
            () = tokio::time::sleep(PROBE) => {
                if listener.strong_count() == 0 {
                    return;
                }
                let down = inner.disconnected.load(Ordering::Relaxed) || !inner.health.is_ok();
                if down {
                    // A command makes the connection manager reconnect (and resubscribe).
                    let mut conn = inner.conn.clone();
                    let ping = async move { redis::cmd("PING").query_async::<()>(&mut conn).await };
                    inner.call(BACKGROUND, ping).await;
                }
            }
        }
    }
}

async fn on_push(inner: &Inner, listener: &dyn Listener, push: PushInfo) {
    match push.kind {
        PushKind::Message => {
            if let Some(text) = push.data.get(1).and_then(text) {
                apply(inner, listener, &text);
            }
        }
        PushKind::Subscribe => {
            inner.disconnected.store(false, Ordering::Relaxed);
            inner.health.ok();
            flush_pending(inner).await;
            reload(inner, listener).await;
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
/// revocation), `u {origin} {user_id}` (a user to forget) or `s {origin} {digest}` (a token
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
        "u" if !rest.is_empty() => {
            inner.forget(rest);
            listener.forgotten(rest);
        }
        "s" => inner.waiters.wake(rest),
        _ => {}
    }
}

/// Store the revocations kept while Redis was unreachable.
async fn flush_pending(inner: &Inner) {
    let pending = inner
        .pending
        .lock()
        .map(|mut p| std::mem::take(&mut *p))
        .unwrap_or_default();
    for (id, until) in pending {
        if !inner.store_revocation(&id, until).await {
            if let Ok(mut p) = inner.pending.lock() {
                p.push((id, until));
            }
        }
    }
}

/// Load every stored revocation that has not expired, a page at a time.
async fn reload(inner: &Inner, listener: &dyn Listener) {
    let key = inner.names.revoked();
    let mut offset: isize = 0;
    loop {
        let now = inner.now.millis();
        let mut conn = inner.conn.clone();
        let key = key.clone();
        let page = async move {
            conn.zrangebyscore_limit_withscores::<_, _, _, Vec<(String, f64)>>(
                key, now, "+inf", offset, PAGE,
            )
            .await
        };
        let Some(page) = inner.call(BACKGROUND, page).await else {
            return; // the next reconnection loads it again
        };
        let len = page.len();
        for (id, until) in page {
            // Scores are whole milliseconds, exact in an f64 for a quarter of a million years.
            #[allow(clippy::cast_possible_truncation)]
            listener.revoked(&id, until as i64);
        }
        if len < PAGE as usize {
            break;
        }
        offset += PAGE;
    }
    bump(&inner.counters.reloads);
}

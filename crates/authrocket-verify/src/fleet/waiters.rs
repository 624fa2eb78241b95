//! Misses waiting for another instance's session-API answer: one [`Notify`] per token
//! digest, woken when that instance announces it has settled the token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

#[derive(Debug, Default)]
pub(super) struct Waiters {
    /// Per hex digest: its notifier and how many wait on it.
    map: Mutex<HashMap<String, (Arc<Notify>, usize)>>,
}

/// One registered wait; unregistered when dropped.
pub(super) struct Waiter<'a> {
    waiters: &'a Waiters,
    id: String,
    pub(super) notify: Arc<Notify>,
}

impl Waiters {
    /// Wait for news of `id` (register before asking Redis, so no news is missed).
    pub(super) fn register(&self, id: String) -> Waiter<'_> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map
            .entry(id.clone())
            .or_insert_with(|| (Arc::new(Notify::new()), 0));
        entry.1 += 1;
        let notify = Arc::clone(&entry.0);
        Waiter {
            waiters: self,
            id,
            notify,
        }
    }

    /// Another instance settled `id`: wake whoever waits for it.
    pub(super) fn wake(&self, id: &str) {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((notify, _)) = map.get(id) {
            notify.notify_waiters();
        }
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        let mut map = self.waiters.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = map.get_mut(&self.id) {
            entry.1 -= 1;
            if entry.1 == 0 {
                map.remove(&self.id);
            }
        }
    }
}

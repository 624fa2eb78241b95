//! Single-flight: concurrent misses of one token share one verification (one session-API
//! call), which runs to completion as long as one of them still waits for it.

use std::collections::HashMap;
use std::sync::Mutex;

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};

use super::store::Digest;
use crate::error::VerifyError;
use crate::session::Session;

type Outcome = Result<Session, VerifyError>;
type Flight = Shared<BoxFuture<'static, Outcome>>;

#[derive(Default)]
pub(crate) struct Flights {
    running: Mutex<HashMap<Digest, Flight>>,
}

/// Takes a finished (or abandoned) flight off the board when its leader is done with it.
struct Landing<'f> {
    flights: &'f Flights,
    key: Digest,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        let mut running = self
            .flights
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        running.remove(&self.key);
    }
}

impl Flights {
    /// The outcome of the flight for `key`: joined if one is running, else started with
    /// `start`.
    pub(crate) async fn run(
        &self,
        key: Digest,
        start: impl FnOnce() -> BoxFuture<'static, Outcome>,
    ) -> Outcome {
        let (flight, landing) = {
            let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
            match running.get(&key) {
                Some(flight) => (flight.clone(), None),
                None => {
                    let flight = start().shared();
                    running.insert(key, flight.clone());
                    (flight, Some(Landing { flights: self, key }))
                }
            }
        };
        let outcome = flight.await;
        drop(landing);
        outcome
    }

    /// Flights under way (for tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.running.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn started(counter: &Arc<AtomicUsize>) -> impl FnOnce() -> BoxFuture<'static, Outcome> {
        let counter = Arc::clone(counter);
        move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async {
                tokio::task::yield_now().await;
                Err(VerifyError::REVOKED)
            }
            .boxed()
        }
    }

    #[tokio::test]
    async fn concurrent_runs_share_one_flight_which_then_lands() {
        let flights = Flights::default();
        let starts = Arc::new(AtomicUsize::new(0));
        let runs = (0..10).map(|_| flights.run([1; 32], started(&starts)));
        let outcomes = futures_util::future::join_all(runs).await;
        assert!(
            outcomes
                .iter()
                .all(|o| o.as_ref().unwrap_err() == &VerifyError::REVOKED)
        );
        assert_eq!(starts.load(Ordering::SeqCst), 1);
        assert_eq!(flights.len(), 0, "landed");
        flights.run([1; 32], started(&starts)).await.unwrap_err();
        assert_eq!(starts.load(Ordering::SeqCst), 2, "a later miss flies again");
    }

    #[tokio::test]
    async fn an_abandoned_flight_does_not_block_the_next() {
        let flights = Flights::default();
        let starts = Arc::new(AtomicUsize::new(0));
        let never = || futures_util::future::pending::<Outcome>().boxed();
        let abandoned = flights.run([2; 32], never);
        let poll_once = futures_util::FutureExt::now_or_never(abandoned);
        assert!(poll_once.is_none());
        assert_eq!(
            flights.len(),
            0,
            "the leader went away: the flight left the board"
        );
        flights.run([2; 32], started(&starts)).await.unwrap_err();
        assert_eq!(starts.load(Ordering::SeqCst), 1);
    }
}

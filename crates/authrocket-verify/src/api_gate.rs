//! The gate in front of the session API: one client must not take AuthRocket away from
//! everyone (AuthRocket rate-limits per API key).
//!
//! * **Breaker**: when the API answers 429 (or 503 with `Retry-After`), no call is made until
//!   that time has passed; verifications that need the API answer 503 at once with the
//!   remaining time. Sessions already cached never get here, so they keep working.
//! * **Budget**: at most `rate` calls per second (a token bucket holding one second's worth)
//!   and `max_in_flight` calls at once. Past it a verification answers 503 at once instead of
//!   queueing behind the others. Confirming webhook deliveries (which anyone can post) may use
//!   a quarter of each at most, so a flood of them never takes the API from verifications.
//!
//! Nothing here blocks or awaits: one atomic read when the gate is open and idle, one short
//! lock for the bucket per call made.

// Without the `http` feature only the budget's settings are read (nothing is called).
#![cfg_attr(not(feature = "http"), allow(dead_code))]

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::time::Duration;

use crate::clock::Now;
use crate::error::VerifyError;

/// How long to wait after a 429 that does not say.
pub(crate) const DEFAULT_HOLD_OFF: Duration = Duration::from_secs(5);

/// What a caller is told to wait when the budget is spent.
const BUSY_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The session-API budget: calls per second and calls at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Budget {
    pub(crate) per_second: u32,
    pub(crate) max_in_flight: u32,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            per_second: 100,
            max_in_flight: 32,
        }
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled_ms: i64,
}

/// One budget: a token bucket and an in-flight count.
#[derive(Debug)]
struct Lane {
    budget: Budget,
    in_flight: AtomicU32,
    bucket: Mutex<Bucket>,
}

impl Lane {
    fn new(budget: Budget, now_ms: i64) -> Self {
        Self {
            budget,
            in_flight: AtomicU32::new(0),
            bucket: Mutex::new(Bucket {
                tokens: f64::from(budget.per_second),
                refilled_ms: now_ms,
            }),
        }
    }

    /// Take an in-flight slot and a token, or say why not (the slot given back).
    fn enter(&self, now_ms: i64) -> Result<(), &'static str> {
        if self.in_flight.fetch_add(1, Ordering::AcqRel) >= self.budget.max_in_flight {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            return Err("too many session-API calls in flight");
        }
        if !self.take_token(now_ms) {
            self.leave();
            return Err("session-API call rate limit reached");
        }
        Ok(())
    }

    fn leave(&self) {
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }

    fn take_token(&self, now_ms: i64) -> bool {
        let rate = f64::from(self.budget.per_second);
        let mut b = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
        let elapsed_ms = now_ms.saturating_sub(b.refilled_ms).max(0);
        b.tokens = (b.tokens + rate * elapsed_ms as f64 / 1000.0).min(rate);
        b.refilled_ms = b.refilled_ms.max(now_ms);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Who is calling: a verification, or the confirmation of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Caller {
    /// A verification: the whole budget.
    Verification,
    /// An event delivery: a quarter of the budget at most, within the whole, so deliveries
    /// (anyone can post one) never take the API from verifications.
    Event,
}

#[derive(Debug)]
pub(crate) struct ApiGate {
    now: Now,
    /// Unix milliseconds before which the API asked not to be called.
    closed_until_ms: AtomicI64,
    all: Lane,
    events: Lane,
}

/// One admitted call; dropping it frees its in-flight slots.
pub(crate) struct Permit<'g> {
    gate: &'g ApiGate,
    caller: Caller,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.gate.all.leave();
        if self.caller == Caller::Event {
            self.gate.events.leave();
        }
    }
}

/// Whole seconds to wait from `now_ms` until `until_ms`, at least one.
fn seconds_until(now_ms: i64, until_ms: i64) -> Duration {
    let ms = u64::try_from(until_ms.saturating_sub(now_ms)).unwrap_or(0);
    Duration::from_secs(ms.div_ceil(1000).max(1))
}

impl ApiGate {
    pub(crate) fn new(budget: Budget, now: Now) -> Self {
        let now_ms = now.millis();
        let quarter = Budget {
            per_second: budget.per_second.div_ceil(4),
            max_in_flight: budget.max_in_flight.div_ceil(4),
        };
        Self {
            now,
            closed_until_ms: AtomicI64::new(i64::MIN),
            all: Lane::new(budget, now_ms),
            events: Lane::new(quarter, now_ms),
        }
    }

    /// Admit one call now, or say why not (503 at once, with how long to wait).
    pub(crate) fn admit(&self, caller: Caller) -> Result<Permit<'_>, VerifyError> {
        let now = self.now.millis();
        let closed_until = self.closed_until_ms.load(Ordering::Acquire);
        if now < closed_until {
            return Err(VerifyError::unavailable_for(
                "session API asked to wait (rate limited)",
                Some(seconds_until(now, closed_until)),
            ));
        }
        // The wait is over: the first caller after it says so.
        if closed_until != i64::MIN
            && self
                .closed_until_ms
                .compare_exchange(closed_until, i64::MIN, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            crate::meters::breaker(false);
        }
        let busy = |reason| VerifyError::unavailable_for(reason, Some(BUSY_RETRY_AFTER));
        if caller == Caller::Event {
            self.events.enter(now).map_err(busy)?;
        }
        if let Err(reason) = self.all.enter(now) {
            if caller == Caller::Event {
                self.events.leave();
            }
            return Err(busy(reason));
        }
        Ok(Permit { gate: self, caller })
    }

    /// The API asked us to wait `retry_after`: no call until then, for anyone.
    pub(crate) fn hold_off(&self, retry_after: Duration) {
        let ms = i64::try_from(retry_after.as_millis()).unwrap_or(i64::MAX);
        let until = self.now.millis().saturating_add(ms);
        self.closed_until_ms.fetch_max(until, Ordering::AcqRel);
        crate::meters::breaker(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::tests::TestClock;
    use std::sync::Arc;

    fn gate(per_second: u32, max_in_flight: u32) -> (ApiGate, Arc<TestClock>) {
        let clock = Arc::new(TestClock::default());
        let budget = Budget {
            per_second,
            max_in_flight,
        };
        (ApiGate::new(budget, Now::custom(clock.clone())), clock)
    }

    #[test]
    fn the_breaker_holds_for_the_retry_after_and_says_how_long_is_left() {
        let (g, clock) = gate(100, 10);
        g.hold_off(Duration::from_secs(10));
        clock.advance(Duration::from_millis(2500));
        let err = g.admit(Caller::Verification).err().unwrap();
        assert_eq!(err.retry_after(), Some(Duration::from_secs(8)));
        clock.advance(Duration::from_millis(7500));
        assert!(g.admit(Caller::Verification).is_ok());
    }

    #[test]
    fn in_flight_slots_are_returned_when_a_call_ends() {
        let (g, _) = gate(100, 2);
        let a = g.admit(Caller::Verification).unwrap();
        let _b = g.admit(Caller::Verification).unwrap();
        assert!(g.admit(Caller::Verification).is_err());
        drop(a);
        assert!(g.admit(Caller::Verification).is_ok());
    }

    #[test]
    fn the_rate_refills_with_time() {
        let (g, clock) = gate(5, 100);
        for _ in 0..5 {
            assert!(g.admit(Caller::Verification).is_ok());
        }
        assert!(
            g.admit(Caller::Verification).is_err(),
            "one second's worth, then no more"
        );
        clock.advance(Duration::from_millis(400));
        assert!(g.admit(Caller::Verification).is_ok());
        assert!(g.admit(Caller::Verification).is_ok());
        assert!(g.admit(Caller::Verification).is_err());
    }

    #[test]
    fn events_get_a_quarter_and_never_the_verifications_share() {
        let (g, _) = gate(8, 100);
        // Events take their quarter, then are refused while verifications still pass.
        assert!(g.admit(Caller::Event).is_ok());
        assert!(g.admit(Caller::Event).is_ok());
        assert!(g.admit(Caller::Event).is_err());
        for _ in 0..6 {
            assert!(g.admit(Caller::Verification).is_ok());
        }
        // Events count against the whole too.
        assert!(g.admit(Caller::Verification).is_err());
        let (g, _) = gate(100, 4);
        let _e = g.admit(Caller::Event).unwrap();
        assert!(
            g.admit(Caller::Event).is_err(),
            "one event in flight of four"
        );
        let _v: Vec<_> = (0..3)
            .map(|_| g.admit(Caller::Verification).unwrap())
            .collect();
        assert!(g.admit(Caller::Verification).is_err());
    }
}

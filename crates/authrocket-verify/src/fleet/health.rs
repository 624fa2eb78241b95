//! When to stop asking Redis: after [`FAILURES`] failed calls in a row, no call for a second,
//! doubling up to [`LONGEST`] while the calls that are let through keep failing. Read on the
//! verifier's clock, so tests advance it instead of sleeping.

use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};

/// Failed calls in a row that close the tier.
pub(crate) const FAILURES: u32 = 3;
/// The first pause, milliseconds.
const FIRST: i64 = 1_000;
/// The longest pause, milliseconds.
const LONGEST: i64 = 30_000;

#[derive(Debug, Default)]
pub(crate) struct Health {
    failures: AtomicU32,
    /// No call before this Unix millisecond.
    closed_until: AtomicI64,
}

impl Health {
    /// Whether a call may be made at `now_ms`.
    pub(crate) fn allows(&self, now_ms: i64) -> bool {
        self.closed_until.load(Ordering::Relaxed) <= now_ms
    }

    /// A call succeeded (or the connection came back): open again.
    pub(crate) fn ok(&self) {
        if self.failures.swap(0, Ordering::Relaxed) != 0 {
            self.closed_until.store(0, Ordering::Relaxed);
        }
    }

    /// A call failed at `now_ms`.
    pub(crate) fn failed(&self, now_ms: i64) {
        let failures = self
            .failures
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        if failures >= FAILURES {
            let doublings = (failures - FAILURES).min(5);
            let pause = (FIRST << doublings).min(LONGEST);
            self.closed_until
                .store(now_ms.saturating_add(pause), Ordering::Relaxed);
        }
    }

    /// Whether the last call succeeded.
    pub(crate) fn is_ok(&self) -> bool {
        self.failures.load(Ordering::Relaxed) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_failures_close_for_a_second_then_longer() {
        let h = Health::default();
        h.failed(0);
        h.failed(0);
        assert!(h.allows(0), "two failures keep asking");
        h.failed(0);
        assert!(!h.allows(999));
        assert!(h.allows(1_000));
        h.failed(1_000);
        assert!(!h.allows(2_999) && h.allows(3_000), "doubled");
        for _ in 0..20 {
            h.failed(3_000);
        }
        assert!(!h.allows(32_999) && h.allows(33_000), "at most 30 s");
        h.ok();
        assert!(h.allows(3_000) && h.is_ok());
    }
}

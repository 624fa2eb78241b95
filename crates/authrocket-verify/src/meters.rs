//! What operators can read, through the [`metrics`](https://docs.rs/metrics) facade (cargo
//! feature `metrics`; without it every function here is empty and compiles away). Labels are
//! low-cardinality only — modes, results, error codes, tiers, outcomes — never a token, a
//! user or a session. Names and labels follow ASP.NET Core's authentication meters
//! (`aspnetcore.authentication.authenticate.duration` with `result` = `success` / `failure` /
//! `none` and `error.type`).
//!
//! | metric | kind | labels | what |
//! | --- | --- | --- | --- |
//! | `authrocket.verify.duration` | histogram (s) | `mode`, `result` (`success`, `failure`, `none`), `error.type` (the error code, on failure) | one verification, cache included |
//! | `authrocket.cache.lookups` | counter | `tier` (`hot`, `store`, `redis`), `outcome` (`hit`, `miss`) | where verdicts were found |
//! | `authrocket.api.calls` | counter | `endpoint` (`sessions`, `users`, `events`), `outcome` (`ok`, `not_found`, `unavailable`, `refused`) | session-API calls made |
//! | `authrocket.api.duration` | histogram (s) | `endpoint`, `outcome` | their latency |
//! | `authrocket.api.breaker` | gauge | — | 1 while the API's `Retry-After` holds every call, else 0 |
//! | `authrocket.jwks.fetches` | counter | `outcome` (`ok`, `error`) | JWKS fetches |
//! | `authrocket.jwks.duration` | histogram (s) | `outcome` | their latency |
//! | `authrocket.events.received` | counter | `outcome` (`applied`, `ignored`, `duplicate`, `refused`), `error.type` (on refusal) | webhook deliveries |
//! | `authrocket.revocations` | gauge | — | sessions in the revocation set |
//!
//! The verification histogram and cache counters are registered when the verifier is built:
//! install the recorder (e.g. `metrics-exporter-prometheus`) before building it. A verifier
//! built while no recorder is installed does not read the clock for the duration histogram
//! at all, so the feature costs such a verifier next to nothing.

#[cfg(feature = "metrics")]
use std::cell::Cell;
#[cfg(feature = "metrics")]
use std::time::Instant;

use crate::error::VerifyError;
use crate::session::Session;

/// Where a verdict was looked up.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Tier {
    Hot,
    Store,
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    Redis,
}

/// The hot-path handles, registered once per verifier.
#[cfg(feature = "metrics")]
pub(crate) struct Meters {
    mode: &'static str,
    /// Whether the duration histogram reaches a recorder: without one, the clock is not read.
    timed: bool,
    success: metrics::Histogram,
    none: metrics::Histogram,
    /// `[tier][hit]`
    lookups: [[metrics::Counter; 2]; 3],
}

/// No metrics in this build.
#[cfg(not(feature = "metrics"))]
pub(crate) struct Meters;

impl std::fmt::Debug for Meters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Meters")
    }
}

/// When a verification started (`None` when nobody records it; nothing without the feature).
#[cfg(feature = "metrics")]
pub(crate) type Start = Option<Instant>;
/// When a verification started (nothing without the feature).
#[cfg(not(feature = "metrics"))]
pub(crate) type Start = ();

#[cfg(feature = "metrics")]
const DURATION: &str = "authrocket.verify.duration";

#[cfg(feature = "metrics")]
impl Meters {
    /// The handles of a verifier in `mode` (`offline`, `online`, `hybrid`).
    pub(crate) fn new(mode: &'static str) -> Self {
        let lookup = |tier: &'static str, outcome: &'static str| metrics::counter!("authrocket.cache.lookups", "tier" => tier, "outcome" => outcome);
        let tier = |t| [lookup(t, "miss"), lookup(t, "hit")];
        let success = metrics::histogram!(DURATION, "mode" => mode, "result" => "success");
        Self {
            mode,
            timed: reaches_recorder(&success),
            success,
            none: metrics::histogram!(DURATION, "mode" => mode, "result" => "none"),
            lookups: [tier("hot"), tier("store"), tier("redis")],
        }
    }

    pub(crate) fn start(&self) -> Start {
        self.timed.then(Instant::now)
    }

    /// A verification that began at `start` ended with `result`.
    pub(crate) fn verified(&self, start: Start, result: &Result<Session, VerifyError>) {
        let Some(start) = start else { return };
        let seconds = start.elapsed().as_secs_f64();
        match result {
            Ok(_) => self.success.record(seconds),
            Err(e) if e.code() == "missing_token" => self.none.record(seconds),
            Err(e) => metrics::histogram!(DURATION, "mode" => self.mode, "result" => "failure",
                                          "error.type" => e.code())
            .record(seconds),
        }
    }

    pub(crate) fn lookup(&self, tier: Tier, hit: bool) {
        self.lookups[tier as usize][usize::from(hit)].increment(1);
    }
}

/// Whether `histogram` reaches a recorder. The handle a missing recorder gives out never
/// converts the value it is handed to a number; every other one does, and recording a value
/// zero times adds nothing. `metrics` has no other way to ask.
#[cfg(feature = "metrics")]
fn reaches_recorder(histogram: &metrics::Histogram) -> bool {
    /// A value that notes when it is read.
    struct Probe<'a>(&'a Cell<bool>);
    impl metrics::IntoF64 for Probe<'_> {
        fn into_f64(self) -> f64 {
            self.0.set(true);
            0.0
        }
    }
    let read = Cell::new(false);
    histogram.record_many(Probe(&read), 0);
    read.get()
}

#[cfg(not(feature = "metrics"))]
impl Meters {
    pub(crate) fn new(_: &'static str) -> Self {
        Self
    }

    #[inline(always)]
    pub(crate) fn start(&self) -> Start {}

    #[inline(always)]
    pub(crate) fn verified(&self, _: Start, _: &Result<Session, VerifyError>) {}

    #[inline(always)]
    pub(crate) fn lookup(&self, _: Tier, _: bool) {}
}

/// A session-API call to `endpoint` ended with `outcome` after `seconds`.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) fn api_call(endpoint: &'static str, outcome: &'static str, seconds: f64) {
    #[cfg(feature = "metrics")]
    {
        metrics::counter!("authrocket.api.calls", "endpoint" => endpoint, "outcome" => outcome)
            .increment(1);
        metrics::histogram!("authrocket.api.duration", "endpoint" => endpoint, "outcome" => outcome)
            .record(seconds);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (endpoint, outcome, seconds);
}

/// Whether the API's `Retry-After` holds every call.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) fn breaker(open: bool) {
    #[cfg(feature = "metrics")]
    metrics::gauge!("authrocket.api.breaker").set(f64::from(u8::from(open)));
    #[cfg(not(feature = "metrics"))]
    let _ = open;
}

/// A JWKS fetch ended with `outcome` after `seconds`.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) fn jwks_fetch(outcome: &'static str, seconds: f64) {
    #[cfg(feature = "metrics")]
    {
        metrics::counter!("authrocket.jwks.fetches", "outcome" => outcome).increment(1);
        metrics::histogram!("authrocket.jwks.duration", "outcome" => outcome).record(seconds);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (outcome, seconds);
}

/// A webhook delivery ended with `outcome` (`refused`: with the error `code`).
pub(crate) fn event(outcome: &'static str, code: Option<&'static str>) {
    #[cfg(feature = "metrics")]
    match code {
        Some(code) => metrics::counter!("authrocket.events.received", "outcome" => outcome,
                                        "error.type" => code)
        .increment(1),
        None => metrics::counter!("authrocket.events.received", "outcome" => outcome).increment(1),
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (outcome, code);
}

/// The revocation set holds `len` sessions.
pub(crate) fn revocations(len: usize) {
    #[cfg(feature = "metrics")]
    metrics::gauge!("authrocket.revocations").set(len as f64);
    #[cfg(not(feature = "metrics"))]
    let _ = len;
}

#[cfg(all(test, feature = "metrics"))]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use metrics::{
        Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString,
        Unit,
    };

    use super::Meters;

    /// A recorder that counts the values its histograms receive.
    #[derive(Default)]
    struct Samples(Arc<AtomicUsize>);

    struct Count(Arc<AtomicUsize>);

    impl HistogramFn for Count {
        fn record(&self, _: f64) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    impl Recorder for Samples {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
            Counter::noop()
        }
        fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
            Gauge::noop()
        }
        fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
            Histogram::from_arc(Arc::new(Count(Arc::clone(&self.0))))
        }
    }

    #[test]
    fn without_a_recorder_the_clock_is_not_read() {
        let meters = Meters::new("offline");
        assert!(!meters.timed);
        assert!(meters.start().is_none());
    }

    #[test]
    fn with_a_recorder_verifications_are_timed_and_the_probe_records_nothing() {
        let recorder = Samples::default();
        let meters = metrics::with_local_recorder(&recorder, || Meters::new("offline"));
        assert!(meters.timed);
        assert_eq!(
            recorder.0.load(Ordering::Relaxed),
            0,
            "the probe added a sample"
        );
        let start = meters.start();
        assert!(start.is_some());
        meters.verified(start, &Err(crate::VerifyError::missing_token()));
        assert_eq!(recorder.0.load(Ordering::Relaxed), 1);
    }
}

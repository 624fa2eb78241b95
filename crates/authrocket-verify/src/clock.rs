//! The one clock every time rule reads: token expiry, `nbf`/`iat` and leeway, cache deadlines,
//! the session API's `Retry-After` and the JWKS back-off.
//!
//! Real time by default. Tests inject a clock they can advance
//! ([`VerifierBuilder::clock`](crate::VerifierBuilder::clock); the test kit has one), so time
//! rules are tested without sleeping.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time (wall-clock Unix time: it is compared with the token's `exp`).
///
/// ```
/// use std::time::SystemTime;
/// use authrocket_verify::{Clock, Verifier};
///
/// /// A clock stopped at one instant.
/// struct Frozen(SystemTime);
///
/// impl Clock for Frozen {
///     fn now(&self) -> SystemTime {
///         self.0
///     }
/// }
///
/// let verifier = Verifier::builder()
///     .jwt_key("jsk_example")
///     .clock(Frozen(SystemTime::now()))
///     .build()?;
/// # Ok::<(), authrocket_verify::ConfigError>(())
/// ```
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system's real-time clock: the default.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// The verifier's handle on its clock: the system clock read directly (no virtual call on the
/// request path), or an injected one.
#[derive(Clone, Default)]
pub(crate) struct Now {
    custom: Option<Arc<dyn Clock>>,
}

impl fmt::Debug for Now {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.custom.is_some() {
            "Now(custom)"
        } else {
            "Now(system)"
        })
    }
}

impl Now {
    pub(crate) fn custom(clock: Arc<dyn Clock>) -> Self {
        Self {
            custom: Some(clock),
        }
    }

    /// Unix time in milliseconds (0 before the epoch, saturating far in the future).
    pub(crate) fn millis(&self) -> i64 {
        let now = match &self.custom {
            None => SystemTime::now(),
            Some(clock) => clock.now(),
        };
        now.duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }

    /// Unix time in whole seconds.
    pub(crate) fn unix(&self) -> i64 {
        self.millis().div_euclid(1000)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    /// A clock for unit tests: starts at the real time, moves only when told.
    #[derive(Debug)]
    pub(crate) struct TestClock(AtomicI64);

    impl Default for TestClock {
        fn default() -> Self {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            Self(AtomicI64::new(now.as_millis() as i64))
        }
    }

    impl TestClock {
        pub(crate) fn advance(&self, by: Duration) {
            self.0.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
        }
    }

    impl super::Clock for TestClock {
        fn now(&self) -> SystemTime {
            UNIX_EPOCH + Duration::from_millis(self.0.load(Ordering::SeqCst) as u64)
        }
    }
}

//! [`ManualClock`]: time that moves only when the test says so.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A clock for tests: it starts at the real current time and moves only when
/// [`advance`](ManualClock::advance)d. Give the same clock to the verifier
/// (`VerifierBuilder::clock`) and to the [`FakeRealm`](crate::FakeRealm)
/// ([`FakeRealmBuilder::clock`](crate::FakeRealmBuilder::clock)), and expiry, cache lifetimes
/// and `Retry-After` windows are tested without sleeping. Clones share one time.
///
/// ```
/// use std::time::Duration;
/// use authrocket_testkit::{ManualClock, SigningKey, TokenBuilder};
/// use authrocket_verify::Verifier;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let clock = ManualClock::new();
/// let key = SigningKey::hs256("jsk_example");
/// let verifier = Verifier::builder().jwt_key("jsk_example").clock(clock.clone()).build().unwrap();
/// let token = TokenBuilder::v2("usr_1").expires_in(60).sign(&key);
/// assert!(verifier.verify(&token).await.is_ok());
/// clock.advance(Duration::from_secs(120));
/// assert_eq!(verifier.verify(&token).await.unwrap_err().code(), "expired");
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    millis: Arc<AtomicI64>,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ManualClock {
    /// A clock reading the real current time, until it is advanced.
    pub fn new() -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Self {
            millis: Arc::new(AtomicI64::new(now)),
        }
    }

    /// Move the time forward.
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.millis.fetch_add(by, Ordering::SeqCst);
    }

    /// The clock's time in Unix seconds.
    pub fn now_unix(&self) -> i64 {
        self.millis.load(Ordering::SeqCst).div_euclid(1000)
    }
}

impl authrocket_verify::Clock for ManualClock {
    fn now(&self) -> SystemTime {
        let millis = u64::try_from(self.millis.load(Ordering::SeqCst)).unwrap_or(0);
        UNIX_EPOCH + Duration::from_millis(millis)
    }
}

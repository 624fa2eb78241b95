//! [`Verifier`]: the one object an application builds at start-up and clones everywhere.
//!
//! A token goes one way through it: its shape, then the cache (hot table, then the store),
//! then the [strategy](crate::strategy) — offline, online or hybrid — whose verdict the cache
//! keeps.

use std::fmt;
use std::sync::{Arc, Weak};

use tracing::Instrument;

mod access;
mod logouts;

use crate::cache::{Lookup, Miss};
use crate::config::VerifierBuilder;
use crate::error::{ConfigError, VerifyError};
use crate::fleet::Shared;
use crate::jwt::Compact;
use crate::meters::Tier;
use crate::session::Session;
use crate::setup::{self, Parts};

/// Verifies AuthRocket login tokens. Build it once, clone it freely (one reference count).
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use authrocket_verify::Verifier;
///
/// let verifier = Verifier::from_env()?;          // reads AUTHROCKET_* / LOGINROCKET_URL
/// match verifier.verify("eyJhbGciOi...").await {
///     Ok(session) => println!("hello {}", session.user_id()),
///     Err(e) if e.is_unavailable() => println!("try again later ({})", e.code()),
///     Err(e) => println!("rejected: {}", e.code()),
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Verifier {
    pub(crate) inner: Arc<Parts>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("strategy", &self.inner.strategy)
            .field("max_token_len", &self.inner.max_token_len)
            .field("cache", &self.inner.cache)
            .field("fleet", &self.inner.fleet)
            .finish_non_exhaustive()
    }
}

impl VerifierBuilder {
    /// Validate everything and build the [`Verifier`]. Fails with a [`ConfigError`] naming
    /// the variable to fix. Makes no network request.
    ///
    /// ```
    /// let verifier = authrocket_verify::Verifier::builder().jwt_key("jsk_example").build()?;
    /// # Ok::<(), authrocket_verify::ConfigError>(())
    /// ```
    pub fn build(self) -> Result<Verifier, ConfigError> {
        let inner = Arc::new(setup::compile(self)?);
        if let Some(fleet) = &inner.fleet {
            // The fleet's task hands announcements to the verifier for as long as it lives.
            let listener: Weak<Parts> = Arc::downgrade(&inner);
            fleet.start(listener);
        }
        Ok(Verifier { inner })
    }
}

impl Verifier {
    /// A builder with every setting at its default. See [`VerifierBuilder`].
    pub fn builder() -> VerifierBuilder {
        VerifierBuilder::new()
    }

    /// Build a verifier from the environment variables listed in [`crate::config`]. Fails
    /// with a [`ConfigError`] naming the variable to fix; makes no network request.
    ///
    /// ```no_run
    /// let verifier = authrocket_verify::Verifier::from_env()?;
    /// # Ok::<(), authrocket_verify::ConfigError>(())
    /// ```
    pub fn from_env() -> Result<Self, ConfigError> {
        VerifierBuilder::from_env()?.build()
    }

    /// Verify `token` and return the session it proves. An empty token is a
    /// `missing_token` error.
    ///
    /// Runs inside a `debug`-level `authrocket.verify` span that records the outcome and the
    /// error code; the token is never recorded.
    ///
    /// ```no_run
    /// # async fn run(verifier: authrocket_verify::Verifier, token: &str) {
    /// match verifier.verify(token).await {
    ///     Ok(session) => println!("{} ({:?})", session.user_id(), session.user().email),
    ///     Err(e) => println!("{}: {}", e.code(), e),
    /// }
    /// # }
    /// ```
    pub async fn verify(&self, token: &str) -> Result<Session, VerifyError> {
        let span = tracing::debug_span!(
            "authrocket.verify",
            mode = self.mode().as_str(),
            outcome = tracing::field::Empty,
            code = tracing::field::Empty,
        );
        // Without the `metrics` feature this is `()` and costs nothing.
        #[allow(clippy::let_unit_value)]
        let start = self.inner.meters.start();
        // The span is entered around the work only when a subscriber wants it.
        let result = if span.is_disabled() {
            self.verify_cached(token).await
        } else {
            self.verify_cached(token).instrument(span.clone()).await
        };
        if let Err(e) = &result {
            span.record("outcome", "rejected");
            span.record("code", e.code());
            span.in_scope(|| e.log_rejection());
        } else {
            span.record("outcome", "accepted");
        }
        self.inner.meters.verified(start, &result);
        result
    }

    /// The session unless it was revoked: checked on every path.
    fn unless_revoked(&self, session: Session) -> Result<Session, VerifyError> {
        match self.is_revoked(&session) {
            true => Err(VerifyError::REVOKED),
            false => Ok(session),
        }
    }

    /// Shape, cache, strategy, revocations: the one way a token goes.
    async fn verify_cached(&self, token: &str) -> Result<Session, VerifyError> {
        let parts = &*self.inner;
        // Shape first: garbage never reaches the cache, the network or a hash.
        let compact = Compact::split(token, parts.max_token_len)?;
        let Some(cache) = &parts.cache else {
            return self.fresh(token, compact).await;
        };
        let meters = &parts.meters;
        if let Some(session) = cache.hot(token) {
            meters.lookup(Tier::Hot, true);
            return self.unless_revoked(session);
        }
        meters.lookup(Tier::Hot, false);
        let mut miss = match cache.lookup(token) {
            Lookup::Hit(verdict) => {
                meters.lookup(Tier::Store, true);
                return verdict.and_then(|s| self.unless_revoked(s));
            }
            Lookup::Miss(miss) => miss,
        };
        meters.lookup(Tier::Store, false);
        if !parts.strategy.uses_api() {
            let verdict = self.fresh(token, compact).await;
            cache.store(token, miss, &verdict);
            return verdict;
        }
        // One session-API call for every concurrent miss of this token. The digest is taken
        // before `miss` is copied into the flight, which then reuses it (fleet key, store).
        let digest = miss.digest(token);
        let (verifier, owned) = (self.clone(), token.to_owned());
        let flight = move || -> futures_util::future::BoxFuture<'static, _> {
            Box::pin(async move {
                let compact = Compact::split(&owned, verifier.inner.max_token_len)?;
                verifier.decide(&owned, compact, miss).await
            })
        };
        parts.flights.run(digest, flight).await
    }

    /// An in-process miss the session API decides: the fleet's copy when another instance
    /// verified the token, else the strategy (its session then kept for the fleet too).
    async fn decide(
        &self,
        token: &str,
        compact: Compact<'_>,
        mut miss: Miss,
    ) -> Result<Session, VerifyError> {
        let parts = &*self.inner;
        let Some(cache) = &parts.cache else {
            return self.fresh(token, compact).await;
        };
        // Hybrid's offline check first: a forgery never reaches Redis nor the API.
        let now = parts.now.unix();
        let checked = Box::pin(parts.strategy.precheck(compact, now)).await?;
        let digest = miss.digest(token);
        let mut claimed = false;
        if let Some(fleet) = &parts.fleet {
            let shared = fleet.verdict(&digest).await;
            parts
                .meters
                .lookup(Tier::Redis, matches!(shared, Shared::Found(..)));
            match shared {
                Shared::Found(session, until) => {
                    let verdict = self.unless_revoked(session);
                    cache.store_until(token, miss, &verdict, until);
                    return verdict;
                }
                Shared::Ask { claimed: c } => claimed = c,
            }
        }
        let verdict = Box::pin(parts.strategy.finish(token, checked, now))
            .await
            .and_then(|data| self.unless_revoked(Session::new(data)));
        let until = cache.store(token, miss, &verdict);
        if let Some(fleet) = &parts.fleet {
            let session = verdict.as_ref().ok().zip(until);
            fleet.settle(&digest, session, claimed).await;
        }
        verdict
    }

    /// What the fleet tier has done, when Redis is configured (`AUTHROCKET_REDIS_URL`,
    /// cargo feature `redis`); `None` otherwise.
    ///
    /// ```
    /// let verifier = authrocket_verify::Verifier::builder().jwt_key("jsk_example").build()?;
    /// assert!(verifier.fleet_stats().is_none());
    /// # Ok::<(), authrocket_verify::ConfigError>(())
    /// ```
    pub fn fleet_stats(&self) -> Option<crate::FleetStats> {
        self.inner.fleet.as_ref().map(|f| f.stats())
    }

    /// Verify with the strategy, without the cache (a revoked session included).
    async fn fresh(&self, token: &str, compact: Compact<'_>) -> Result<Session, VerifyError> {
        // Boxed so the large cold-path future (decode buffers, JWKS and API calls) is built
        // only on a miss and never bloats the hit path's future.
        let now = self.inner.now.unix();
        let data = Box::pin(self.inner.strategy.verify(token, compact, now)).await?;
        self.unless_revoked(Session::new(data))
    }
}

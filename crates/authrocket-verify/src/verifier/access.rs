//! What a [`Verifier`] tells about itself and its configuration, and what it can do besides
//! verifying: report its cache, warm up its JWKS.

use std::time::Duration;

use crate::cache::CacheStats;
use crate::config::VerifyMode;
use crate::error::VerifyError;
use crate::session::Session;
#[cfg(feature = "http")]
use crate::strategy::Keys;
use crate::verifier::Verifier;

impl Verifier {
    /// The mode this verifier runs in.
    pub fn mode(&self) -> VerifyMode {
        self.inner.strategy.mode()
    }

    /// The configured `LOGINROCKET_URL`, if any (the base of login and logout redirects).
    pub fn loginrocket_url(&self) -> Option<&str> {
        self.inner.loginrocket_url.as_deref()
    }

    /// The app's public origin, when configured (`AUTHROCKET_APP_URL`), e.g.
    /// `https://app.example.com`: the base of the `redirect_uri`s the browser helpers build.
    ///
    /// ```
    /// let verifier = authrocket_verify::Verifier::builder()
    ///     .jwt_key("jsk_example")
    ///     .app_url("https://app.example.com/")
    ///     .build()?;
    /// assert_eq!(verifier.app_url(), Some("https://app.example.com"));
    /// # Ok::<(), authrocket_verify::ConfigError>(())
    /// ```
    pub fn app_url(&self) -> Option<&str> {
        self.inner.site.origin.as_deref()
    }

    /// Whether `peer` is one of the trusted proxies (`AUTHROCKET_TRUSTED_PROXIES`), whose
    /// `X-Forwarded-*` headers the browser helpers believe.
    pub fn trusts_proxy(&self, peer: std::net::IpAddr) -> bool {
        self.inner.site.trusts(peer)
    }

    /// How long `session` has left by this verifier's clock (zero once expired; `None`
    /// when it has no expiry) — e.g. for a cookie's `Max-Age`.
    pub fn time_left(&self, session: &Session) -> Option<Duration> {
        let exp_ms = session.expires_at()?.saturating_mul(1000);
        let left = exp_ms.saturating_sub(self.inner.now.millis());
        Some(Duration::from_millis(u64::try_from(left).unwrap_or(0)))
    }

    /// The session for `token` if it was verified a moment ago and is still valid — answered
    /// from the cache's hot table without hashing, awaiting or allocating, or `None` (then call
    /// [`verify`](Self::verify)). Middleware uses it to skip the async path for tokens it just
    /// saw; it never does any verification itself and records no span.
    ///
    /// ```
    /// # async fn run(verifier: authrocket_verify::Verifier, token: &str) -> Result<(), authrocket_verify::VerifyError> {
    /// let session = match verifier.cached(token) {
    ///     Some(session) => session,
    ///     None => verifier.verify(token).await?,
    /// };
    /// # Ok(()) }
    /// ```
    pub fn cached(&self, token: &str) -> Option<Session> {
        let session = self.inner.cache.as_ref()?.hot(token)?;
        (!self.is_revoked(&session)).then_some(session)
    }

    /// Cache hit/miss counters and the number of cached sessions (all zero when the cache is
    /// disabled with a zero TTL).
    ///
    /// ```
    /// let verifier = authrocket_verify::Verifier::builder().jwt_key("jsk_x").build()?;
    /// assert_eq!(verifier.cache_stats().hits, 0);
    /// # Ok::<(), authrocket_verify::ConfigError>(())
    /// ```
    pub fn cache_stats(&self) -> CacheStats {
        let cache = self.inner.cache.as_ref();
        cache.map(|c| c.stats()).unwrap_or_default()
    }

    /// Fetch the realm's JWKS now, so the first request does not wait for it. A no-op with a
    /// static key. Failing here is not fatal: the fetch is retried when a token needs it.
    ///
    /// ```no_run
    /// # async fn run(verifier: authrocket_verify::Verifier) {
    /// if let Err(e) = verifier.warm_up().await {
    ///     eprintln!("JWKS not reachable yet: {e}");
    /// }
    /// # }
    /// ```
    pub async fn warm_up(&self) -> Result<(), VerifyError> {
        match self.inner.strategy.offline().map(|o| &o.keys) {
            #[cfg(feature = "http")]
            Some(Keys::Jwks(jwks)) => jwks.refresh().await.map_err(VerifyError::unavailable),
            _ => Ok(()),
        }
    }
}

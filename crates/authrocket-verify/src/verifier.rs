//! [`Verifier`]: the one object an application builds at start-up and clones everywhere.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use tracing::Instrument;

use crate::api_gate::ApiGate;
use crate::browser::AppSite;
use crate::cache::{self, Cache, CacheStats, Policy};
use crate::claims::{ClaimRules, RawClaims};
use crate::clock::Now;
use crate::config::{Mode, VerifierBuilder};
use crate::error::{ConfigError, VerifyError};
use crate::jwks::Jwks;
use crate::jwt::{Compact, Header, HeaderMemo};
use crate::keys::{self, Algorithm, VerifyingKey};
use crate::session::{Session, SessionData};
use crate::session_api::{ApiSettings, Expected, SessionApi};

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
    inner: Arc<Inner>,
}

struct Inner {
    mode: Mode,
    keys: KeySource,
    rules: ClaimRules,
    max_token_len: usize,
    loginrocket_url: Option<reqwest::Url>,
    site: AppSite,
    api: Option<SessionApi>,
    cache: Option<Cache>,
    headers: HeaderMemo,
    now: Now,
}

/// Where signature keys come from.
#[derive(Debug)]
enum KeySource {
    /// `AUTHROCKET_JWT_KEY` / `AUTHROCKET_JWT_SECRET`, parsed once.
    Static(Arc<VerifyingKey>),
    /// `<LOGINROCKET_URL>/connect/jwks`.
    Jwks(Jwks),
    /// Online mode without any key source: no offline check.
    None,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("mode", &self.inner.mode)
            .field("keys", &self.inner.keys)
            .field("rules", &self.inner.rules)
            .field("max_token_len", &self.inner.max_token_len)
            .field("api", &self.inner.api)
            .field("cache", &self.inner.cache)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A builder with every setting at its default. See [`VerifierBuilder`].
    pub fn builder() -> VerifierBuilder {
        VerifierBuilder::new()
    }

    /// Build a verifier from SPEC §2's environment variables. Fails with a [`ConfigError`]
    /// naming the variable to fix; makes no network request.
    ///
    /// ```no_run
    /// let verifier = authrocket_verify::Verifier::from_env()?;
    /// # Ok::<(), authrocket_verify::ConfigError>(())
    /// ```
    pub fn from_env() -> Result<Self, ConfigError> {
        VerifierBuilder::from_env()?.build()
    }

    pub(crate) fn from_builder(b: VerifierBuilder) -> Result<Self, ConfigError> {
        let loginrocket_url = b
            .loginrocket_url
            .as_deref()
            .map(|u| crate::http::parse_url("LOGINROCKET_URL", u))
            .transpose()?;
        let site = AppSite::new(b.app_url.as_deref(), &b.trusted_proxies)?;
        let static_key = match &b.jwt_key {
            Some((variable, secret)) => Some(keys::parse_static_key(variable, &secret.0)?),
            None => None,
        };
        let has_key_source = static_key.is_some() || loginrocket_url.is_some();
        let has_api = b.authrocket_url.is_some();
        let mode = match b.mode {
            Some(mode) => mode,
            None if has_key_source => Mode::Offline,
            None if has_api => Mode::Online,
            None => return Err(ConfigError::NoKeySource),
        };
        let needs = |needs| ConfigError::ModeNeeds {
            variable: "AUTHROCKET_VERIFY_MODE",
            mode: mode.as_str(),
            needs,
        };
        match mode {
            Mode::Offline if !has_key_source => return Err(ConfigError::NoKeySource),
            Mode::Online if !has_api => return Err(needs("AUTHROCKET_URL and AUTHROCKET_API_KEY")),
            Mode::Hybrid if !(has_key_source && has_api) => {
                return Err(needs(
                    "a key source (AUTHROCKET_JWT_KEY or LOGINROCKET_URL) and the session API \
                     (AUTHROCKET_URL and AUTHROCKET_API_KEY)",
                ));
            }
            _ => {}
        }
        if b.api_budget.per_second == 0 {
            return Err(ConfigError::invalid(
                "AUTHROCKET_API_RATE_LIMIT",
                "must be at least 1 call per second",
            ));
        }
        if b.api_budget.max_in_flight == 0 {
            return Err(ConfigError::invalid(
                "AUTHROCKET_API_MAX_IN_FLIGHT",
                "must be at least 1 call",
            ));
        }
        if b.max_token_len == 0 {
            return Err(ConfigError::invalid(
                "max_token_len",
                "must be at least 1 byte",
            ));
        }
        if b.cache_capacity == 0 && !b.cache_ttl.is_zero() {
            return Err(ConfigError::invalid(
                "AUTHROCKET_CACHE_CAPACITY",
                "must be at least 1 (set AUTHROCKET_CACHE_TTL=0 to disable the cache)",
            ));
        }
        let now = b.clock.clone().map(Now::custom).unwrap_or_default();
        let client = crate::http::client(b.api_timeout)?;
        let api = match (mode, &b.authrocket_url) {
            (Mode::Online | Mode::Hybrid, Some(url)) => Some(SessionApi::new(
                ApiSettings {
                    url,
                    api_key: b.api_key.as_ref(),
                    realm: b.realm.as_deref(),
                    service: b.service.as_deref(),
                    account: b.account.as_deref(),
                },
                client.clone(),
                ApiGate::new(b.api_budget, now.clone()),
            )?),
            _ => None,
        };
        // Online mode checks tokens with the API only; keys are not used (and not fetched).
        let (static_key, loginrocket_for_keys) = if mode == Mode::Online {
            (None, None)
        } else {
            (static_key, loginrocket_url.as_ref())
        };
        let keys = match (static_key, loginrocket_for_keys) {
            (Some(key), _) => KeySource::Static(Arc::new(key)),
            (None, Some(base)) => KeySource::Jwks(Jwks::new(
                crate::http::join_path(base, &["connect", "jwks"]),
                client,
                b.jwks_refresh_interval,
                now.clone(),
            )),
            (None, None) => KeySource::None,
        };
        let policy = Policy {
            ttl: b.cache_ttl,
            negative_ttl: b.negative_cache_ttl,
            jitter: api.is_some(),
            capacity: b.cache_capacity,
        };
        let rules = ClaimRules {
            issuer: b.issuer,
            realm: b.realm,
            leeway: i64::try_from(b.leeway.as_secs()).unwrap_or(i64::MAX),
            require_exp: b.require_exp,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                mode,
                keys,
                rules,
                max_token_len: b.max_token_len,
                loginrocket_url,
                site,
                api,
                cache: (!b.cache_ttl.is_zero()).then(|| Cache::new(policy, now.clone())),
                headers: HeaderMemo::default(),
                now,
            }),
        })
    }

    /// The mode this verifier runs in.
    pub fn mode(&self) -> Mode {
        self.inner.mode
    }

    /// The configured `LOGINROCKET_URL`, if any (the base of login and logout redirects).
    pub fn loginrocket_url(&self) -> Option<&reqwest::Url> {
        self.inner.loginrocket_url.as_ref()
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
    pub fn time_left(&self, session: &Session) -> Option<std::time::Duration> {
        let exp_ms = session.expires_at()?.saturating_mul(1000);
        let left = exp_ms.saturating_sub(self.inner.now.millis());
        Some(std::time::Duration::from_millis(
            u64::try_from(left).unwrap_or(0),
        ))
    }

    /// How many JWKS fetches this verifier has started (0 with a static key).
    pub fn jwks_fetches(&self) -> u64 {
        match &self.inner.keys {
            KeySource::Jwks(jwks) => jwks.fetch_count(),
            _ => 0,
        }
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
        self.inner.cache.as_ref()?.hot(token)
    }

    /// Cache hit/miss counters and the number of cached entries (all zero when the cache is
    /// disabled with a zero TTL).
    ///
    /// ```
    /// let verifier = authrocket_verify::Verifier::builder().jwt_key("jsk_x").build()?;
    /// assert_eq!(verifier.cache_stats().hits, 0);
    /// # Ok::<(), authrocket_verify::ConfigError>(())
    /// ```
    pub fn cache_stats(&self) -> CacheStats {
        self.inner
            .cache
            .as_ref()
            .map(Cache::stats)
            .unwrap_or_default()
    }

    /// Run the cache's pending maintenance now (evictions, expirations). moka does this lazily
    /// on later operations; call this before reading [`cache_stats`](Self::cache_stats) when
    /// exact entry counts matter, as in tests.
    pub async fn run_cache_maintenance(&self) {
        if let Some(cache) = &self.inner.cache {
            cache.run_pending_tasks().await;
        }
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
        match &self.inner.keys {
            KeySource::Jwks(jwks) => jwks.refresh().await.map_err(VerifyError::unavailable),
            _ => Ok(()),
        }
    }

    /// Verify `token` and return the session it proves. An empty token is
    /// [`VerifyError::MissingToken`].
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
            mode = self.inner.mode.as_str(),
            outcome = tracing::field::Empty,
            code = tracing::field::Empty,
        );
        // The span is entered around the work only when a subscriber wants it.
        let result = if span.is_disabled() {
            self.verify_cached(token).await
        } else {
            self.verify_cached(token).instrument(span.clone()).await
        };
        match &result {
            Ok(_) => {
                span.record("outcome", "accepted");
            }
            Err(e) => {
                span.record("outcome", "rejected");
                span.record("code", e.code());
                span.in_scope(
                    || tracing::debug!(code = e.code(), reason = %e, "authrocket: token rejected"),
                );
            }
        }
        result
    }

    /// The cache in front of [`verify_fresh`](Self::verify_fresh): hits are answered at once,
    /// concurrent misses of one token share one verification.
    async fn verify_cached(&self, token: &str) -> Result<Session, VerifyError> {
        // Shape first: garbage never reaches the cache, the network or the hash.
        let compact = Compact::split(token, self.inner.max_token_len)?;
        if self.inner.mode == Mode::Online {
            // Sent to the API undecoded: its characters are checked here instead.
            compact.check_charset()?;
        }
        let Some(cache) = &self.inner.cache else {
            return self.verify_fresh(token, compact).await.map(Session::new);
        };
        if let Some(session) = cache.hot(token) {
            return Ok(session);
        }
        let key = cache::key(token);
        if let Some(hit) = cache.get(token, &key).await {
            return hit;
        }
        // Boxed so the large cold-path future (decode buffers, JWKS and API calls) is built
        // only on a miss and never bloats the hit path's future.
        let fresh = async {
            Box::pin(self.verify_fresh(token, compact))
                .await
                .map(Session::new)
        };
        cache.get_or_verify(token, key, fresh).await
    }

    /// Verify without the cache, per the mode.
    async fn verify_fresh(
        &self,
        token: &str,
        compact: Compact<'_>,
    ) -> Result<SessionData, VerifyError> {
        let now = self.inner.now.unix();
        match (self.inner.mode, &self.inner.api) {
            (Mode::Online, Some(api)) => Ok(api
                .confirm(token, Expected::Token, now, true)
                .await?
                .into_data()),
            (Mode::Hybrid, Some(api)) => {
                // Forged, expired and foreign tokens stop here and never reach the API.
                let mut data = self.verify_offline(compact, now).await?;
                let expected = Expected::Claims {
                    session_id: data.session_id(),
                    user_id: data.user_id(),
                };
                let confirmed = api.confirm(token, expected, now, false).await?;
                if let (Some(id), None) = (&confirmed.session_id, data.session_id()) {
                    data = data.with_session_id(id);
                }
                data.set_expires_at(match (data.expires_at(), confirmed.expires_at) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                });
                Ok(data)
            }
            _ => self.verify_offline(compact, now).await,
        }
    }

    /// Offline verification: the key (static, or from the JWKS by `kid`), then the
    /// synchronous checks. Only a JWKS refetch awaits, so the decode buffers live on the stack
    /// of [`verify_with_key`](Self::verify_with_key), never in this future.
    async fn verify_offline(
        &self,
        compact: Compact<'_>,
        now: i64,
    ) -> Result<SessionData, VerifyError> {
        match &self.inner.keys {
            KeySource::Static(key) => {
                let header = self.check_header(compact, key.algorithm())?;
                self.verify_with_key(compact, &header, key, now)
            }
            KeySource::Jwks(jwks) => {
                let header = self.check_header(compact, Algorithm::Rs256)?;
                let kid = header
                    .kid
                    .as_deref()
                    .filter(|k| !k.is_empty())
                    .ok_or(VerifyError::UnknownKey)?;
                let key = jwks.key(kid).await?;
                self.verify_with_key(compact, &header, &key, now)
            }
            KeySource::None => Err(VerifyError::UnknownKey),
        }
    }

    /// The header rules for a key of algorithm `expected`: answered from the memo of headers
    /// seen on verified tokens, or decoded, parsed and checked.
    fn check_header<'v>(
        &'v self,
        compact: Compact<'_>,
        expected: Algorithm,
    ) -> Result<CheckedHeader<'v>, VerifyError> {
        if let Some(kid) = self.inner.headers.get(compact.header_segment()) {
            return Ok(CheckedHeader {
                kid: kid.map(Cow::Borrowed),
                remembered: true,
            });
        }
        let (mut buf, mut spill) = ([0u8; 256], Vec::new());
        let parsed = Header::parse(compact.header_bytes(&mut buf, &mut spill)?)?;
        parsed.check(expected)?;
        Ok(CheckedHeader {
            kid: parsed.kid.as_deref().map(|k| Cow::Owned(k.to_owned())),
            remembered: false,
        })
    }

    /// Signature, claims and rules with `key`, for a token whose header passed.
    fn verify_with_key(
        &self,
        compact: Compact<'_>,
        header: &CheckedHeader<'_>,
        key: &VerifyingKey,
        now: i64,
    ) -> Result<SessionData, VerifyError> {
        // Decoding checks the payload is canonical base64url (malformed otherwise); it is
        // parsed only once the signature has been verified.
        let (mut payload_buf, mut payload_spill) = ([0u8; 1024], Vec::new());
        let payload = compact.payload_bytes(&mut payload_buf, &mut payload_spill)?;
        compact.verify_signature(key)?;
        let claims = RawClaims::parse(payload)?;
        let generation = claims.validate(&self.inner.rules, now)?;
        if !header.remembered {
            self.inner
                .headers
                .remember(compact.header_segment(), header.kid.as_deref());
        }
        Ok(claims.to_session(generation))
    }
}

/// A header that passed the rules, with its `kid`.
struct CheckedHeader<'v> {
    /// Borrowed from the memo when the header was remembered; owned (rare) when new.
    kid: Option<Cow<'v, str>>,
    /// Whether the memo already holds this header segment.
    remembered: bool,
}

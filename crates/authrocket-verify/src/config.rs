//! Configuration: [`VerifierBuilder`], read from the SDKs' environment variables
//! ([`VerifierBuilder::from_env`]) or set explicitly, validated once by
//! [`build`](VerifierBuilder::build).
//!
//! | variable | builder method | default |
//! | --- | --- | --- |
//! | `AUTHROCKET_JWT_KEY` | [`jwt_key`](VerifierBuilder::jwt_key) | — |
//! | `AUTHROCKET_JWT_SECRET` (legacy) | [`jwt_key`](VerifierBuilder::jwt_key) | — |
//! | `LOGINROCKET_URL` | [`loginrocket_url`](VerifierBuilder::loginrocket_url) | — |
//! | `AUTHROCKET_URL` | [`authrocket_url`](VerifierBuilder::authrocket_url) | — |
//! | `AUTHROCKET_API_KEY` | [`api_key`](VerifierBuilder::api_key) | — |
//! | `AUTHROCKET_REALM` | [`realm`](VerifierBuilder::realm) | — |
//! | `AUTHROCKET_SERVICE` | [`service`](VerifierBuilder::service) | — |
//! | `AUTHROCKET_ACCOUNT` | [`account`](VerifierBuilder::account) | — |
//! | `AUTHROCKET_JWT_ISSUER` | [`issuer`](VerifierBuilder::issuer) | `https://authrocket.com`; empty disables |
//! | `AUTHROCKET_JWT_LEEWAY` | [`leeway`](VerifierBuilder::leeway) | 5 s |
//! | `AUTHROCKET_VERIFY_MODE` | [`mode`](VerifierBuilder::mode) | offline with a key source, else online |
//! | `AUTHROCKET_CACHE_TTL` | [`cache_ttl`](VerifierBuilder::cache_ttl) | 300 s |
//! | `AUTHROCKET_CACHE_NEGATIVE_TTL` | [`negative_cache_ttl`](VerifierBuilder::negative_cache_ttl) | 10 s |
//! | `AUTHROCKET_CACHE_CAPACITY` | [`cache_capacity`](VerifierBuilder::cache_capacity) | 100 000 |
//! | `AUTHROCKET_API_TIMEOUT` | [`api_timeout`](VerifierBuilder::api_timeout) | 3 s |
//! | `AUTHROCKET_API_RATE_LIMIT` | [`api_rate_limit`](VerifierBuilder::api_rate_limit) | 100 calls per second |
//! | `AUTHROCKET_API_MAX_IN_FLIGHT` | [`api_max_in_flight`](VerifierBuilder::api_max_in_flight) | 32 calls |
//! | `AUTHROCKET_APP_URL` | [`app_url`](VerifierBuilder::app_url) | — (only a loopback `Host` is trusted) |
//! | `AUTHROCKET_TRUSTED_PROXIES` | [`trusted_proxies`](VerifierBuilder::trusted_proxies) | none |
//! | `AUTHROCKET_EVENTS_SECRET` | [`events_secret`](VerifierBuilder::events_secret) | none (deliveries are confirmed with the API either way) |
//! | `AUTHROCKET_REDIS_URL` | `redis_url` (cargo feature `redis`) | none: each instance alone |
//! | `AUTHROCKET_REDIS_TIMEOUT_MS` | `redis_timeout` (cargo feature `redis`) | 50 ms |
//! | `AUTHROCKET_REDIS_SECRET` | `redis_secret` (cargo feature `redis`) | derived from the API key |
//! | — | [`revocation_capacity`](VerifierBuilder::revocation_capacity) | 1 000 000 sessions |
//! | — | [`max_token_len`](VerifierBuilder::max_token_len) | 8 KiB |
//! | — | [`require_exp`](VerifierBuilder::require_exp) | `true` |
//! | — | [`jwks_refresh_interval`](VerifierBuilder::jwks_refresh_interval) | 30 s |

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use crate::api_gate::Budget;
use crate::clock::Clock;
use crate::error::ConfigError;
use crate::secret::Secret;

/// The default expected `iss` of AuthRocket tokens.
pub const DEFAULT_ISSUER: &str = "https://authrocket.com";

/// How tokens are verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VerifyMode {
    /// JWT signature and claims only: no network on the request path, cannot see logouts.
    Offline,
    /// Every new token is checked with AuthRocket's session API (cached): sees logouts.
    Online,
    /// Offline first (forgeries never reach the API), then the session API, cached.
    Hybrid,
}

impl VerifyMode {
    /// The value as written in `AUTHROCKET_VERIFY_MODE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Offline => "offline",
            Self::Online => "online",
            Self::Hybrid => "hybrid",
        }
    }
}

impl FromStr for VerifyMode {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "offline" => Ok(Self::Offline),
            "online" => Ok(Self::Online),
            "hybrid" => Ok(Self::Hybrid),
            _ => Err(ConfigError::invalid(
                "AUTHROCKET_VERIFY_MODE",
                "expected one of offline, online, hybrid",
            )),
        }
    }
}

impl fmt::Display for VerifyMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Builds a [`Verifier`](crate::Verifier). Every setting has a documented default; nothing is
/// checked until [`build`](VerifierBuilder::build), which checks everything.
///
/// ```
/// use std::time::Duration;
/// use authrocket_verify::Verifier;
///
/// let verifier = Verifier::builder()
///     .jwt_key("jsk_example_secret_of_the_realm")
///     .realm("rl_0vWkPT9i8gUOiXVCiuKrG2")
///     .leeway(Duration::from_secs(5))
///     .build()?;
/// # Ok::<(), authrocket_verify::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct VerifierBuilder {
    pub(crate) jwt_key: Option<(&'static str, Secret)>,
    pub(crate) loginrocket_url: Option<String>,
    pub(crate) authrocket_url: Option<String>,
    pub(crate) api_key: Option<Secret>,
    pub(crate) realm: Option<String>,
    pub(crate) service: Option<String>,
    pub(crate) account: Option<String>,
    pub(crate) issuer: Option<String>,
    pub(crate) leeway: Duration,
    pub(crate) mode: Option<VerifyMode>,
    pub(crate) cache_ttl: Duration,
    pub(crate) negative_cache_ttl: Duration,
    pub(crate) cache_capacity: u64,
    pub(crate) api_timeout: Duration,
    pub(crate) api_budget: Budget,
    pub(crate) max_token_len: usize,
    pub(crate) require_exp: bool,
    pub(crate) jwks_refresh_interval: Duration,
    pub(crate) clock: Option<Arc<dyn Clock>>,
    pub(crate) app_url: Option<String>,
    pub(crate) trusted_proxies: Vec<String>,
    pub(crate) revocation_capacity: usize,
    pub(crate) events_secret: Option<Secret>,
    /// The fleet tier: Redis URL, deadline per call, key of the verdicts' integrity tags.
    pub(crate) redis_url: Option<Secret>,
    pub(crate) redis_timeout: Duration,
    pub(crate) redis_secret: Option<Secret>,
}

impl fmt::Debug for VerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierBuilder")
            .field(
                "jwt_key",
                &self.jwt_key.as_ref().map(|(var, _)| (var, "[redacted]")),
            )
            .field("loginrocket_url", &self.loginrocket_url)
            .field("authrocket_url", &self.authrocket_url)
            .field("api_key", &self.api_key)
            .field("realm", &self.realm)
            .field("service", &self.service)
            .field("account", &self.account)
            .field("issuer", &self.issuer)
            .field("leeway", &self.leeway)
            .field("mode", &self.mode)
            .field("cache_ttl", &self.cache_ttl)
            .field("negative_cache_ttl", &self.negative_cache_ttl)
            .field("cache_capacity", &self.cache_capacity)
            .field("api_timeout", &self.api_timeout)
            .field("api_budget", &self.api_budget)
            .field("max_token_len", &self.max_token_len)
            .field("require_exp", &self.require_exp)
            .field("jwks_refresh_interval", &self.jwks_refresh_interval)
            .field("clock", &self.clock.as_ref().map(|_| "custom"))
            .field("app_url", &self.app_url)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("revocation_capacity", &self.revocation_capacity)
            .field("events_secret", &self.events_secret)
            .field("redis_url", &self.redis_url)
            .field("redis_timeout", &self.redis_timeout)
            .field("redis_secret", &self.redis_secret)
            .finish()
    }
}

impl Default for VerifierBuilder {
    fn default() -> Self {
        Self {
            jwt_key: None,
            loginrocket_url: None,
            authrocket_url: None,
            api_key: None,
            realm: None,
            service: None,
            account: None,
            issuer: Some(DEFAULT_ISSUER.to_owned()),
            leeway: Duration::from_secs(5),
            mode: None,
            cache_ttl: Duration::from_secs(300),
            negative_cache_ttl: Duration::from_secs(10),
            cache_capacity: 100_000,
            api_timeout: Duration::from_secs(3),
            api_budget: Budget::default(),
            max_token_len: crate::jwt::DEFAULT_MAX_TOKEN_LEN,
            require_exp: true,
            jwks_refresh_interval: Duration::from_secs(30),
            clock: None,
            app_url: None,
            trusted_proxies: Vec::new(),
            revocation_capacity: crate::revocation::DEFAULT_CAPACITY,
            events_secret: None,
            redis_url: None,
            redis_timeout: Duration::from_millis(50),
            redis_secret: None,
        }
    }
}

/// Every environment variable [`VerifierBuilder::from_env`] reads.
pub const ENV_VARS: &[&str] = &[
    "AUTHROCKET_JWT_KEY",
    "AUTHROCKET_JWT_SECRET",
    "LOGINROCKET_URL",
    "AUTHROCKET_URL",
    "AUTHROCKET_API_KEY",
    "AUTHROCKET_REALM",
    "AUTHROCKET_SERVICE",
    "AUTHROCKET_ACCOUNT",
    "AUTHROCKET_JWT_ISSUER",
    "AUTHROCKET_JWT_LEEWAY",
    "AUTHROCKET_VERIFY_MODE",
    "AUTHROCKET_CACHE_TTL",
    "AUTHROCKET_CACHE_NEGATIVE_TTL",
    "AUTHROCKET_CACHE_CAPACITY",
    "AUTHROCKET_API_TIMEOUT",
    "AUTHROCKET_API_RATE_LIMIT",
    "AUTHROCKET_API_MAX_IN_FLIGHT",
    "AUTHROCKET_APP_URL",
    "AUTHROCKET_TRUSTED_PROXIES",
    "AUTHROCKET_EVENTS_SECRET",
    "AUTHROCKET_REDIS_URL",
    "AUTHROCKET_REDIS_TIMEOUT_MS",
    "AUTHROCKET_REDIS_SECRET",
];

fn seconds(variable: &'static str, value: &str) -> Result<Duration, ConfigError> {
    value
        .trim()
        .parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|_| ConfigError::invalid(variable, "expected a whole number of seconds"))
}

/// A whole number of at least 1.
fn count(variable: &'static str, value: &str, unit: &str) -> Result<u32, ConfigError> {
    match value.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(ConfigError::invalid(
            variable,
            format!("expected a whole number of {unit}, at least 1"),
        )),
    }
}

impl VerifierBuilder {
    /// A builder with every setting at its default and no key source.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder filled from the process environment (AuthRocket's SDK variables; see the
    /// [module docs](crate::config) for the list). Unset variables keep their defaults;
    /// a variable set to an unusable value is an error that names it.
    ///
    /// ```no_run
    /// let verifier = authrocket_verify::VerifierBuilder::from_env()?
    ///     .leeway(std::time::Duration::from_secs(10))
    ///     .build()?;
    /// # Ok::<(), authrocket_verify::ConfigError>(())
    /// ```
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_with(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), but reading variables through `lookup` — handy in
    /// tests, or to read from a config file with the same names.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use authrocket_verify::VerifierBuilder;
    ///
    /// let vars = HashMap::from([("AUTHROCKET_JWT_KEY", "jsk_example"), ("AUTHROCKET_JWT_LEEWAY", "ten")]);
    /// let err = VerifierBuilder::from_env_with(|k| vars.get(k).map(|v| v.to_string())).unwrap_err();
    /// assert_eq!(err.variable(), Some("AUTHROCKET_JWT_LEEWAY"));
    /// ```
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        // Unset and empty are the same for every variable but the issuer, where empty is a
        // deliberate "do not check" (AuthRocket 1 tokens carry no `iss`).
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut b = Self::new();
        if let Some(key) = lookup("AUTHROCKET_JWT_KEY") {
            b.jwt_key = Some(("AUTHROCKET_JWT_KEY", Secret(key)));
        } else if let Some(key) = lookup("AUTHROCKET_JWT_SECRET") {
            b.jwt_key = Some(("AUTHROCKET_JWT_SECRET", Secret(key)));
        }
        b.loginrocket_url = get("LOGINROCKET_URL");
        b.authrocket_url = get("AUTHROCKET_URL");
        b.api_key = get("AUTHROCKET_API_KEY").map(Secret);
        b.realm = get("AUTHROCKET_REALM");
        b.service = get("AUTHROCKET_SERVICE");
        b.account = get("AUTHROCKET_ACCOUNT");
        if let Some(issuer) = lookup("AUTHROCKET_JWT_ISSUER") {
            b = b.issuer(issuer.trim());
        }
        if let Some(v) = get("AUTHROCKET_JWT_LEEWAY") {
            b.leeway = seconds("AUTHROCKET_JWT_LEEWAY", &v)?;
        }
        if let Some(v) = get("AUTHROCKET_VERIFY_MODE") {
            b.mode = Some(v.parse()?);
        }
        if let Some(v) = get("AUTHROCKET_CACHE_TTL") {
            b.cache_ttl = seconds("AUTHROCKET_CACHE_TTL", &v)?;
        }
        if let Some(v) = get("AUTHROCKET_CACHE_NEGATIVE_TTL") {
            b.negative_cache_ttl = seconds("AUTHROCKET_CACHE_NEGATIVE_TTL", &v)?;
        }
        if let Some(v) = get("AUTHROCKET_CACHE_CAPACITY") {
            b.cache_capacity = v.trim().parse().map_err(|_| {
                ConfigError::invalid(
                    "AUTHROCKET_CACHE_CAPACITY",
                    "expected a whole number of entries",
                )
            })?;
        }
        if let Some(v) = get("AUTHROCKET_API_TIMEOUT") {
            b.api_timeout = seconds("AUTHROCKET_API_TIMEOUT", &v)?;
        }
        if let Some(v) = get("AUTHROCKET_API_RATE_LIMIT") {
            b.api_budget.per_second = count("AUTHROCKET_API_RATE_LIMIT", &v, "calls per second")?;
        }
        b.app_url = get("AUTHROCKET_APP_URL");
        b.events_secret = get("AUTHROCKET_EVENTS_SECRET").map(Secret);
        if let Some(v) = get("AUTHROCKET_TRUSTED_PROXIES") {
            b.trusted_proxies = v
                .split([',', ' '])
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(v) = get("AUTHROCKET_API_MAX_IN_FLIGHT") {
            b.api_budget.max_in_flight = count("AUTHROCKET_API_MAX_IN_FLIGHT", &v, "calls")?;
        }
        b.redis_url = get("AUTHROCKET_REDIS_URL").map(Secret);
        b.redis_secret = get("AUTHROCKET_REDIS_SECRET").map(Secret);
        if let Some(v) = get("AUTHROCKET_REDIS_TIMEOUT_MS") {
            let ms = count("AUTHROCKET_REDIS_TIMEOUT_MS", &v, "milliseconds")?;
            b.redis_timeout = Duration::from_millis(u64::from(ms));
        }
        Ok(b)
    }

    /// The realm's static key (`AUTHROCKET_JWT_KEY`): longer than 256 characters, an RSA
    /// public key for RS256 (PEM or bare base64 SPKI); otherwise the whole trimmed string,
    /// `jsk_` prefix included, is the HS256 secret.
    pub fn jwt_key(mut self, key: impl Into<String>) -> Self {
        self.jwt_key = Some(("AUTHROCKET_JWT_KEY", Secret(key.into())));
        self
    }

    /// The LoginRocket URL (`LOGINROCKET_URL`), e.g. `https://sample.e2.loginrocket.com/`.
    /// Keys come from `<url>/connect/jwks` when no static key is set.
    pub fn loginrocket_url(mut self, url: impl Into<String>) -> Self {
        self.loginrocket_url = Some(url.into());
        self
    }

    /// The session API base including its version (`AUTHROCKET_URL`), e.g.
    /// `https://api-e2.authrocket.com/v2`.
    pub fn authrocket_url(mut self, url: impl Into<String>) -> Self {
        self.authrocket_url = Some(url.into());
        self
    }

    /// The session API key (`AUTHROCKET_API_KEY`). Never printed.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(Secret(key.into()));
        self
    }

    /// The realm id `rl_…` (`AUTHROCKET_REALM`): sent to the API, and the required realm of
    /// tokens that name one.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(realm.into());
        self
    }

    /// The AuthRocket 2 service id (`AUTHROCKET_SERVICE`), sent as a header.
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.service = Some(service.into());
        self
    }

    /// The AuthRocket 1 account id `org_…` (`AUTHROCKET_ACCOUNT`), sent as a header.
    pub fn account(mut self, account: impl Into<String>) -> Self {
        self.account = Some(account.into());
        self
    }

    /// The required `iss` (`AUTHROCKET_JWT_ISSUER`). An empty string disables the check.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        let issuer = issuer.into();
        self.issuer = (!issuer.is_empty()).then_some(issuer);
        self
    }

    /// Clock-skew leeway for `exp`, `nbf` and `iat` (`AUTHROCKET_JWT_LEEWAY`). Whole seconds.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The verification mode (`AUTHROCKET_VERIFY_MODE`).
    pub fn mode(mut self, mode: VerifyMode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// How long a verified result may be reused (`AUTHROCKET_CACHE_TTL`). Zero disables the
    /// cache. At most about 49 days (entries keep their lifetime in 32-bit milliseconds).
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    /// How long a 404 from the session API is remembered (`AUTHROCKET_CACHE_NEGATIVE_TTL`).
    /// Zero disables negative caching.
    pub fn negative_cache_ttl(mut self, ttl: Duration) -> Self {
        self.negative_cache_ttl = ttl;
        self
    }

    /// Maximum number of cached results (`AUTHROCKET_CACHE_CAPACITY`).
    pub fn cache_capacity(mut self, entries: u64) -> Self {
        self.cache_capacity = entries;
        self
    }

    /// Total time allowed for one session-API or JWKS request (`AUTHROCKET_API_TIMEOUT`).
    pub fn api_timeout(mut self, timeout: Duration) -> Self {
        self.api_timeout = timeout;
        self
    }

    /// The most session-API calls per second (`AUTHROCKET_API_RATE_LIMIT`, default 100, up
    /// to a second's worth at once). Beyond it a verification that needs the API answers
    /// `unavailable` (503, `Retry-After: 1`) at once instead of queueing, so one client
    /// flooding new tokens cannot use up the API key's rate limit at AuthRocket. Cached
    /// sessions are not affected. Confirming AuthRocket's events takes at most a quarter of
    /// this (and of [`api_max_in_flight`](Self::api_max_in_flight)); a delivery past it
    /// answers 503 and AuthRocket retries it. At least 1.
    pub fn api_rate_limit(mut self, calls_per_second: u32) -> Self {
        self.api_budget.per_second = calls_per_second;
        self
    }

    /// The most session-API calls at once (`AUTHROCKET_API_MAX_IN_FLIGHT`, default 32).
    /// Beyond it a verification answers `unavailable` at once, as for
    /// [`api_rate_limit`](Self::api_rate_limit). At least 1.
    pub fn api_max_in_flight(mut self, calls: u32) -> Self {
        self.api_budget.max_in_flight = calls;
        self
    }

    /// Longest token accepted, in bytes (default 8 KiB). Longer tokens are `too_large`.
    pub fn max_token_len(mut self, bytes: usize) -> Self {
        self.max_token_len = bytes;
        self
    }

    /// Whether `exp` must be present (default `true`; AuthRocket always issues it). Turn off
    /// only for legacy realms whose tokens lack it.
    pub fn require_exp(mut self, required: bool) -> Self {
        self.require_exp = required;
        self
    }

    /// The least time between two JWKS fetches caused by unknown `kid`s (default 30 s). A
    /// flood of tokens with random `kid`s causes at most one fetch per interval.
    pub fn jwks_refresh_interval(mut self, interval: Duration) -> Self {
        self.jwks_refresh_interval = interval;
        self
    }

    /// The app's public origin (`AUTHROCKET_APP_URL`), e.g. `https://app.example.com`: the
    /// base of the absolute URLs the login and logout helpers hand to LoginRocket
    /// (`redirect_uri`). Without it they trust only a loopback `Host` (`localhost`,
    /// `127.0.0.1`, `[::1]`), so a forged `Host` cannot send a user elsewhere after login.
    /// Its scheme also decides the token cookie's `Secure` attribute (`http://` ⇒ no `Secure`,
    /// so plain-http hosts work). An origin only: no path.
    pub fn app_url(mut self, url: impl Into<String>) -> Self {
        self.app_url = Some(url.into());
        self
    }

    /// Proxies whose `X-Forwarded-Proto` and `X-Forwarded-Host` the browser helpers believe
    /// when no [`app_url`](Self::app_url) is set (`AUTHROCKET_TRUSTED_PROXIES`, comma
    /// separated): IP addresses or CIDR networks, matched against the connection's peer
    /// address (axum's `ConnectInfo`). Without any, those headers are ignored.
    pub fn trusted_proxies<I, S>(mut self, proxies: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.trusted_proxies = proxies.into_iter().map(Into::into).collect();
        self
    }

    /// A shared secret that event deliveries must carry (`AUTHROCKET_EVENTS_SECRET`), as the
    /// last segment of the receiver's path or as the password of HTTP basic auth — in
    /// addition to every event being confirmed with the session API. Never printed.
    pub fn events_secret(mut self, secret: impl Into<String>) -> Self {
        self.events_secret = Some(Secret(secret.into()));
        self
    }

    /// The most revoked sessions held (default 1 000 000, about 70 bytes each). Entries leave
    /// when their session would have expired anyway; past this bound, the entry expiring
    /// soonest makes room (with a warning, once).
    pub fn revocation_capacity(mut self, sessions: usize) -> Self {
        self.revocation_capacity = sessions;
        self
    }

    /// Share revocations and verified sessions with the other instances of the app through
    /// the Redis at `url` (`AUTHROCKET_REDIS_URL`, e.g. `redis://10.0.0.5:6379/0`;
    /// `rediss://` for TLS is not built in). Redis is a cache, never an authority: an error
    /// or a slow answer is a miss and the instance carries on alone. The URL (which may hold
    /// a password) is never printed. See [`fleet`](crate::fleet) for what is shared.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), authrocket_verify::ConfigError> {
    /// let verifier = authrocket_verify::Verifier::builder()
    ///     .authrocket_url("https://example.authrocket.com/v2")
    ///     .api_key("ks_example")
    ///     .redis_url("redis://127.0.0.1:6379/0")
    ///     .build()?; // connects in the background; works alone until Redis answers
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn redis_url(mut self, url: impl Into<String>) -> Self {
        self.redis_url = Some(Secret(url.into()));
        self
    }

    /// How long a Redis call may take before it counts as a miss
    /// (`AUTHROCKET_REDIS_TIMEOUT_MS`, default 50 ms).
    ///
    /// ```
    /// let builder = authrocket_verify::Verifier::builder()
    ///     .redis_url("redis://10.0.0.5:6379/0")
    ///     .redis_timeout(std::time::Duration::from_millis(20)); // same rack: a tighter deadline
    /// ```
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn redis_timeout(mut self, timeout: Duration) -> Self {
        self.redis_timeout = timeout;
        self
    }

    /// The key of the integrity tags on verified sessions kept in Redis
    /// (`AUTHROCKET_REDIS_SECRET`, at least 32 characters). By default it is derived from the
    /// API key, so every instance with the same API key agrees on it; Redis never sees it,
    /// so whoever can write to Redis cannot create a session. Never printed.
    ///
    /// ```
    /// let builder = authrocket_verify::Verifier::builder()
    ///     .redis_url("redis://10.0.0.5:6379/0")
    ///     .redis_secret("a random string of at least 32 characters, same on every instance");
    /// assert!(!format!("{builder:?}").contains("random string"));
    /// ```
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn redis_secret(mut self, secret: impl Into<String>) -> Self {
        self.redis_secret = Some(Secret(secret.into()));
        self
    }

    /// The clock every time rule reads (`exp`, `nbf`, `iat`, cache lifetimes, `Retry-After`,
    /// back-offs). The system clock by default; tests inject one they can advance instead of
    /// sleeping (the test kit's `ManualClock`).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }
}

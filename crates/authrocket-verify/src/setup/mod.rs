//! Turning a [`VerifierBuilder`] into what a verifier runs on, checking everything once:
//! the [`Strategy`], the cache and its [`Policy`], and the browser-facing settings.

use std::sync::Arc;

use crate::browser::AppSite;
use crate::cache::{Cache, Flights, Policy};
use crate::claims::ClaimRules;
use crate::clock::Now;
use crate::config::{VerifierBuilder, VerifyMode};
use crate::error::ConfigError;
use crate::events::Events;
use crate::fleet::{Fleet, FleetSettings};
use crate::keys;
use crate::meters::Meters;
use crate::revocation::Revocations;
use crate::secret::Secret;
use crate::strategy::{Keys, Offline, Strategy};
use crate::urls;

mod remote;
use remote::Remote;

/// Everything a verifier runs on.
#[derive(Debug)]
pub(crate) struct Parts {
    pub(crate) strategy: Strategy,
    pub(crate) cache: Option<Cache>,
    pub(crate) flights: Flights,
    pub(crate) max_token_len: usize,
    pub(crate) loginrocket_url: Option<String>,
    pub(crate) site: AppSite,
    pub(crate) now: Now,
    pub(crate) revocations: Revocations,
    pub(crate) events: Events,
    /// The fleet tier, when Redis is configured.
    pub(crate) fleet: Option<Fleet>,
    /// The hot path's metrics handles (nothing without the `metrics` feature).
    pub(crate) meters: Meters,
    /// The leeway, in milliseconds: revocations last until `expires_at` plus this.
    pub(crate) leeway_ms: i64,
}

impl std::fmt::Debug for Flights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Flights")
    }
}

/// Check a positive setting.
fn at_least_one(ok: bool, variable: &'static str, what: &str) -> Result<(), ConfigError> {
    match ok {
        true => Ok(()),
        false => Err(ConfigError::invalid(
            variable,
            format!("must be at least 1 {what}"),
        )),
    }
}

/// The verification mode asked for, or the default one, checked against what is configured.
fn mode(b: &VerifierBuilder, has_keys: bool) -> Result<VerifyMode, ConfigError> {
    let has_api = b.authrocket_url.is_some();
    let mode = match b.mode {
        Some(mode) => mode,
        None if has_keys => VerifyMode::Offline,
        None if has_api => VerifyMode::Online,
        None => return Err(ConfigError::NO_KEY_SOURCE),
    };
    let needs = |needs| ConfigError::mode_needs("AUTHROCKET_VERIFY_MODE", mode.as_str(), needs);
    match mode {
        VerifyMode::Offline if !has_keys => Err(ConfigError::NO_KEY_SOURCE),
        VerifyMode::Online if !has_api => Err(needs("AUTHROCKET_URL and AUTHROCKET_API_KEY")),
        VerifyMode::Hybrid if !(has_keys && has_api) => Err(needs(
            "a key source (AUTHROCKET_JWT_KEY or LOGINROCKET_URL) and the session API \
             (AUTHROCKET_URL and AUTHROCKET_API_KEY)",
        )),
        mode => Ok(mode),
    }
}

/// The fleet tier for `b`: sessions are shared when they come from the session API and are
/// cached, sealed with `AUTHROCKET_REDIS_SECRET` or else a key derived from the API key.
fn fleet(
    b: &VerifierBuilder,
    url: &Secret,
    policy: Policy,
    now: Now,
) -> Result<Fleet, ConfigError> {
    let shares = policy.uses_api && !b.cache_ttl.is_zero();
    let seal_secret = match (&b.redis_secret, &b.api_key) {
        (Some(secret), _) if secret.0.trim().len() < 32 => {
            return Err(ConfigError::invalid(
                "AUTHROCKET_REDIS_SECRET",
                "must be at least 32 characters",
            ));
        }
        (Some(secret), _) => Some(secret.0.trim()),
        (None, Some(key)) if !key.0.trim().is_empty() => Some(key.0.trim()),
        (None, _) if shares => {
            return Err(ConfigError::invalid(
                "AUTHROCKET_REDIS_SECRET",
                "is needed to seal shared sessions when there is no AUTHROCKET_API_KEY",
            ));
        }
        (None, _) => None,
    };
    let site = b
        .authrocket_url
        .as_deref()
        .or(b.loginrocket_url.as_deref())
        .unwrap_or_default();
    Fleet::new(FleetSettings {
        url,
        timeout: b.redis_timeout,
        realm: b.realm.as_deref(),
        site,
        seal_secret: seal_secret.filter(|_| shares),
        ttl: b.cache_ttl,
        api_timeout: b.api_timeout,
        now,
    })
}

/// Check `b` and build the parts of a verifier. Makes no network request.
pub(crate) fn compile(b: VerifierBuilder) -> Result<Parts, ConfigError> {
    let loginrocket_url = b
        .loginrocket_url
        .as_deref()
        .map(|u| urls::parse_url("LOGINROCKET_URL", u))
        .transpose()?;
    let site = AppSite::new(b.app_url.as_deref(), &b.trusted_proxies)?;
    let static_key = match &b.jwt_key {
        Some((variable, secret)) => Some(Arc::new(keys::parse_static_key(variable, &secret.0)?)),
        None => None,
    };
    let mode = mode(&b, static_key.is_some() || loginrocket_url.is_some())?;
    at_least_one(
        b.api_budget.per_second > 0,
        "AUTHROCKET_API_RATE_LIMIT",
        "call per second",
    )?;
    at_least_one(
        b.api_budget.max_in_flight > 0,
        "AUTHROCKET_API_MAX_IN_FLIGHT",
        "call",
    )?;
    at_least_one(b.max_token_len > 0, "max_token_len", "byte")?;
    if b.cache_capacity == 0 && !b.cache_ttl.is_zero() {
        return Err(ConfigError::invalid(
            "AUTHROCKET_CACHE_CAPACITY",
            "must be at least 1 (set AUTHROCKET_CACHE_TTL=0 to disable the cache)",
        ));
    }
    let now = b.clock.clone().map(Now::custom).unwrap_or_default();

    // The session API also confirms events, in any mode, when it is configured.
    let has_api_key = b.api_key.as_ref().is_some_and(|k| !k.0.trim().is_empty());
    let events_api = b.authrocket_url.is_some() && has_api_key;
    let needs_jwks = mode != VerifyMode::Online && static_key.is_none();
    let remote = Remote::new(
        &b,
        needs_jwks,
        mode != VerifyMode::Offline || events_api,
        &now,
    )?;
    let offline = || -> Result<Offline, ConfigError> {
        let keys = match (&static_key, &loginrocket_url) {
            (Some(key), _) => Keys::Static(Arc::clone(key)),
            (None, Some(base)) => remote.jwks(base, &b, &now)?,
            (None, None) => return Err(ConfigError::NO_KEY_SOURCE),
        };
        let rules = ClaimRules {
            issuer: b.issuer.clone(),
            realm: b.realm.clone(),
            leeway: i64::try_from(b.leeway.as_secs()).unwrap_or(i64::MAX),
            require_exp: b.require_exp,
        };
        Ok(Offline::new(keys, rules))
    };
    let strategy = remote.strategy(mode, offline)?;
    let policy = Policy {
        ttl: b.cache_ttl,
        negative_ttl: b.negative_cache_ttl,
        uses_api: strategy.uses_api(),
        capacity: b.cache_capacity,
    };
    let fleet = match &b.redis_url {
        Some(url) => Some(fleet(&b, url, policy, now.clone())?),
        None => None,
    };
    Ok(Parts {
        meters: Meters::new(mode.as_str()),
        fleet,
        cache: (!b.cache_ttl.is_zero()).then(|| Cache::new(policy, now.clone())),
        strategy,
        flights: Flights::default(),
        max_token_len: b.max_token_len,
        loginrocket_url: loginrocket_url.map(String::from),
        site,
        now,
        revocations: Revocations::new(b.revocation_capacity),
        events: Events::new(remote.api.filter(|_| events_api), b.events_secret.clone()),
        leeway_ms: i64::try_from(b.leeway.as_millis()).unwrap_or(i64::MAX),
    })
}

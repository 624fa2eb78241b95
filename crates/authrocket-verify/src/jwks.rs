//! The realm's JSON Web Key Set from `<LOGINROCKET_URL>/connect/jwks` .
//!
//! * Keys are parsed once per fetch into prepared RS256 keys, from `n`/`e` or from AuthRocket's
//!   `x5c[0]` (a bare base64 SPKI public key, not a certificate).
//! * A known `kid` is a read of an `Arc`'d map: no lock is held across any I/O.
//! * An unknown `kid` triggers at most one fetch per refresh interval after a successful
//!   fetch, **single-flight**: every caller in the interval awaits the same shared fetch, which
//!   runs to completion even if the caller that started it goes away. A flood of random
//!   `kid`s costs one fetch per interval.
//! * A failed fetch keeps the last good key set and is retried after a short back-off (0.5 s,
//!   doubling with each failure in a row, never more than the refresh interval), so a blip at
//!   deploy time costs a second of 503s, not the whole interval.
//! * Every time is read on the verifier's clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use base64::Engine;
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use serde::Deserialize;

use crate::clock::Now;
use crate::error::VerifyError;
use crate::http;
use crate::keys::VerifyingKey;

/// Largest JWKS document accepted.
const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Same-origin redirects followed at most.
const MAX_REDIRECTS: usize = 3;
/// The wait before retrying a failed fetch, doubled with each failure in a row.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

type KeyMap = HashMap<String, Arc<VerifyingKey>>;
type FetchOutcome = Result<(), &'static str>;

/// The JWKS key source. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Jwks {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    url: reqwest::Url,
    client: reqwest::Client,
    refresh_interval: Duration,
    now: Now,
    keys: RwLock<Arc<KeyMap>>,
    /// The latest fetch (running or finished), shared by everyone who needs its outcome.
    latest: Mutex<Option<Fetch>>,
}

struct Fetch {
    /// When it started, Unix milliseconds.
    started_ms: i64,
    /// Failed fetches in a row before this one.
    failures_before: u32,
    outcome: Shared<BoxFuture<'static, FetchOutcome>>,
}

impl std::fmt::Debug for Fetch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetch")
            .field("started_ms", &self.started_ms)
            .field("failures_before", &self.failures_before)
            .finish_non_exhaustive()
    }
}

impl Fetch {
    /// Whether a new fetch may start at `now_ms`, and how many failures in a row it follows.
    fn next(&self, now_ms: i64, interval: Duration) -> Option<u32> {
        let (wait, failures) = match self.outcome.peek() {
            None => return None, // still running: share it
            Some(Ok(())) => (interval, 0),
            Some(Err(_)) => {
                let doublings = self.failures_before.min(16);
                (
                    FIRST_BACKOFF.saturating_mul(1 << doublings).min(interval),
                    self.failures_before + 1,
                )
            }
        };
        let wait_ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
        (now_ms.saturating_sub(self.started_ms) >= wait_ms).then_some(failures)
    }
}

#[derive(Deserialize)]
struct JwkSetDoc {
    keys: Vec<RawJwk>,
}

#[derive(Deserialize)]
struct RawJwk {
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    kty: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    use_: Option<String>,
    #[serde(default)]
    x5c: Option<Vec<String>>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
}

/// base64url as JWKs use it, padding tolerated.
const B64URL_LENIENT: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

impl RawJwk {
    /// The key this JWK describes, if it is a usable RS256 signing key with a `kid`.
    fn into_key(self) -> Option<(String, VerifyingKey)> {
        let kid = self.kid.filter(|k| !k.is_empty())?;
        if self.use_.as_deref().is_some_and(|u| u != "sig") {
            return None;
        }
        if self.kty.as_deref().is_some_and(|k| k != "RSA") {
            return None;
        }
        if self.alg.as_deref().is_some_and(|a| a != "RS256") {
            return None;
        }
        if let (Some(n), Some(e)) = (&self.n, &self.e) {
            let n = B64URL_LENIENT.decode(n).ok()?;
            let e = B64URL_LENIENT.decode(e).ok()?;
            if let Ok(key) = VerifyingKey::rs256_from_components(&n, &e) {
                return Some((kid, key));
            }
        }
        let first = self.x5c?.into_iter().next()?;
        let der = base64::engine::general_purpose::STANDARD
            .decode(first.trim())
            .ok()?;
        VerifyingKey::rs256_from_der(&der)
            .ok()
            .map(|key| (kid, key))
    }
}

impl Jwks {
    pub(crate) fn new(
        url: reqwest::Url,
        client: reqwest::Client,
        refresh_interval: Duration,
        now: Now,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                url,
                client,
                refresh_interval,
                now,
                keys: RwLock::new(Arc::new(KeyMap::new())),
                latest: Mutex::new(None),
            }),
        }
    }

    fn lookup(&self, kid: &str) -> Option<Arc<VerifyingKey>> {
        self.inner.keys.read().expect("jwks lock").get(kid).cloned()
    }

    /// The key for `kid`, fetching the key set when `kid` is unknown (rate-limited,
    /// single-flight).
    pub(crate) async fn key(&self, kid: &str) -> Result<Arc<VerifyingKey>, VerifyError> {
        if let Some(key) = self.lookup(kid) {
            return Ok(key);
        }
        let outcome = self.refresh().await;
        if let Some(key) = self.lookup(kid) {
            return Ok(key);
        }
        match outcome {
            Ok(()) => Err(VerifyError::UNKNOWN_KEY),
            Err(reason) => Err(VerifyError::unavailable(reason)),
        }
    }

    /// Fetch the key set now, unless a fetch is running or the last one is too recent (the
    /// refresh interval after a success, the back-off after a failure): then its outcome is
    /// shared. Used on unknown `kid`s and to warm up at start-up.
    pub(crate) async fn refresh(&self) -> FetchOutcome {
        let outcome = {
            let mut latest = self.inner.latest.lock().expect("jwks lock");
            let now_ms = self.inner.now.millis();
            let next = match &*latest {
                None => Some(0),
                Some(f) => f.next(now_ms, self.inner.refresh_interval),
            };
            match (next, &*latest) {
                (None, Some(f)) => f.outcome.clone(),
                (failures_before, _) => {
                    let inner = Arc::clone(&self.inner);
                    let outcome = async move { inner.fetch_and_store().await }
                        .boxed()
                        .shared();
                    *latest = Some(Fetch {
                        started_ms: now_ms,
                        failures_before: failures_before.unwrap_or(0),
                        outcome: outcome.clone(),
                    });
                    outcome
                }
            }
        };
        outcome.await
    }
}

impl Inner {
    async fn fetch_and_store(&self) -> FetchOutcome {
        let started = std::time::Instant::now();
        let result = self.fetch().await;
        let outcome = if result.is_ok() { "ok" } else { "error" };
        crate::meters::jwks_fetch(outcome, started.elapsed().as_secs_f64());
        match &result {
            Ok(keys) => {
                tracing::debug!(keys = keys.len(), "authrocket: JWKS fetched");
                *self.keys.write().expect("jwks lock") = Arc::new(keys.clone());
            }
            Err(reason) => {
                tracing::warn!(
                    reason,
                    "authrocket: JWKS fetch failed; keeping the last good key set"
                );
            }
        }
        result.map(|_| ())
    }

    async fn fetch(&self) -> Result<KeyMap, &'static str> {
        let mut url = self.url.clone();
        let mut redirects = 0;
        let response = loop {
            let request = self
                .client
                .get(url.clone())
                .header(reqwest::header::ACCEPT, "application/json");
            let response = http::send_idempotent(request)
                .await
                .map_err(|e| http::describe(&e))?;
            if !response.status().is_redirection() {
                break response;
            }
            redirects += 1;
            let next = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| url.join(l).ok())
                .ok_or("JWKS redirect without a usable location")?;
            if next.origin() != self.url.origin() {
                return Err("JWKS redirect to another host refused");
            }
            if redirects > MAX_REDIRECTS {
                return Err("too many JWKS redirects");
            }
            url = next;
        };
        if !response.status().is_success() {
            return Err("JWKS endpoint answered an error status");
        }
        let body = http::read_capped(response, MAX_JWKS_BYTES).await?;
        let doc: JwkSetDoc =
            serde_json::from_slice(&body).map_err(|_| "JWKS document is not valid")?;
        let keys: KeyMap = doc
            .keys
            .into_iter()
            .filter_map(RawJwk::into_key)
            .map(|(k, v)| (k, Arc::new(v)))
            .collect();
        if keys.is_empty() {
            return Err("JWKS document has no usable RS256 key");
        }
        Ok(keys)
    }
}

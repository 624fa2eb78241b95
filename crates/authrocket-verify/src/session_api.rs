//! AuthRocket's session API: `GET {AUTHROCKET_URL}/sessions/{token}`, v2 and v1.
//!
//! Status mapping, failing closed:
//!
//! | answer | result |
//! | --- | --- |
//! | 200 with a live session for this token | the session |
//! | 200 past `expires_at` / for another realm | `expired` / `wrong_realm` (401) |
//! | 200 about another token, session or user, or without the ids to tell | `unavailable` (503): the upstream is inconsistent, the user's token may be fine; logged once per cause |
//! | 404 | `revoked` (401) |
//! | 401, 402, 403 | `api_credentials` (503), logged once at `error` |
//! | 429, 5xx, 3xx, other statuses, timeouts, connection errors, bad or oversized bodies | `unavailable` (503), honouring `Retry-After` |
//!
//! Every call passes the [gate](crate::api_gate) first: after a 429 (or a 503 with
//! `Retry-After`) no call is made until that time, and calls beyond the budget (per second, in
//! flight) are refused at once; both answer `unavailable` with a `Retry-After`.
//!
//! Errors never carry `reqwest`'s own messages: they include the URL, and the URL includes the
//! token.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use serde::Deserialize;

use crate::api_gate::{ApiGate, Caller, DEFAULT_HOLD_OFF};
use crate::error::{ConfigError, VerifyError};
use crate::http;
use crate::json;
use crate::secret::Secret;
use crate::session::{Draft, DraftMembership, Generation, SessionData};

/// Largest session or user object accepted.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The API generation, from the end of `AUTHROCKET_URL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApiVersion {
    V1,
    V2,
}

/// The session API client: one pooled `reqwest` client, headers built once.
#[derive(Debug)]
pub(crate) struct SessionApi {
    base: reqwest::Url,
    version: ApiVersion,
    client: reqwest::Client,
    gate: ApiGate,
    headers: HeaderMap,
    realm: Option<String>,
    credentials_error_logged: AtomicBool,
    /// One flag per [`Inconsistency`]: each cause is logged once.
    inconsistency_logged: [AtomicBool; Inconsistency::COUNT],
}

/// What an answer must be about.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Expected<'a> {
    /// Online mode: the token is all we know; the answer must name it.
    Token,
    /// Hybrid mode: the verified token's claims. The answer must carry a session id (equal
    /// to the token's own, when it has one) and the token's user.
    Claims {
        session_id: Option<&'a str>,
        user_id: &'a str,
    },
}

/// Why a 200 answer cannot confirm the token it was asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inconsistency {
    OtherToken,
    NoToken,
    NoSessionId,
    OtherSession,
    NoUser,
    OtherUser,
}

impl Inconsistency {
    const COUNT: usize = 6;

    fn reason(self) -> &'static str {
        match self {
            Self::OtherToken => "session API answered about another token",
            Self::NoToken => "session API answered without the token",
            Self::NoSessionId => "session API answered without a session id",
            Self::OtherSession => "session API answered about another session",
            Self::NoUser => "session API answered without a user id",
            Self::OtherUser => "session API answered about another user",
        }
    }
}

/// What the API says about one session.
#[derive(Debug, Deserialize)]
struct SessionObject {
    #[serde(default)]
    object: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    realm_id: Option<String>,
    #[serde(default)]
    created_at: Option<f64>,
    #[serde(default)]
    expires_at: Option<f64>,
    #[serde(default)]
    token: Option<String>,
    #[serde(default, deserialize_with = "json::object")]
    user: Option<UserObject>,
}

#[derive(Debug, Deserialize)]
struct UserObject {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<bool>,
    #[serde(default)]
    reference: Option<String>,
    #[serde(default)]
    custom: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "json::objects")]
    memberships: Option<Vec<MembershipObject>>,
}

#[derive(Debug, Deserialize)]
struct MembershipObject {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    org_id: Option<String>,
    #[serde(default)]
    permissions: Option<Vec<String>>,
    #[serde(default)]
    selected: Option<bool>,
    #[serde(default)]
    custom: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "json::object")]
    org: Option<OrgObject>,
}

#[derive(Debug, Deserialize)]
struct OrgObject {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    reference: Option<String>,
    #[serde(default)]
    custom: Option<serde_json::Value>,
}

/// A session the API confirmed live, with its user when the API gave or we fetched it.
#[derive(Debug)]
pub(crate) struct Confirmed {
    pub(crate) session_id: Option<String>,
    pub(crate) expires_at: Option<i64>,
    data: SessionData,
}

impl Confirmed {
    pub(crate) fn into_data(self) -> SessionData {
        self.data
    }
}

fn header(
    name: &'static str,
    value: &str,
    variable: &'static str,
) -> Result<(HeaderName, HeaderValue), ConfigError> {
    let mut v = HeaderValue::from_str(value.trim()).map_err(|_| {
        ConfigError::invalid(
            variable,
            "contains characters not allowed in an HTTP header",
        )
    })?;
    if variable == "AUTHROCKET_API_KEY" {
        v.set_sensitive(true);
    }
    Ok((HeaderName::from_static(name), v))
}

/// `Retry-After` in seconds, when the answer carries a usable one.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs.min(3600)))
}

/// Settings the session API needs, validated by [`SessionApi::new`].
pub(crate) struct ApiSettings<'a> {
    pub(crate) url: &'a str,
    pub(crate) api_key: Option<&'a Secret>,
    pub(crate) realm: Option<&'a str>,
    pub(crate) service: Option<&'a str>,
    pub(crate) account: Option<&'a str>,
}

impl SessionApi {
    pub(crate) fn new(
        s: ApiSettings<'_>,
        client: reqwest::Client,
        gate: ApiGate,
    ) -> Result<Self, ConfigError> {
        let base = crate::urls::parse_url("AUTHROCKET_URL", s.url)?;
        let version = match base.path().trim_end_matches('/').rsplit('/').next() {
            Some("v2") => ApiVersion::V2,
            Some("v1") => ApiVersion::V1,
            _ => {
                return Err(ConfigError::invalid(
                    "AUTHROCKET_URL",
                    "it must end in the API version, /v2 (AuthRocket 2) or /v1 (AuthRocket 1)",
                ));
            }
        };
        let api_key = s
            .api_key
            .map(|k| k.0.trim())
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                ConfigError::invalid(
                    "AUTHROCKET_API_KEY",
                    "it is required to use the session API (AUTHROCKET_URL)",
                )
            })?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let (key_h, realm_h) = match version {
            ApiVersion::V2 => ("authrocket-api-key", "authrocket-realm"),
            ApiVersion::V1 => ("x-authrocket-api-key", "x-authrocket-realm"),
        };
        let mut add = |name, value: Option<&str>, variable| -> Result<(), ConfigError> {
            if let Some(value) = value.filter(|v| !v.trim().is_empty()) {
                let (n, v) = header(name, value, variable)?;
                headers.insert(n, v);
            }
            Ok(())
        };
        add(key_h, Some(api_key), "AUTHROCKET_API_KEY")?;
        add(realm_h, s.realm, "AUTHROCKET_REALM")?;
        match version {
            ApiVersion::V2 => add("authrocket-service", s.service, "AUTHROCKET_SERVICE")?,
            ApiVersion::V1 => add("x-authrocket-account", s.account, "AUTHROCKET_ACCOUNT")?,
        }
        Ok(Self {
            base,
            version,
            client,
            gate,
            headers,
            realm: s.realm.map(str::to_owned),
            credentials_error_logged: AtomicBool::new(false),
            inconsistency_logged: Default::default(),
        })
    }

    pub(crate) fn generation(&self) -> Generation {
        match self.version {
            ApiVersion::V1 => Generation::V1,
            ApiVersion::V2 => Generation::V2,
        }
    }

    /// `GET` one API object and parse it, mapping every failure per the module table (404:
    /// `revoked`, "no such object").
    pub(crate) async fn get<T: for<'de> Deserialize<'de>>(
        &self,
        caller: Caller,
        segments: &[&str],
    ) -> Result<T, VerifyError> {
        let _permit = self.gate.admit(caller)?;
        let started = std::time::Instant::now();
        let result = self.call(segments).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) if *e == VerifyError::REVOKED => "not_found",
            Err(e) if e.is_unavailable() => "unavailable",
            Err(_) => "refused",
        };
        let endpoint = match segments.first().copied() {
            Some("sessions") => "sessions",
            Some("users") => "users",
            Some("events") => "events",
            _ => "other",
        };
        crate::meters::api_call(endpoint, outcome, started.elapsed().as_secs_f64());
        result
    }

    /// One call, admitted by the gate.
    async fn call<T: for<'de> Deserialize<'de>>(
        &self,
        segments: &[&str],
    ) -> Result<T, VerifyError> {
        let url = crate::urls::join_path(&self.base, segments);
        let request = self.client.get(url).headers(self.headers.clone());
        let response = http::send_idempotent(request)
            .await
            .map_err(|e| VerifyError::unavailable(http::describe(&e)))?;
        let status = response.status();
        match status {
            s if s.is_success() => {}
            StatusCode::NOT_FOUND => return Err(VerifyError::REVOKED),
            StatusCode::UNAUTHORIZED | StatusCode::PAYMENT_REQUIRED | StatusCode::FORBIDDEN => {
                if !self.credentials_error_logged.swap(true, Ordering::Relaxed) {
                    tracing::error!(
                        status = status.as_u16(),
                        "authrocket: the session API rejected this server's credentials; check \
                         AUTHROCKET_API_KEY, AUTHROCKET_REALM and AUTHROCKET_URL (answering 503 \
                         until fixed; logged once)"
                    );
                }
                return Err(VerifyError::API_CREDENTIALS);
            }
            s => {
                let reason = if s == StatusCode::TOO_MANY_REQUESTS {
                    "session API rate limit reached"
                } else if s.is_server_error() {
                    "session API server error"
                } else if s.is_redirection() {
                    "session API answered with a redirect"
                } else {
                    "session API answered an unexpected status"
                };
                let retry_after = retry_after(response.headers());
                // The API asked everyone to wait: nobody calls it until then.
                match (s, retry_after) {
                    (StatusCode::TOO_MANY_REQUESTS, wait) => {
                        self.gate.hold_off(wait.unwrap_or(DEFAULT_HOLD_OFF));
                    }
                    (StatusCode::SERVICE_UNAVAILABLE, Some(wait)) => self.gate.hold_off(wait),
                    _ => {}
                }
                tracing::warn!(
                    status = s.as_u16(),
                    reason,
                    "authrocket: session API unavailable"
                );
                let wait = retry_after
                    .or((s == StatusCode::TOO_MANY_REQUESTS).then_some(DEFAULT_HOLD_OFF));
                return Err(VerifyError::unavailable_for(reason, wait));
            }
        }
        let body = http::read_capped(response, MAX_BODY_BYTES)
            .await
            .map_err(VerifyError::unavailable)?;
        std::str::from_utf8(&body)
            .ok()
            .and_then(json::parse_object)
            .ok_or(VerifyError::unavailable(
                "session API response is not valid",
            ))
    }

    /// The answer is not about what was asked: an upstream inconsistency, logged once per
    /// cause (never with the token), answered 503.
    fn inconsistent(&self, cause: Inconsistency) -> VerifyError {
        if !self.inconsistency_logged[cause as usize].swap(true, Ordering::Relaxed) {
            tracing::warn!(
                reason = cause.reason(),
                "authrocket: the session API's answer does not confirm the token it was asked \
                 about; refusing it (answering 503; logged once per cause)"
            );
        }
        VerifyError::unavailable(cause.reason())
    }

    /// Check that answer `s` is about `token` and what else is `expected` of it.
    fn check_about(
        &self,
        s: &SessionObject,
        token: &str,
        expected: Expected<'_>,
    ) -> Result<(), VerifyError> {
        use Inconsistency::*;
        let cause = match (&s.token, expected) {
            (Some(t), _) if t != token => Some(OtherToken),
            (None, Expected::Token) => Some(NoToken),
            (_, Expected::Token) => None,
            (
                _,
                Expected::Claims {
                    session_id,
                    user_id,
                },
            ) => match (&s.id, &s.user_id) {
                (None, _) => Some(NoSessionId),
                (Some(id), _) if session_id.is_some_and(|sid| sid != id) => Some(OtherSession),
                (_, None) => Some(NoUser),
                (_, Some(u)) if u != user_id => Some(OtherUser),
                _ => None,
            },
        };
        cause.map_or(Ok(()), |c| Err(self.inconsistent(c)))
    }

    /// Ask the API about `token`, and check the answer is about it (and, in hybrid mode,
    /// about the session and user its claims name). With `with_user`, the user object is
    /// fetched when the answer does not embed it.
    pub(crate) async fn confirm(
        &self,
        token: &str,
        expected: Expected<'_>,
        now: i64,
        with_user: bool,
    ) -> Result<Confirmed, VerifyError> {
        let s: SessionObject = self.get(Caller::Verification, &["sessions", token]).await?;
        self.answered(s, token, expected, now, with_user).await
    }

    /// What the API's answer `s` about `token` confirms (see [`confirm`](Self::confirm)).
    async fn answered(
        &self,
        s: SessionObject,
        token: &str,
        expected: Expected<'_>,
        now: i64,
        with_user: bool,
    ) -> Result<Confirmed, VerifyError> {
        if s.object.as_deref().is_some_and(|o| o != "session") {
            return Err(VerifyError::unavailable(
                "session API answered with another object",
            ));
        }
        self.check_about(&s, token, expected)?;
        if let (Some(realm), Some(rid)) = (&self.realm, &s.realm_id)
            && rid != realm
        {
            return Err(VerifyError::wrong_realm(false));
        }
        let expires_at = s
            .expires_at
            .filter(|e| e.is_finite())
            .map(|e| e.floor() as i64);
        if expires_at.is_some_and(|exp| now >= exp) {
            return Err(VerifyError::EXPIRED);
        }
        let user_id = s.user_id.clone().filter(|u| !u.is_empty());
        let user = match (s.user, with_user, &user_id) {
            (Some(u), _, _) => Some(u),
            (None, true, Some(id)) if self.version == ApiVersion::V2 => {
                Some(self.get(Caller::Verification, &["users", id]).await?)
            }
            _ => None,
        };
        if let (Some(u), Some(id)) = (&user, &user_id)
            && &u.id != id
        {
            return Err(self.inconsistent(Inconsistency::OtherUser));
        }
        let user_id = user_id
            .or_else(|| user.as_ref().map(|u| u.id.clone()))
            .ok_or_else(|| self.inconsistent(Inconsistency::NoUser))?;
        let data = self.session_data(user_id, user, &s.id, s.realm_id, s.created_at, expires_at)?;
        Ok(Confirmed {
            session_id: s.id,
            expires_at,
            data,
        })
    }

    fn session_data(
        &self,
        user_id: String,
        user: Option<UserObject>,
        session_id: &Option<String>,
        realm_id: Option<String>,
        created_at: Option<f64>,
        expires_at: Option<i64>,
    ) -> Result<SessionData, VerifyError> {
        let u = user.as_ref();
        let draft = Draft {
            generation: self.generation(),
            user_id: &user_id,
            name: u.and_then(|u| u.name.as_deref()),
            first_name: u.and_then(|u| u.first_name.as_deref()),
            last_name: u.and_then(|u| u.last_name.as_deref()),
            username: u.and_then(|u| u.username.as_deref()),
            email: u.and_then(|u| u.email.as_deref()),
            email_verified: u.and_then(|u| u.email_verified),
            reference: u.and_then(|u| u.reference.as_deref()),
            custom: u.and_then(|u| u.custom.as_ref()),
            session_id: session_id.as_deref(),
            realm_id: realm_id.as_deref().or(self.realm.as_deref()),
            issued_at: created_at
                .filter(|c| c.is_finite())
                .map(|c| c.floor() as i64),
            expires_at,
        };
        let memberships = u.and_then(|u| u.memberships.as_ref()).into_iter().flatten();
        SessionData::from_draft(
            draft,
            memberships.map(|m| {
                let org = m.org.as_ref();
                DraftMembership {
                    id: m.id.as_deref(),
                    org_id: m.org_id.as_deref(),
                    org_name: org.and_then(|o| o.name.as_deref()),
                    org_reference: org.and_then(|o| o.reference.as_deref()),
                    selected: m.selected.unwrap_or(false),
                    custom: m.custom.as_ref(),
                    org_custom: org.and_then(|o| o.custom.as_ref()),
                    permissions: m.permissions.iter().flatten().map(String::as_str),
                }
            }),
        )
    }
}

/// The session API's answer handling, for the fuzz targets (`fuzz/`): `body` as the answer
/// about a token, in online and in hybrid mode; errors are fine, panics are not.
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_answer(body: &[u8]) {
    use futures_util::FutureExt;
    use std::sync::OnceLock;

    static API: OnceLock<SessionApi> = OnceLock::new();
    let api = API.get_or_init(|| {
        let key = Secret("ks_fuzz".to_owned());
        SessionApi::new(
            ApiSettings {
                url: "http://127.0.0.1:9/v2",
                api_key: Some(&key),
                realm: Some("rl_fuzz"),
                service: None,
                account: None,
            },
            reqwest::Client::new(),
            crate::api_gate::ApiGate::new(
                crate::api_gate::Budget::default(),
                crate::clock::Now::default(),
            ),
        )
        .expect("a valid fuzzing setup")
    });
    let Some(text) = std::str::from_utf8(body).ok() else {
        return;
    };
    let token = "eyJhbGciOiJIUzI1NiJ9.e30.c2ln";
    for expected in [
        Expected::Token,
        Expected::Claims {
            session_id: Some("kss_fuzz"),
            user_id: "usr_fuzz",
        },
    ] {
        if let Some(s) = json::parse_object::<SessionObject>(text) {
            let now = 1_700_000_000;
            // Without `with_user` nothing is fetched: the future is ready at once.
            if let Some(Ok(confirmed)) = api.answered(s, token, expected, now, false).now_or_never()
            {
                let session = crate::session::Session::new(confirmed.into_data());
                assert!(!session.user_id().is_empty(), "a session names its user");
                assert!(
                    session.expires_at().is_none_or(|e| e > now),
                    "never expired"
                );
            }
        }
    }
}

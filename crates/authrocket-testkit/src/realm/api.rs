//! AuthRocket's HTTP API as the realm serves it: JWKS, sessions, users, events (v2 and v1).

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::faults::Fault;
use super::state::{FakeUser, RealmState, Shared, StoredSession};
use crate::{SigningKey, random_id};

/// The API version an endpoint belongs to: which headers it checks, what it answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

impl Version {
    /// The API key and realm headers.
    fn headers(self) -> (&'static str, &'static str) {
        match self {
            Self::V1 => ("x-authrocket-api-key", "x-authrocket-realm"),
            Self::V2 => ("authrocket-api-key", "authrocket-realm"),
        }
    }
}

/// An AuthRocket error answer: `{"errors":[message]}`.
pub(super) fn errors(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"errors": [message]}).to_string(),
    )
        .into_response()
}

fn json_ok(body: Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Count the request and take the fault to inject, if any.
pub(super) fn begin(state: &Shared, endpoint: &'static str, headers: &HeaderMap) -> Option<Fault> {
    let mut st = state.lock().expect("fake realm state");
    *st.counts.entry(endpoint).or_default() += 1;
    st.last_user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    st.faults.take(endpoint)
}

/// Answer a fault, or `None` to answer normally (after any latency).
pub(super) async fn fault_response(fault: Option<Fault>, state: &Shared) -> Option<Response> {
    match fault? {
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Some(errors(status, "injected fault"))
        }
        Fault::RateLimited { retry_after } => {
            let mut r = errors(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded");
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            Some(r)
        }
        Fault::Latency(d) => {
            tokio::time::sleep(d).await;
            None
        }
        Fault::TruncatedJson => Some(
            (
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"object":"session","id":"kss_"#,
            )
                .into_response(),
        ),
        Fault::OversizedBody => {
            let mut body = String::from(r#"{"object":"session","padding":""#);
            body.push_str(&"x".repeat(1 << 20));
            body.push_str(r#""}"#);
            Some(([(header::CONTENT_TYPE, "application/json")], body).into_response())
        }
        Fault::Redirect(location) => {
            Some((StatusCode::FOUND, [(header::LOCATION, location)]).into_response())
        }
        Fault::DropConnection => {
            let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
                Ok(Bytes::from_static(b"{\"object\":")),
                Err(std::io::Error::other("injected: connection dropped")),
            ];
            let mut r = Response::new(Body::from_stream(futures_util::stream::iter(chunks)));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(4096));
            Some(r)
        }
        Fault::Respond { status, body } => {
            let mut r = json_ok(body);
            *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            Some(r)
        }
        Fault::WrongSession => {
            let st = state.lock().expect("fake realm state");
            let mut body = match st.sessions.values().next() {
                Some(s) => session_json(&st, s, true, Version::V2),
                None => json!({"object":"session","id":"kss_other","user_id":"usr_other",
                               "created_at": st.now(), "expires_at": st.now() + 3600, "token": "other"}),
            };
            // Make sure it is *another* session than any the client could ask for.
            body["id"] = json!(random_id("kss_"));
            body["token"] = json!("another.token.entirely");
            Some(json_ok(body))
        }
    }
}

fn user_json(u: &FakeUser) -> Value {
    json!({
        "object": "user",
        "id": u.id,
        "email": u.email,
        "username": u.email,
        "name": u.name,
        "first_name": u.first_name,
        "last_name": u.last_name,
        "user_type": "human",
        "state": "active",
        "memberships": u.orgs.iter().enumerate().map(|(i, o)| json!({
            "object": "membership",
            "id": o.membership_id,
            "org_id": o.org_id,
            "permissions": o.permissions,
            "selected": i == 0,
            "org": {"object": "org", "id": o.org_id, "name": o.name},
        })).collect::<Vec<_>>(),
    })
}

fn session_json(st: &RealmState, s: &StoredSession, embed: bool, version: Version) -> Value {
    let mut body = json!({
        "object": "session",
        "id": s.id,
        "user_id": s.user_id,
        "created_at": s.created_at,
        "expires_at": s.expires_at,
        "token": s.token,
        "request": {"ip": "127.0.0.1", "client": "authrocket-testkit"},
    });
    if version == Version::V2 {
        body["realm_id"] = json!(st.realm_id);
    }
    if embed && let Some(u) = st.users.get(&s.user_id) {
        body["user"] = user_json(u);
    }
    body
}

/// The session `id` (a `kss_` id or one of its tokens) names, as the API answers it: a
/// session refreshed by LoginRocket has several tokens, and the answer names the one asked
/// about.
fn session_asked(st: &RealmState, id: &str, embed: bool, version: Version) -> Option<Value> {
    let s = st.find_session(id)?;
    let mut body = session_json(st, s, embed, version);
    if !id.starts_with("kss_") {
        body["token"] = json!(id);
    }
    Some(body)
}

/// The API credential checks AuthRocket makes: `None` when they pass.
fn check_credentials(st: &RealmState, headers: &HeaderMap, version: Version) -> Option<Response> {
    let (key_header, realm_header) = version.headers();
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if get(key_header) != Some(st.api_key.as_str()) {
        return Some(errors(StatusCode::UNAUTHORIZED, "Invalid API key"));
    }
    if get(realm_header).is_some_and(|r| r != st.realm_id) {
        return Some(errors(
            StatusCode::FORBIDDEN,
            "Realm not accessible with this API key",
        ));
    }
    if !get("accept").is_some_and(|a| a.contains("application/json")) {
        return Some(errors(
            StatusCode::NOT_ACCEPTABLE,
            "Accept application/json",
        ));
    }
    None
}

/// The common part of every API endpoint: count, inject a fault, check the credentials, then
/// answer with `answer` or 404 `not_found`.
async fn api(
    state: &Shared,
    endpoint: &'static str,
    version: Version,
    headers: &HeaderMap,
    not_found: &str,
    answer: impl FnOnce(&RealmState) -> Option<Value>,
) -> Response {
    let fault = begin(state, endpoint, headers);
    if let Some(r) = fault_response(fault, state).await {
        return r;
    }
    let st = state.lock().expect("fake realm state");
    if let Some(r) = check_credentials(&st, headers, version) {
        return r;
    }
    match answer(&st) {
        Some(body) => json_ok(body),
        None => errors(StatusCode::NOT_FOUND, not_found),
    }
}

/// `GET /v2/sessions/{id or token}`
pub(super) async fn session_v2(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    api(
        &state,
        "/v2/sessions",
        Version::V2,
        &headers,
        "Session not found",
        |st| session_asked(st, &id, st.embed_user, Version::V2),
    )
    .await
}

/// `GET /v1/sessions/{token}`: the user is always embedded.
pub(super) async fn session_v1(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    api(
        &state,
        "/v1/sessions",
        Version::V1,
        &headers,
        "Session not found",
        |st| session_asked(st, &id, true, Version::V1),
    )
    .await
}

/// `GET /v2/users/{id}`
pub(super) async fn user_v2(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    api(
        &state,
        "/v2/users",
        Version::V2,
        &headers,
        "User not found",
        |st| st.users.get(&id).map(user_json),
    )
    .await
}

/// `GET /v2/events/{id}`
pub(super) async fn event_v2(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    api(
        &state,
        "/v2/events",
        Version::V2,
        &headers,
        "Event not found",
        |st| st.event(&id).cloned(),
    )
    .await
}

/// `GET /v1/events/{id}`
pub(super) async fn event_v1(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    api(
        &state,
        "/v1/events",
        Version::V1,
        &headers,
        "Event not found",
        |st| st.event(&id).cloned(),
    )
    .await
}

/// `GET /connect/jwks`: the realm's RS256 keys.
pub(super) async fn jwks(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let fault = begin(&state, "/connect/jwks", &headers);
    if let Some(r) = fault_response(fault, &state).await {
        return r;
    }
    let st = state.lock().expect("fake realm state");
    let keys: Vec<Value> = st.keys.iter().filter_map(SigningKey::jwk).collect();
    json_ok(json!({ "keys": keys }))
}

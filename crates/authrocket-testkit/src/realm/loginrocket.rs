//! LoginRocket's browser API as the realm serves it, under `/v2/`: log in (and verify an MFA
//! code), check and end a session, reset and change a password, update the profile, sign up,
//! verify an email. What AuthRocket's official browser client (`@authrocket/loginrocket`)
//! sends and accepts:
//!
//! * `GET`/`DELETE` parameters in the query; `POST`/`PUT` in a JSON or form body; `session`
//!   read from either.
//! * Answers are JSON: `full_login`, `conditional_login`, `need_mfa`, `okay`, or `error`
//!   (409 for credentials, 422 for fields) with messages in English or Spanish by
//!   `Accept-Language`; 403 for an ended or missing session. Every answer carries an
//!   `X-Request-ID`; pages from allowed origins get CORS headers, and their preflights an
//!   answer.
//! * Faults injected with `FakeRealm::fail_next_on("/v2/login", …)` (e.g. a 429) apply here
//!   as on the Core API.

use std::collections::HashMap;

use axum::Router;
use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Value, json};

use super::accounts::{MailKind, Pending, Signup, UserSpec};
use super::api::{begin, fault_response};
use super::state::{RealmState, Shared};
use crate::random_id;

/// Every call, by its path under `/v2/`, and the name its requests are counted under
/// (`FakeRealm::requests`, faults).
const CALLS: &[(&str, &str)] = &[
    ("login", "/v2/login"),
    ("login/verify", "/v2/login/verify"),
    ("session", "/v2/session"),
    ("password/forgot", "/v2/password/forgot"),
    ("password/reset", "/v2/password/reset"),
    ("profile/password", "/v2/profile/password"),
    ("profile", "/v2/profile"),
    ("signup/request", "/v2/signup/request"),
    ("signup", "/v2/signup"),
    ("email/verify", "/v2/email/verify"),
];

pub(super) fn routes() -> Router<Shared> {
    CALLS.iter().fold(Router::new(), |router, (_, path)| {
        router.route(path, any(dispatch))
    })
}

/// The language of the messages.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lang {
    En,
    Es,
}

impl Lang {
    fn of(headers: &HeaderMap) -> Self {
        let first = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match first.starts_with("es") {
            true => Self::Es,
            false => Self::En,
        }
    }
}

/// The messages, in both languages.
#[derive(Clone, Copy)]
enum Msg {
    LoginFailed,
    BadCode,
    BadToken,
    CurrentPassword,
    PasswordShort,
    PasswordConfirmation,
    EmailInvalid,
    EmailTaken,
    FirstName,
    LastName,
    OrgName,
    InvitationOnly,
    Malformed,
}

impl Msg {
    fn text(self, lang: Lang) -> &'static str {
        use Msg::*;
        match (self, lang) {
            (LoginFailed, Lang::En) => "Login failed. Please check your email and password.",
            (LoginFailed, Lang::Es) => {
                "Error al iniciar sesión. Verifique su correo electrónico y contraseña."
            }
            (BadCode, Lang::En) => "Verification code is invalid",
            (BadCode, Lang::Es) => "El código de verificación no es válido",
            (BadToken, Lang::En) => "Token is invalid or has expired",
            (BadToken, Lang::Es) => "El token no es válido o ha caducado",
            (CurrentPassword, Lang::En) => "Current password does not match",
            (CurrentPassword, Lang::Es) => "La contraseña actual no coincide",
            (PasswordShort, Lang::En) => "Password is too short (minimum is 8 characters)",
            (PasswordShort, Lang::Es) => "La contraseña es demasiado corta (mínimo 8 caracteres)",
            (PasswordConfirmation, Lang::En) => "Password confirmation doesn't match Password",
            (PasswordConfirmation, Lang::Es) => "La confirmación no coincide con la contraseña",
            (EmailInvalid, Lang::En) => "Email is invalid",
            (EmailInvalid, Lang::Es) => "El correo electrónico no es válido",
            (EmailTaken, Lang::En) => "Email has already been taken",
            (EmailTaken, Lang::Es) => "El correo electrónico ya está en uso",
            (FirstName, Lang::En) => "First name can't be blank",
            (FirstName, Lang::Es) => "El nombre no puede estar en blanco",
            (LastName, Lang::En) => "Last name can't be blank",
            (LastName, Lang::Es) => "El apellido no puede estar en blanco",
            (OrgName, Lang::En) => "Organization name can't be blank",
            (OrgName, Lang::Es) => "El nombre de la organización no puede estar en blanco",
            (InvitationOnly, Lang::En) => "Signup is by invitation only",
            (InvitationOnly, Lang::Es) => "El registro es solo por invitación",
            (Malformed, Lang::En) => "The request could not be read",
            (Malformed, Lang::Es) => "No se pudo leer la solicitud",
        }
    }
}

/// One call's parameters (query and body merged) and language.
struct Call {
    params: HashMap<String, String>,
    lang: Lang,
}

impl Call {
    /// A parameter, trimmed; `None` when absent or empty.
    fn get(&self, name: &str) -> Option<&str> {
        self.params
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// A parameter as sent (passwords are not trimmed).
    fn raw(&self, name: &str) -> Option<&str> {
        self.params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn error(&self, status: StatusCode, msgs: &[Msg]) -> Response {
        let errors: Vec<&str> = msgs.iter().map(|m| m.text(self.lang)).collect();
        answer(
            status,
            json!({"result": "error", "error": errors.join(". "), "errors": errors}),
        )
    }
}

fn answer(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn okay() -> Response {
    answer(StatusCode::OK, json!({"result": "okay"}))
}

fn denied() -> Response {
    answer(
        StatusCode::FORBIDDEN,
        json!({"result": "error", "error": "Session expired or access denied."}),
    )
}

/// Read scalar JSON values as strings (a form sends only strings).
fn flatten(object: serde_json::Map<String, Value>) -> HashMap<String, String> {
    object
        .into_iter()
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some((k, s)),
            Value::Number(n) => Some((k, n.to_string())),
            Value::Bool(b) => Some((k, b.to_string())),
            _ => None,
        })
        .collect()
}

/// The parameters: the query, then a JSON or form body over it. `None`: unreadable body.
fn params(
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Option<HashMap<String, String>> {
    let mut params: HashMap<String, String> = query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Some(params);
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        params.extend(url::form_urlencoded::parse(body).into_owned());
    } else {
        match serde_json::from_slice::<Value>(body).ok()? {
            Value::Object(object) => params.extend(flatten(object)),
            _ => return None,
        }
    }
    Some(params)
}

/// Whether `origin` may call cross-origin.
fn allowed_origin(state: &Shared, headers: &HeaderMap) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?;
    let st = state.lock().expect("fake realm state");
    let text = origin.to_str().ok()?;
    st.accounts
        .settings
        .origins
        .iter()
        .any(|o| o.trim_end_matches('/') == text)
        .then(|| origin.clone())
}

fn decorate(mut response: Response, origin: Option<HeaderValue>) -> Response {
    let headers = response.headers_mut();
    if let Ok(id) = HeaderValue::from_str(&random_id("rq_")) {
        headers.insert("x-request-id", id);
    }
    if let Some(origin) = origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

/// Every call goes through here: CORS, counting, faults, parameters, then the call itself.
async fn dispatch(State(state): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let origin = allowed_origin(&state, &parts.headers);
    let Some(&(endpoint, counted)) = CALLS.iter().find(|(_, path)| *path == parts.uri.path())
    else {
        return decorate(StatusCode::NOT_FOUND.into_response(), origin);
    };
    if parts.method == Method::OPTIONS {
        // The preflight: only for the configured origins.
        let Some(origin) = origin else {
            return decorate(StatusCode::FORBIDDEN.into_response(), None);
        };
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, PUT, DELETE"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type, lr-agent, accept-language"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        return decorate(r, Some(origin));
    }
    let fault = begin(&state, counted, &parts.headers);
    if let Some(r) = fault_response(fault, &state).await {
        return decorate(r, origin);
    }
    let lang = Lang::of(&parts.headers);
    let body = to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let Some(params) = params(parts.uri.query(), &parts.headers, &body) else {
        let call = Call {
            params: HashMap::new(),
            lang,
        };
        return decorate(
            call.error(StatusCode::UNPROCESSABLE_ENTITY, &[Msg::Malformed]),
            origin,
        );
    };
    let call = Call { params, lang };
    let mut st = state.lock().expect("fake realm state");
    let response = match (parts.method.clone(), endpoint) {
        (Method::POST, "login") => login(&mut st, &call),
        (Method::POST, "login/verify") => verify_login(&mut st, &call),
        (Method::GET, "session") => get_session(&mut st, &call),
        (Method::DELETE, "session") => logout(&mut st, &call),
        (Method::POST, "password/forgot") => forgot_password(&mut st, &call),
        (Method::POST, "password/reset") => reset_password(&mut st, &call),
        (Method::POST, "profile/password") => update_password(&mut st, &call),
        (Method::PUT, "profile") => update_profile(&mut st, &call),
        (Method::POST, "signup/request") => request_invitation(&mut st, &call),
        (Method::POST, "signup") => signup(&mut st, &call),
        (Method::POST, "email/verify") => verify_email(&mut st, &call),
        _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
    };
    decorate(response, origin)
}

/// `full_login` for `user_id` in `session` (new when `None`) with `account`.
fn full_login(
    st: &mut RealmState,
    user_id: &str,
    session: Option<&str>,
    account: Option<&str>,
) -> Response {
    match st.sign_in(user_id, session, account) {
        Some((session, token)) => answer(
            StatusCode::OK,
            json!({"result": "full_login", "session": session, "account": account, "token": token}),
        ),
        None => denied(),
    }
}

/// A completed login of `user_id`: their account when there is no choice to make, else a
/// session waiting for one (`conditional_login`).
fn logged_in(st: &mut RealmState, user_id: &str, session: Option<&str>) -> Response {
    let orgs: Vec<String> = st
        .users
        .get(user_id)
        .map(|u| u.orgs.iter().map(|o| o.org_id.clone()).collect())
        .unwrap_or_default();
    if st.accounts.settings.multi_user_orgs && orgs.len() > 1 {
        let Some((session, _)) = st.sign_in(user_id, session, None) else {
            return denied();
        };
        return answer(
            StatusCode::OK,
            json!({"result": "conditional_login", "session": session, "account": null,
                   "conditions": ["no_account_selected"]}),
        );
    }
    full_login(st, user_id, session, orgs.first().map(String::as_str))
}

/// `POST login`: `email` (or `username`, or a `usr_` id) and `password`.
fn login(st: &mut RealmState, call: &Call) -> Response {
    let who = call.get("email").or_else(|| call.get("username"));
    let user = who
        .and_then(|w| st.find_user(w))
        .map(|u| (u.id.clone(), u.email.clone()));
    let Some((user_id, email)) = user else {
        return call.error(StatusCode::CONFLICT, &[Msg::LoginFailed]);
    };
    if st.accounts.passwords.get(&user_id).map(String::as_str) != call.raw("password") {
        return call.error(StatusCode::CONFLICT, &[Msg::LoginFailed]);
    }
    if st.accounts.mfa.contains(&user_id) {
        let code = format!("{:06}", u32::from_be_bytes(random4()) % 1_000_000);
        let pending = Pending::Mfa { user_id, code };
        let token = st
            .accounts
            .hand_out("tmf:", &email, MailKind::MfaCode, pending);
        return answer(
            StatusCode::OK,
            json!({"result": "need_mfa", "token": token}),
        );
    }
    logged_in(st, &user_id, None)
}

fn random4() -> [u8; 4] {
    let mut b = [0u8; 4];
    aws_lc_rs::rand::fill(&mut b).expect("system randomness");
    b
}

/// `POST login/verify`: the `tmf:` `token` and the `code`.
fn verify_login(st: &mut RealmState, call: &Call) -> Response {
    let token = call.get("token").unwrap_or_default().to_owned();
    let Some(Pending::Mfa { user_id, code }) = st.accounts.pending.get(&token).cloned() else {
        return call.error(StatusCode::UNPROCESSABLE_ENTITY, &[Msg::BadToken]);
    };
    if call.get("code") != Some(code.as_str()) {
        return call.error(StatusCode::CONFLICT, &[Msg::BadCode]);
    }
    st.accounts.pending.remove(&token);
    logged_in(st, &user_id, None)
}

/// The live session `session` names, and its user.
fn session_of(st: &RealmState, call: &Call) -> Option<(String, String)> {
    let s = st.find_session(call.get("session")?)?;
    Some((s.id.clone(), s.user_id.clone()))
}

/// `GET session`: `session`, optional `account`.
fn get_session(st: &mut RealmState, call: &Call) -> Response {
    let Some((session, user_id)) = session_of(st, call) else {
        return denied();
    };
    let Some(account) = call.get("account") else {
        return logged_in(st, &user_id, Some(&session));
    };
    let member = st
        .users
        .get(&user_id)
        .is_some_and(|u| u.orgs.iter().any(|o| o.org_id == account));
    match member {
        true => full_login(st, &user_id, Some(&session), Some(account)),
        false => denied(),
    }
}

/// `DELETE session`: `session`.
fn logout(st: &mut RealmState, call: &Call) -> Response {
    let Some((session, _)) = session_of(st, call) else {
        return denied();
    };
    st.end_session(&session);
    okay()
}

/// `POST password/forgot`: `email`. `okay` whether or not the email is known.
fn forgot_password(st: &mut RealmState, call: &Call) -> Response {
    let user = call
        .get("email")
        .and_then(|e| st.find_user(e))
        .map(|u| (u.id.clone(), u.email.clone()));
    if let Some((user_id, email)) = user {
        let pending = Pending::Reset { user_id };
        st.accounts
            .hand_out("tpw:", &email, MailKind::PasswordReset, pending);
    }
    okay()
}

/// What is wrong with a new password.
fn password_problems(call: &Call) -> Vec<Msg> {
    let password = call.raw("password").unwrap_or_default();
    let mut problems = Vec::new();
    if password.chars().count() < 8 {
        problems.push(Msg::PasswordShort);
    }
    if call
        .raw("password_confirmation")
        .is_some_and(|c| c != password)
    {
        problems.push(Msg::PasswordConfirmation);
    }
    problems
}

/// `POST password/reset`: the `tpw:` `token`, `password`, `password_confirmation`. Ends the
/// user's other sessions and logs them in.
fn reset_password(st: &mut RealmState, call: &Call) -> Response {
    let token = call.get("token").unwrap_or_default().to_owned();
    let Some(Pending::Reset { user_id }) = st.accounts.pending.get(&token).cloned() else {
        return call.error(StatusCode::UNPROCESSABLE_ENTITY, &[Msg::BadToken]);
    };
    let problems = password_problems(call);
    if !problems.is_empty() {
        return call.error(StatusCode::UNPROCESSABLE_ENTITY, &problems);
    }
    st.accounts.pending.remove(&token);
    let password = call.raw("password").unwrap_or_default().to_owned();
    st.accounts.passwords.insert(user_id.clone(), password);
    st.end_sessions_of(&user_id, None);
    logged_in(st, &user_id, None)
}

/// `POST profile/password`: `session`, `current_password`, `password`,
/// `password_confirmation`. Ends the user's other sessions.
fn update_password(st: &mut RealmState, call: &Call) -> Response {
    let Some((session, user_id)) = session_of(st, call) else {
        return denied();
    };
    if st.accounts.passwords.get(&user_id).map(String::as_str) != call.raw("current_password") {
        return call.error(StatusCode::CONFLICT, &[Msg::CurrentPassword]);
    }
    let problems = password_problems(call);
    if !problems.is_empty() {
        return call.error(StatusCode::UNPROCESSABLE_ENTITY, &problems);
    }
    let password = call.raw("password").unwrap_or_default().to_owned();
    st.accounts.passwords.insert(user_id.clone(), password);
    st.end_sessions_of(&user_id, Some(&session));
    okay()
}

/// `PUT profile`: `session` and the fields to change (`first_name`, `last_name`, `email`).
/// A fresh token for the same session and account.
fn update_profile(st: &mut RealmState, call: &Call) -> Response {
    let Some((session, user_id)) = session_of(st, call) else {
        return denied();
    };
    if let Some(email) = call.get("email") {
        if !email.contains('@') {
            return call.error(StatusCode::UNPROCESSABLE_ENTITY, &[Msg::EmailInvalid]);
        }
        if st.find_user(email).is_some_and(|u| u.id != user_id) {
            return call.error(StatusCode::UNPROCESSABLE_ENTITY, &[Msg::EmailTaken]);
        }
    }
    let (first, last, email) = (
        call.get("first_name"),
        call.get("last_name"),
        call.get("email"),
    );
    if let Some(user) = st.users.get_mut(&user_id) {
        if let Some(first) = first {
            user.first_name = first.to_owned();
        }
        if let Some(last) = last {
            user.last_name = last.to_owned();
        }
        if let Some(email) = email {
            user.email = email.to_owned();
        }
        user.name = format!("{} {}", user.first_name, user.last_name);
    }
    let account = st.sessions.get(&session).and_then(|s| s.account.clone());
    full_login(st, &user_id, Some(&session), account.as_deref())
}

/// `POST signup/request`: `email`.
fn request_invitation(st: &mut RealmState, call: &Call) -> Response {
    let Some(email) = call.get("email").filter(|e| e.contains('@')) else {
        return call.error(StatusCode::UNPROCESSABLE_ENTITY, &[Msg::EmailInvalid]);
    };
    st.accounts.mails.push(super::accounts::Mail {
        to: email.to_owned(),
        kind: MailKind::InvitationRequest,
        token: String::new(),
    });
    okay()
}

/// `POST signup`: `email`, `password`, optional `password_confirmation`, `first_name`,
/// `last_name`, `org_name`. Logs the new user in; their email waits for verification.
fn signup(st: &mut RealmState, call: &Call) -> Response {
    let settings = st.accounts.settings.clone();
    let email = call.get("email").unwrap_or_default().to_owned();
    if settings.signup == Signup::InvitationOnly && !st.accounts.invited.contains(&email) {
        return call.error(StatusCode::UNPROCESSABLE_ENTITY, &[Msg::InvitationOnly]);
    }
    let mut problems = Vec::new();
    if !email.contains('@') {
        problems.push(Msg::EmailInvalid);
    } else if st.find_user(&email).is_some() {
        problems.push(Msg::EmailTaken);
    }
    problems.extend(password_problems(call));
    let (first, last) = (call.get("first_name"), call.get("last_name"));
    if settings.require_names && first.is_none() {
        problems.push(Msg::FirstName);
    }
    if settings.require_names && last.is_none() {
        problems.push(Msg::LastName);
    }
    let org = call.get("org_name");
    if settings.require_org_name && org.is_none() {
        problems.push(Msg::OrgName);
    }
    if !problems.is_empty() {
        return call.error(StatusCode::UNPROCESSABLE_ENTITY, &problems);
    }
    let mut spec = UserSpec::new(email.clone())
        .password(call.raw("password").unwrap_or_default())
        .unverified();
    if let (Some(first), Some(last)) = (first, last) {
        spec = spec.names(first, last);
    }
    if let Some(org) = org {
        spec = spec.member(org, ["ar:owner"]);
    }
    let user = st.add_user(&spec);
    let pending = Pending::Verify {
        user_id: user.id.clone(),
    };
    st.accounts
        .hand_out("tve:", &email, MailKind::EmailVerification, pending);
    logged_in(st, &user.id, None)
}

/// `POST email/verify`: the `tve:` `token`.
fn verify_email(st: &mut RealmState, call: &Call) -> Response {
    let token = call.get("token").unwrap_or_default().to_owned();
    let Some(Pending::Verify { user_id }) = st.accounts.pending.get(&token).cloned() else {
        return call.error(StatusCode::UNPROCESSABLE_ENTITY, &[Msg::BadToken]);
    };
    st.accounts.pending.remove(&token);
    st.accounts.unverified.remove(&user_id);
    okay()
}

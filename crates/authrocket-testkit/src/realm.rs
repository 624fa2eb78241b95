//! [`FakeRealm`]: an AuthRocket realm on `127.0.0.1`, in your test's process.
//!
//! It mints tokens for users it knows and answers AuthRocket's HTTP endpoints the way the real
//! service does, so code under test talks real HTTP to it:
//!
//! | endpoint | what it does |
//! | --- | --- |
//! | `GET /connect/jwks` | the realm's RS256 keys, AuthRocket style (`x5c[0]` bare SPKI, `n`/`e`) |
//! | `GET /v2/sessions/{token or kss_ id}` | session object; checks `authrocket-api-key` and `authrocket-realm` |
//! | `GET /v2/users/{id}` | user object, same checks |
//! | `GET /v1/sessions/{token}` | AuthRocket 1 session (user always embedded); checks `X-Authrocket-Api-Key`, `X-Authrocket-Realm` |
//! | `GET /login?redirect_uri=` | LoginRocket: logs in the demo user and redirects back with `?token=` |
//! | `GET /logout?session=&redirect_uri=` | LoginRocket: revokes the session and redirects back |
//!
//! Faults can be injected ([`FakeRealm::fail_next`], [`FakeRealm::fail_always`]) and every
//! request is counted ([`FakeRealm::requests`]).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::{ManualClock, SigningKey, TokenBuilder, now, random_id};

/// A fault the fake realm injects into its next answer(s), instead of answering normally.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status and an AuthRocket error body (`{"errors":[…]}`).
    Status(u16),
    /// Answer 429 with `Retry-After: {seconds}`.
    RateLimited {
        /// The `Retry-After` value in seconds.
        retry_after: u64,
    },
    /// Wait this long, then answer normally.
    Latency(Duration),
    /// Answer 200 with a JSON body cut in half.
    TruncatedJson,
    /// Answer 200 with a body larger than any sane session (1 MiB).
    OversizedBody,
    /// Answer 302 to this location.
    Redirect(String),
    /// Send the status line and headers, then drop the connection mid-body.
    DropConnection,
    /// Answer 200 with a *different* session than the one asked for.
    WrongSession,
    /// Answer with exactly this status and JSON body (e.g. a session object that names
    /// another user, or lacks its `id`).
    Respond {
        /// The HTTP status.
        status: u16,
        /// The JSON body.
        body: Value,
    },
}

/// A user of the fake realm.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeUser {
    /// `usr_…`
    pub id: String,
    /// Email address (also the username the realm logs in with).
    pub email: String,
    /// Display name.
    pub name: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Memberships: `(org id, org name, permissions)`.
    pub orgs: Vec<FakeOrg>,
}

/// An organization membership of a [`FakeUser`].
#[derive(Debug, Clone, PartialEq)]
pub struct FakeOrg {
    /// Membership id `mb_…`.
    pub membership_id: String,
    /// Org id `org_…`.
    pub org_id: String,
    /// Org name.
    pub name: String,
    /// Permissions granted by the membership.
    pub permissions: Vec<String>,
}

/// A login made with [`FakeRealm::login`]: the token the frontend would hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Login {
    /// The login token (JWT).
    pub token: String,
    /// The session id `kss_…`.
    pub session_id: String,
    /// The user it belongs to.
    pub user: FakeUser,
    /// When the session and token expire (Unix seconds).
    pub expires_at: i64,
}

#[derive(Debug, Clone)]
struct StoredSession {
    id: String,
    token: String,
    user_id: String,
    created_at: f64,
    expires_at: i64,
    revoked: bool,
}

/// Injected faults, each for one endpoint (`Some`) or for every API and JWKS endpoint.
#[derive(Debug, Default)]
struct Faults {
    queue: VecDeque<(Option<String>, Fault)>,
    always: Vec<(Option<String>, Fault)>,
}

impl Faults {
    /// The fault for the next answer of `endpoint`, if any: queued ones first.
    fn take(&mut self, endpoint: &str) -> Option<Fault> {
        let applies = |on: &Option<String>| on.as_deref().is_none_or(|e| e == endpoint);
        if let Some(i) = self.queue.iter().position(|(on, _)| applies(on)) {
            return self.queue.remove(i).map(|(_, f)| f);
        }
        self.always
            .iter()
            .find(|(on, _)| applies(on))
            .map(|(_, f)| f.clone())
    }
}

struct RealmState {
    realm_id: String,
    api_key: String,
    embed_user: bool,
    session_ttl: i64,
    keys: Vec<SigningKey>,
    users: HashMap<String, FakeUser>,
    sessions: HashMap<String, StoredSession>,
    by_token: HashMap<String, String>,
    faults: Faults,
    counts: HashMap<&'static str, u64>,
    last_user_agent: Option<String>,
    clock: Option<ManualClock>,
}

impl RealmState {
    /// Unix seconds on the realm's clock.
    fn now(&self) -> i64 {
        self.clock.as_ref().map_or_else(now, ManualClock::now_unix)
    }
}

type Shared = Arc<Mutex<RealmState>>;

/// Configures a [`FakeRealm`] before it starts.
///
/// ```
/// # async fn run() {
/// use authrocket_testkit::FakeRealm;
///
/// let realm = FakeRealm::builder().hs256().embed_user(false).start().await;
/// assert!(realm.jwt_key().starts_with("jsk_"));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct FakeRealmBuilder {
    hs256: bool,
    embed_user: bool,
    session_ttl: i64,
    realm_id: Option<String>,
    clock: Option<ManualClock>,
}

impl FakeRealmBuilder {
    /// Sign tokens with an HS256 realm secret instead of an RS256 key (the default). The
    /// JWKS endpoint then serves no keys.
    pub fn hs256(mut self) -> Self {
        self.hs256 = true;
        self
    }

    /// Whether `GET /v2/sessions/…` embeds the user object (default `true`). With `false`,
    /// clients must fetch `/v2/users/{id}`.
    pub fn embed_user(mut self, embed: bool) -> Self {
        self.embed_user = embed;
        self
    }

    /// Lifetime of new sessions and their tokens (default one hour).
    pub fn session_ttl(mut self, ttl: Duration) -> Self {
        self.session_ttl = ttl.as_secs() as i64;
        self
    }

    /// Use this realm id instead of a random `rl_…` one.
    pub fn realm_id(mut self, id: impl Into<String>) -> Self {
        self.realm_id = Some(id.into());
        self
    }

    /// Read time from `clock` instead of the system clock: tokens are issued, and sessions
    /// expire, on the test's time.
    pub fn clock(mut self, clock: ManualClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Bind `127.0.0.1:0` and start serving.
    pub async fn start(self) -> FakeRealm {
        let key = if self.hs256 {
            SigningKey::random_hs256()
        } else {
            SigningKey::generate_rs256().with_kid(random_id("jwk_"))
        };
        let state: Shared = Arc::new(Mutex::new(RealmState {
            realm_id: self.realm_id.unwrap_or_else(|| random_id("rl_")),
            api_key: random_id("ks_"),
            embed_user: self.embed_user,
            session_ttl: self.session_ttl,
            keys: vec![key],
            users: HashMap::new(),
            sessions: HashMap::new(),
            by_token: HashMap::new(),
            faults: Faults::default(),
            counts: HashMap::new(),
            last_user_agent: None,
            clock: self.clock,
        }));
        let app = Router::new()
            .route("/connect/jwks", get(jwks))
            .route("/v2/sessions/{id}", get(session_v2))
            .route("/v2/users/{id}", get(user_v2))
            .route("/v1/sessions/{id}", get(session_v1))
            .route("/login", get(login_page))
            .route("/logout", get(logout_page))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        FakeRealm {
            state,
            addr,
            shutdown: Some(tx),
            task: Some(task),
        }
    }
}

/// An AuthRocket realm served on `127.0.0.1` by this process. Stops when dropped.
///
/// ```
/// # async fn run() {
/// use authrocket_testkit::FakeRealm;
///
/// let realm = FakeRealm::start().await;
/// let frank = realm.login("frank@example.com");
/// // configure the code under test with realm.env(), send frank.token, then:
/// realm.revoke(&frank);
/// assert_eq!(realm.requests("/v2/sessions"), 0);
/// # }
/// ```
pub struct FakeRealm {
    state: Shared,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for FakeRealm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeRealm")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for FakeRealm {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl FakeRealm {
    /// Start a realm with the defaults: RS256 keys with a `kid`, user embedded in sessions.
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// Configure a realm before starting it.
    pub fn builder() -> FakeRealmBuilder {
        FakeRealmBuilder {
            hs256: false,
            embed_user: true,
            session_ttl: 3600,
            realm_id: None,
            clock: None,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RealmState> {
        self.state.lock().expect("fake realm state")
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:{port}` — also the `LOGINROCKET_URL`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The value for `LOGINROCKET_URL` (keys from `/connect/jwks`, login and logout pages).
    pub fn loginrocket_url(&self) -> String {
        format!("{}/", self.url())
    }

    /// The value for `AUTHROCKET_URL` (AuthRocket 2 session API).
    pub fn api_url(&self) -> String {
        format!("{}/v2", self.url())
    }

    /// The value for `AUTHROCKET_URL` when testing AuthRocket 1 (`/v1`).
    pub fn api_url_v1(&self) -> String {
        format!("{}/v1", self.url())
    }

    /// The value for `AUTHROCKET_API_KEY`.
    pub fn api_key(&self) -> String {
        self.lock().api_key.clone()
    }

    /// The value for `AUTHROCKET_REALM`.
    pub fn realm_id(&self) -> String {
        self.lock().realm_id.clone()
    }

    /// The key new tokens are signed with.
    pub fn signing_key(&self) -> SigningKey {
        self.lock().keys.last().expect("a key").clone()
    }

    /// The value for `AUTHROCKET_JWT_KEY`: the HS256 secret, or the current RS256 public key
    /// as bare base64.
    pub fn jwt_key(&self) -> String {
        self.signing_key().jwt_key()
    }

    /// Every setting a verifier needs to use this realm in hybrid mode, as
    /// `(variable, value)` pairs with the SDKs' names: `LOGINROCKET_URL` (or
    /// `AUTHROCKET_JWT_KEY` for an HS256 realm), `AUTHROCKET_URL`, `AUTHROCKET_API_KEY` and
    /// `AUTHROCKET_REALM`.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let key = self.signing_key();
        let key_var = if key.alg() == "HS256" {
            ("AUTHROCKET_JWT_KEY", key.jwt_key())
        } else {
            ("LOGINROCKET_URL", self.loginrocket_url())
        };
        vec![
            key_var,
            ("AUTHROCKET_URL", self.api_url()),
            ("AUTHROCKET_API_KEY", self.api_key()),
            ("AUTHROCKET_REALM", self.realm_id()),
        ]
    }

    /// One of [`env`](Self::env)'s settings by its variable name — the lookup
    /// `VerifierBuilder::from_env_with` takes:
    /// `VerifierBuilder::from_env_with(|name| realm.env_var(name))`.
    pub fn env_var(&self, name: &str) -> Option<String> {
        self.env()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    /// The user with this email, created on first use (name derived from the email).
    pub fn user(&self, email: &str) -> FakeUser {
        let mut st = self.lock();
        find_or_create_user(&mut st, email)
    }

    /// Log `email` in (creating the user if needed): a new session and its AuthRocket 2 token.
    pub fn login(&self, email: &str) -> Login {
        login_v2(&mut self.lock(), email, |t| t)
    }

    /// Like [`login`](Self::login), with the token's claims adjusted by `customize` before it is
    /// signed: the session is real (the session API knows the token), the claims are yours.
    ///
    /// ```
    /// # async fn run() {
    /// let realm = authrocket_testkit::FakeRealm::start().await;
    /// let login = realm.login_with("ann@example.com", |t| t.claim("cs", serde_json::json!({"plan": "gold"})));
    /// # }
    /// ```
    pub fn login_with(
        &self,
        email: &str,
        customize: impl FnOnce(TokenBuilder) -> TokenBuilder,
    ) -> Login {
        login_v2(&mut self.lock(), email, customize)
    }

    /// Log `email` in with an AuthRocket 1 token (`uid`, `tk`, `aud` = realm, `m[]`).
    pub fn login_v1(&self, email: &str) -> Login {
        login_v1(&mut self.lock(), email)
    }

    /// Revoke a session (an admin logging the user out): the session API answers 404 for it
    /// from now on. Its JWT stays cryptographically valid until it expires.
    pub fn revoke(&self, login: &Login) {
        self.revoke_session(&login.session_id);
    }

    /// Revoke a session by its id `kss_…`.
    pub fn revoke_session(&self, session_id: &str) {
        if let Some(s) = self.lock().sessions.get_mut(session_id) {
            s.revoked = true;
        }
    }

    /// Rotate the signing key: a new RS256 key (new `kid`) signs new tokens; the old one
    /// stays published until [`retire_old_keys`](Self::retire_old_keys). Returns the new key.
    pub fn rotate_keys(&self) -> SigningKey {
        let key = SigningKey::generate_rs256().with_kid(random_id("jwk_"));
        self.lock().keys.push(key.clone());
        key
    }

    /// Stop publishing every key but the current one.
    pub fn retire_old_keys(&self) {
        let mut st = self.lock();
        let keep = st.keys.pop().expect("a key");
        st.keys = vec![keep];
    }

    /// Inject `fault` into the next `times` answers of the API and JWKS endpoints.
    pub fn fail_next(&self, times: usize, fault: Fault) {
        let mut st = self.lock();
        st.faults
            .queue
            .extend(std::iter::repeat_n((None, fault), times));
    }

    /// Inject `fault` into the next `times` answers of one endpoint (named as in
    /// [`requests`](Self::requests), e.g. `"/v2/sessions"`), leaving the others alone.
    pub fn fail_next_on(&self, endpoint: &str, times: usize, fault: Fault) {
        let mut st = self.lock();
        let on = Some(endpoint.to_owned());
        st.faults
            .queue
            .extend(std::iter::repeat_n((on, fault), times));
    }

    /// Inject `fault` into every answer until [`clear_faults`](Self::clear_faults).
    pub fn fail_always(&self, fault: Fault) {
        self.lock().faults.always.push((None, fault));
    }

    /// Inject `fault` into every answer of one endpoint until
    /// [`clear_faults`](Self::clear_faults).
    pub fn fail_always_on(&self, endpoint: &str, fault: Fault) {
        self.lock()
            .faults
            .always
            .push((Some(endpoint.to_owned()), fault));
    }

    /// Stop injecting faults.
    pub fn clear_faults(&self) {
        let mut st = self.lock();
        st.faults.queue.clear();
        st.faults.always.clear();
    }

    /// How many requests reached an endpoint: `"/connect/jwks"`, `"/v2/sessions"`,
    /// `"/v2/users"`, `"/v1/sessions"`, `"/login"`, `"/logout"`.
    pub fn requests(&self, endpoint: &str) -> u64 {
        self.lock().counts.get(endpoint).copied().unwrap_or(0)
    }

    /// The `user-agent` of the latest API or JWKS request.
    pub fn last_user_agent(&self) -> Option<String> {
        self.lock().last_user_agent.clone()
    }

    /// Stop serving and wait until the listener is closed. Connections kept alive by clients
    /// are closed as they go idle.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }
}

/// A new session for `email` (creating the user if needed): the user, its id, and when it
/// starts and expires. The caller signs the token and hands it to [`remember`].
fn open_session(st: &mut RealmState, email: &str) -> (FakeUser, String, i64, i64) {
    let user = find_or_create_user(st, email);
    let now = st.now();
    (user, random_id("kss_"), now, now + st.session_ttl)
}

/// Store a session opened with [`open_session`] under its token.
fn remember(
    st: &mut RealmState,
    user: FakeUser,
    session_id: String,
    token: String,
    exp: i64,
) -> Login {
    store_session(st, &session_id, &token, &user.id, exp);
    Login {
        token,
        session_id,
        user,
        expires_at: exp,
    }
}

/// Log `email` in: a new session and its AuthRocket 2 token.
fn login_v2(
    st: &mut RealmState,
    email: &str,
    customize: impl FnOnce(TokenBuilder) -> TokenBuilder,
) -> Login {
    let (user, session_id, now, exp) = open_session(st, email);
    let orgs: Vec<Value> = user
        .orgs
        .iter()
        .enumerate()
        .map(|(i, o)| {
            json!({"mid": o.membership_id, "oid": o.org_id, "name": o.name,
                   "perm": o.permissions, "selected": i == 0})
        })
        .collect();
    let token = customize(
        TokenBuilder::v2(&user.id)
            .claim("sid", session_id.as_str())
            .claim("rid", st.realm_id.as_str())
            .claim("name", user.name.as_str())
            .claim("given_name", user.first_name.as_str())
            .claim("family_name", user.last_name.as_str())
            .claim("preferred_username", user.email.as_str())
            .claim("email", user.email.as_str())
            .claim("email_verified", true)
            .claim("orgs", orgs)
            .claim("iat", now)
            .claim("exp", exp),
    )
    .sign(st.keys.last().expect("a key"));
    remember(st, user, session_id, token, exp)
}

/// Log `email` in with an AuthRocket 1 token (`uid`, `tk`, `aud` = realm, `m[]`).
fn login_v1(st: &mut RealmState, email: &str) -> Login {
    let (user, session_id, now, exp) = open_session(st, email);
    let memberships: Vec<Value> = user
        .orgs
        .iter()
        .map(|o| json!({"oid": o.org_id, "o": o.name, "p": o.permissions}))
        .collect();
    let token = TokenBuilder::v1(&user.id)
        .claim("tk", session_id.as_str())
        .claim("aud", st.realm_id.as_str())
        .claim("n", user.name.as_str())
        .claim("fn", user.first_name.as_str())
        .claim("ln", user.last_name.as_str())
        .claim("un", user.email.as_str())
        .claim("m", memberships)
        .claim("iat", now)
        .claim("exp", exp)
        .sign(st.keys.last().expect("a key"));
    remember(st, user, session_id, token, exp)
}

fn find_or_create_user(st: &mut RealmState, email: &str) -> FakeUser {
    if let Some(u) = st.users.values().find(|u| u.email == email) {
        return u.clone();
    }
    let local = email.split('@').next().unwrap_or(email);
    let mut first = local.to_owned();
    if let Some(c) = first.get_mut(0..1) {
        c.make_ascii_uppercase();
    }
    let user = FakeUser {
        id: random_id("usr_"),
        email: email.to_owned(),
        name: format!("{first} Example"),
        first_name: first,
        last_name: "Example".to_owned(),
        orgs: vec![FakeOrg {
            membership_id: random_id("mb_"),
            org_id: random_id("org_"),
            name: "Example Corp".to_owned(),
            permissions: vec!["ar:admin".to_owned(), "billing:read".to_owned()],
        }],
    };
    st.users.insert(user.id.clone(), user.clone());
    user
}

fn store_session(st: &mut RealmState, id: &str, token: &str, user_id: &str, exp: i64) {
    let created_at = st.now() as f64 + 0.25;
    st.sessions.insert(
        id.to_owned(),
        StoredSession {
            id: id.to_owned(),
            token: token.to_owned(),
            user_id: user_id.to_owned(),
            created_at,
            expires_at: exp,
            revoked: false,
        },
    );
    st.by_token.insert(token.to_owned(), id.to_owned());
}

fn errors(status: StatusCode, message: &str) -> Response {
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
fn begin(state: &Shared, endpoint: &'static str, headers: &HeaderMap) -> Option<Fault> {
    let mut st = state.lock().expect("fake realm state");
    *st.counts.entry(endpoint).or_default() += 1;
    st.last_user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    st.faults.take(endpoint)
}

/// Answer a fault, or `None` to answer normally (after any latency).
async fn fault_response(fault: Option<Fault>, state: &Shared) -> Option<Response> {
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
            let other = st.sessions.values().next().cloned();
            let body = match other {
                Some(s) => session_json(&st, &s, true, "v2"),
                None => json!({"object":"session","id":"kss_other","user_id":"usr_other",
                               "created_at": st.now(), "expires_at": st.now() + 3600, "token": "other"}),
            };
            // Make sure it is *another* session than any the client could ask for.
            let mut body = body;
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

fn session_json(st: &RealmState, s: &StoredSession, embed: bool, version: &str) -> Value {
    let mut body = json!({
        "object": "session",
        "id": s.id,
        "user_id": s.user_id,
        "created_at": s.created_at,
        "expires_at": s.expires_at,
        "token": s.token,
        "request": {"ip": "127.0.0.1", "client": "authrocket-testkit"},
    });
    if version == "v2" {
        body["realm_id"] = json!(st.realm_id);
    }
    if embed {
        if let Some(u) = st.users.get(&s.user_id) {
            body["user"] = user_json(u);
        }
    }
    body
}

/// The API credential checks AuthRocket makes: `None` when they pass.
fn check_credentials(
    st: &RealmState,
    headers: &HeaderMap,
    key_header: &str,
    realm_header: &str,
) -> Option<Response> {
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

fn find_session(st: &RealmState, id_or_token: &str) -> Option<StoredSession> {
    let id = if id_or_token.starts_with("kss_") {
        id_or_token.to_owned()
    } else {
        st.by_token.get(id_or_token)?.clone()
    };
    let s = st.sessions.get(&id)?;
    (!s.revoked && s.expires_at > st.now()).then(|| s.clone())
}

async fn session_v2(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let fault = begin(&state, "/v2/sessions", &headers);
    if let Some(r) = fault_response(fault, &state).await {
        return r;
    }
    let st = state.lock().expect("fake realm state");
    if let Some(r) = check_credentials(&st, &headers, "authrocket-api-key", "authrocket-realm") {
        return r;
    }
    match find_session(&st, &id) {
        Some(s) => json_ok(session_json(&st, &s, st.embed_user, "v2")),
        None => errors(StatusCode::NOT_FOUND, "Session not found"),
    }
}

async fn user_v2(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let fault = begin(&state, "/v2/users", &headers);
    if let Some(r) = fault_response(fault, &state).await {
        return r;
    }
    let st = state.lock().expect("fake realm state");
    if let Some(r) = check_credentials(&st, &headers, "authrocket-api-key", "authrocket-realm") {
        return r;
    }
    match st.users.get(&id) {
        Some(u) => json_ok(user_json(u)),
        None => errors(StatusCode::NOT_FOUND, "User not found"),
    }
}

async fn session_v1(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let fault = begin(&state, "/v1/sessions", &headers);
    if let Some(r) = fault_response(fault, &state).await {
        return r;
    }
    let st = state.lock().expect("fake realm state");
    if let Some(r) = check_credentials(&st, &headers, "x-authrocket-api-key", "x-authrocket-realm")
    {
        return r;
    }
    match find_session(&st, &id) {
        Some(s) => json_ok(session_json(&st, &s, true, "v1")),
        None => errors(StatusCode::NOT_FOUND, "Session not found"),
    }
}

async fn jwks(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let fault = begin(&state, "/connect/jwks", &headers);
    if let Some(r) = fault_response(fault, &state).await {
        return r;
    }
    let st = state.lock().expect("fake realm state");
    let keys: Vec<Value> = st.keys.iter().filter_map(SigningKey::jwk).collect();
    json_ok(json!({ "keys": keys }))
}

/// Where LoginRocket sends the browser back to, with `?token=` appended.
fn redirect_back(redirect_uri: &str, extra: &[(&str, &str)]) -> Response {
    let mut target = redirect_uri.to_owned();
    for (k, v) in extra {
        target.push(if target.contains('?') { '&' } else { '?' });
        target.push_str(k);
        target.push('=');
        target.push_str(v);
    }
    (StatusCode::SEE_OTHER, [(header::LOCATION, target)]).into_response()
}

async fn login_page(
    State(state): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    *state
        .lock()
        .expect("fake realm state")
        .counts
        .entry("/login")
        .or_default() += 1;
    let Some(back) = q.get("redirect_uri") else {
        return errors(StatusCode::BAD_REQUEST, "redirect_uri is required");
    };
    let email = q.get("email").map_or("demo@example.com", String::as_str);
    let login = login_v2(&mut state.lock().expect("fake realm state"), email, |t| t);
    redirect_back(back, &[("token", &login.token)])
}

async fn logout_page(
    State(state): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut st = state.lock().expect("fake realm state");
    *st.counts.entry("/logout").or_default() += 1;
    if let Some(s) = q.get("session").and_then(|id| st.sessions.get_mut(id)) {
        s.revoked = true;
    }
    match q.get("redirect_uri") {
        Some(back) => redirect_back(back, &[]),
        None => (StatusCode::OK, "logged out").into_response(),
    }
}

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
//! | `GET /v2/events/{id}` | event object, same checks |
//! | `GET /v1/sessions/{token}`, `GET /v1/events/{id}` | AuthRocket 1 (user always embedded); checks `X-Authrocket-Api-Key`, `X-Authrocket-Realm` |
//! | `GET /login?redirect_uri=` | LoginRocket: logs in the demo user and redirects back with `?token=` |
//! | `GET /logout?session=&redirect_uri=` | LoginRocket: ends the session and redirects back |
//!
//! When a session ends early (revoked, logged out, password changed, user deleted) the realm
//! records a `session.deleted` event and posts it to every URL registered with
//! [`FakeRealm::deliver_events_to`], as AuthRocket's webhooks do.
//!
//! Faults can be injected into answers ([`FakeRealm::fail_next`], [`FakeRealm::fail_always`])
//! and into webhook deliveries ([`FakeRealm::fail_next_delivery`]); every request is counted
//! ([`FakeRealm::requests`]) and every delivery recorded ([`FakeRealm::deliveries`]).

mod accounts;
mod api;
mod faults;
mod loginrocket;
mod pages;
mod state;
mod webhooks;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub use accounts::{DEMO_PASSWORD, Mail, MailKind, Signup, UserSpec};
pub use faults::Fault;
pub use state::{FakeOrg, FakeUser, Login};
pub use webhooks::{Delivery, WebhookFault};

use accounts::{Accounts, SignInSettings};
use faults::Faults;
use state::{RealmState, Shared};
use webhooks::{Deliveries, Webhooks};

use crate::{ManualClock, SigningKey, TokenBuilder, random_id};

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
    users: Vec<UserSpec>,
    sign_in: SignInSettings,
}

impl FakeRealmBuilder {
    /// Add a user (see [`UserSpec`]): email, password, names, memberships and their
    /// permissions, MFA.
    ///
    /// ```
    /// # async fn run() {
    /// use authrocket_testkit::{FakeRealm, Signup, UserSpec};
    ///
    /// let realm = FakeRealm::builder()
    ///     .user(UserSpec::new("ann@example.com").password("ann-pass").member("Acme", ["ar:admin"]))
    ///     .user(UserSpec::new("bob@example.com").member("Acme", ["forum:read"]).mfa())
    ///     .multi_user_orgs()
    ///     .signup(Signup::InvitationOnly)
    ///     .allow_origin("http://localhost:5173")
    ///     .start()
    ///     .await;
    /// assert_eq!(realm.user("ann@example.com").orgs[0].name, "Acme");
    /// # }
    /// ```
    pub fn user(mut self, user: UserSpec) -> Self {
        self.users.push(user);
        self
    }

    /// Users may belong to several orgs: a LoginRocket session with no account chosen is a
    /// `conditional_login` (`no_account_selected`) until the app picks one. By default each
    /// user's first org is their account.
    pub fn multi_user_orgs(mut self) -> Self {
        self.sign_in.multi_user_orgs = true;
        self
    }

    /// Who may sign up (default [`Signup::Open`]).
    pub fn signup(mut self, signup: Signup) -> Self {
        self.sign_in.signup = signup;
        self
    }

    /// Signing up needs a first and last name.
    pub fn require_names(mut self) -> Self {
        self.sign_in.require_names = true;
        self
    }

    /// Signing up needs an org name (`org_name`), which becomes the user's account.
    pub fn require_org_name(mut self) -> Self {
        self.sign_in.require_org_name = true;
        self
    }

    /// Let pages from `origin` (`scheme://host[:port]`) call the LoginRocket browser API
    /// (CORS). See also `FakeRealm::allow_origin`.
    pub fn allow_origin(mut self, origin: impl Into<String>) -> Self {
        self.sign_in.origins.push(origin.into());
        self
    }

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

    /// Bind `127.0.0.1:0` and start serving (and delivering webhooks) on the current Tokio
    /// runtime.
    pub async fn start(self) -> FakeRealm {
        let key = if self.hs256 {
            SigningKey::random_hs256()
        } else {
            SigningKey::generate_rs256().with_kid(random_id("jwk_"))
        };
        let (webhooks, deliveries) = Webhooks::start();
        let state: Shared = Arc::new(Mutex::new(RealmState {
            realm_id: self.realm_id.unwrap_or_else(|| random_id("rl_")),
            api_key: random_id("ks_"),
            embed_user: self.embed_user,
            session_ttl: self.session_ttl,
            keys: vec![key],
            users: HashMap::new(),
            sessions: HashMap::new(),
            by_token: HashMap::new(),
            events: Vec::new(),
            denied: HashSet::new(),
            webhooks,
            faults: Faults::default(),
            counts: HashMap::new(),
            last_user_agent: None,
            clock: self.clock,
            accounts: Accounts {
                settings: self.sign_in,
                ..Accounts::default()
            },
            org_ids: HashMap::new(),
        }));
        {
            let mut st = state.lock().expect("fake realm state");
            for user in &self.users {
                st.add_user(user);
            }
        }
        let app = Router::new()
            .route("/connect/jwks", get(api::jwks))
            .route("/v2/sessions/{id}", get(api::session_v2))
            .route("/v2/users/{id}", get(api::user_v2))
            .route("/v2/events/{id}", get(api::event_v2))
            .route("/v1/sessions/{id}", get(api::session_v1))
            .route("/v1/events/{id}", get(api::event_v1))
            .route("/login", get(pages::login_page))
            .route("/logout", get(pages::logout_page))
            .merge(loginrocket::routes())
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
            deliveries,
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
    deliveries: Deliveries,
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
            users: Vec::new(),
            sign_in: SignInSettings::default(),
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
        self.lock().user(email)
    }

    /// Log `email` in (creating the user if needed): a new session and its AuthRocket 2 token.
    pub fn login(&self, email: &str) -> Login {
        self.lock().login_v2(email, |t| t)
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
        self.lock().login_v2(email, customize)
    }

    /// Log `email` in with an AuthRocket 1 token (`uid`, `tk`, `aud` = realm, `m[]`).
    pub fn login_v1(&self, email: &str) -> Login {
        self.lock().login_v1(email)
    }

    /// Revoke a session (an admin logging the user out): the session API answers 404 for it
    /// from now on and a `session.deleted` event goes out. Its JWT stays cryptographically
    /// valid until it expires.
    pub fn revoke(&self, login: &Login) {
        self.revoke_session(&login.session_id);
    }

    /// Revoke a session by its id `kss_…`.
    pub fn revoke_session(&self, session_id: &str) {
        self.lock().end_session(session_id);
    }

    /// Add a user (or replace the one with the same email), as
    /// [`FakeRealmBuilder::user`] does before the start.
    pub fn add_user(&self, user: UserSpec) -> FakeUser {
        self.lock().add_user(&user)
    }

    /// Everything the realm would have sent `email` (reset and verification tokens, MFA
    /// codes, invitation requests), oldest first.
    ///
    /// ```
    /// # async fn run() {
    /// use authrocket_testkit::{FakeRealm, MailKind};
    ///
    /// let realm = FakeRealm::start().await;
    /// realm.user("ann@example.com");
    /// reqwest::Client::new()
    ///     .post(format!("{}/v2/password/forgot", realm.loginrocket_url()))
    ///     .header("content-type", "application/json")
    ///     .body(r#"{"email": "ann@example.com"}"#)
    ///     .send()
    ///     .await
    ///     .unwrap();
    /// let mail = realm.mails("ann@example.com").pop().unwrap();
    /// assert_eq!(mail.kind, MailKind::PasswordReset);
    /// assert!(mail.token.starts_with("tpw:"));
    /// # }
    /// ```
    pub fn mails(&self, email: &str) -> Vec<Mail> {
        self.lock()
            .accounts
            .mails
            .iter()
            .filter(|m| m.to.eq_ignore_ascii_case(email))
            .cloned()
            .collect()
    }

    /// Invite `email`: it may sign up when signup is [`Signup::InvitationOnly`].
    pub fn invite(&self, email: &str) {
        self.lock().accounts.invited.insert(email.to_owned());
    }

    /// Let pages from `origin` (`scheme://host[:port]`) call the LoginRocket browser API.
    pub fn allow_origin(&self, origin: impl Into<String>) {
        self.lock().accounts.settings.origins.push(origin.into());
    }

    /// The user changes their password: every live session of theirs ends, each with a
    /// `session.deleted` event.
    pub fn change_password(&self, email: &str) {
        let mut st = self.lock();
        let user_id = st.user(email).id;
        st.end_sessions_of(&user_id, None);
    }

    /// Delete the user: their sessions end (`session.deleted` each), then `user.deleted`.
    pub fn delete_user(&self, email: &str) {
        self.change_password(email);
        let mut st = self.lock();
        let user = st.user(email);
        st.users.remove(&user.id);
        st.emit("user.deleted", json!({ "user_id": user.id }));
    }

    /// Record and deliver an event of any type, with these extra fields (a JSON object): e.g.
    /// `realm.send_event("membership.updated", json!({"user_id": user.id}))`. Returns its id.
    pub fn send_event(&self, event_type: &str, fields: Value) -> String {
        self.lock().emit(event_type, fields)
    }

    /// Every event recorded so far, oldest first, as `GET /v2/events/{id}` serves them.
    pub fn events(&self) -> Vec<Value> {
        self.lock().events.clone()
    }

    /// Post every event from now on to `url` (a webhook), e.g.
    /// `http://127.0.0.1:8080/authrocket/events`; a secret may ride in the path or as
    /// `http://:secret@host/…` (basic auth). Deliveries go out one at a time, in order.
    ///
    /// ```
    /// # async fn run() {
    /// use authrocket_testkit::FakeRealm;
    ///
    /// let realm = FakeRealm::start().await;
    /// realm.deliver_events_to("http://127.0.0.1:3000/authrocket/events");
    /// let ann = realm.login("ann@example.com");
    /// realm.revoke(&ann); // session.deleted goes out
    /// let deliveries = realm.wait_for_deliveries(1).await;
    /// assert_eq!(deliveries[0].event_type, "session.deleted");
    /// println!("the app answered {:?}", deliveries[0].status);
    /// # }
    /// ```
    pub fn deliver_events_to(&self, url: impl Into<String>) {
        self.lock().webhooks.add_target(url.into());
    }

    /// Inject `fault` into the next event's deliveries (faults queue up, one per event).
    pub fn fail_next_delivery(&self, fault: WebhookFault) {
        self.lock().webhooks.fail_next(fault);
    }

    /// Deliver the deliveries kept by [`WebhookFault::Hold`].
    pub fn release_held(&self) {
        self.lock().webhooks.release_held();
    }

    /// Deliver again every delivery that was not answered 2xx, as AuthRocket retries.
    pub fn redeliver_failed(&self) {
        self.lock().webhooks.redeliver_failed();
    }

    /// Every webhook delivery made so far, in order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries.all()
    }

    /// Wait until `n` webhook deliveries in all have been made and answered (or failed), and
    /// return them. Panics after 10 seconds without them.
    pub async fn wait_for_deliveries(&self, n: usize) -> Vec<Delivery> {
        self.deliveries.wait_for(n).await
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
        self.lock().faults.next(None, times, fault);
    }

    /// Inject `fault` into the next `times` answers of one endpoint (named as in
    /// [`requests`](Self::requests), e.g. `"/v2/sessions"`), leaving the others alone.
    pub fn fail_next_on(&self, endpoint: &str, times: usize, fault: Fault) {
        self.lock().faults.next(Some(endpoint), times, fault);
    }

    /// Inject `fault` into every answer until [`clear_faults`](Self::clear_faults).
    pub fn fail_always(&self, fault: Fault) {
        self.lock().faults.always(None, fault);
    }

    /// Inject `fault` into every answer of one endpoint until
    /// [`clear_faults`](Self::clear_faults).
    pub fn fail_always_on(&self, endpoint: &str, fault: Fault) {
        self.lock().faults.always(Some(endpoint), fault);
    }

    /// Stop injecting faults into answers.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// How many requests reached an endpoint: `"/connect/jwks"`, `"/v2/sessions"`,
    /// `"/v2/users"`, `"/v2/events"`, `"/v1/sessions"`, `"/v1/events"`, `"/login"`,
    /// `"/logout"`.
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

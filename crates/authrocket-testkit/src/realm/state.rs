//! What the realm knows: users, sessions, keys, events; and how sessions start and end.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::accounts::{Accounts, DEMO_PASSWORD, UserSpec};
use super::faults::Faults;
use super::webhooks::Webhooks;
use crate::{ManualClock, SigningKey, TokenBuilder, now, random_id};

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

/// A login made with `FakeRealm::login`: the token the frontend would hold.
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
pub(super) struct StoredSession {
    pub(super) id: String,
    pub(super) token: String,
    pub(super) user_id: String,
    pub(super) created_at: f64,
    pub(super) expires_at: i64,
    pub(super) revoked: bool,
    /// The org selected in LoginRocket (`account`), if any.
    pub(super) account: Option<String>,
}

/// Everything the realm knows, behind one lock.
#[derive(Debug)]
pub(super) struct RealmState {
    pub(super) realm_id: String,
    pub(super) api_key: String,
    pub(super) embed_user: bool,
    pub(super) session_ttl: i64,
    pub(super) keys: Vec<SigningKey>,
    pub(super) users: HashMap<String, FakeUser>,
    pub(super) sessions: HashMap<String, StoredSession>,
    pub(super) by_token: HashMap<String, String>,
    /// Every event, in the order it happened.
    pub(super) events: Vec<Value>,
    /// Events the API denies knowing.
    pub(super) denied: HashSet<String>,
    pub(super) webhooks: Webhooks,
    pub(super) faults: Faults,
    pub(super) counts: HashMap<&'static str, u64>,
    pub(super) last_user_agent: Option<String>,
    pub(super) clock: Option<ManualClock>,
    /// Passwords, MFA, pending tokens, mails and sign-in settings (LoginRocket).
    pub(super) accounts: Accounts,
    /// Org ids by name, for users declared with [`UserSpec`].
    pub(super) org_ids: HashMap<String, String>,
}

/// The realm's state as its handlers share it.
pub(super) type Shared = Arc<Mutex<RealmState>>;

impl RealmState {
    /// Unix seconds on the realm's clock.
    pub(super) fn now(&self) -> i64 {
        self.clock.as_ref().map_or_else(now, ManualClock::now_unix)
    }

    /// The user with this email, created on first use.
    pub(super) fn user(&mut self, email: &str) -> FakeUser {
        if let Some(u) = self.users.values().find(|u| u.email == email) {
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
        self.users.insert(user.id.clone(), user.clone());
        self.accounts
            .passwords
            .insert(user.id.clone(), DEMO_PASSWORD.to_owned());
        user
    }

    /// Add the user `spec` describes (replacing one with the same email).
    pub(super) fn add_user(&mut self, spec: &UserSpec) -> FakeUser {
        let local = spec.email.split('@').next().unwrap_or(&spec.email);
        let first = spec.first_name.clone().unwrap_or_else(|| {
            let mut first = local.to_owned();
            if let Some(c) = first.get_mut(0..1) {
                c.make_ascii_uppercase();
            }
            first
        });
        let last = spec
            .last_name
            .clone()
            .unwrap_or_else(|| "Example".to_owned());
        let orgs = spec
            .orgs
            .iter()
            .map(|(name, permissions)| FakeOrg {
                membership_id: random_id("mb_"),
                org_id: self
                    .org_ids
                    .entry(name.clone())
                    .or_insert_with(|| random_id("org_"))
                    .clone(),
                name: name.clone(),
                permissions: permissions.clone(),
            })
            .collect();
        let id = match self.users.values().find(|u| u.email == spec.email) {
            Some(existing) => existing.id.clone(),
            None => random_id("usr_"),
        };
        let user = FakeUser {
            id: id.clone(),
            email: spec.email.clone(),
            name: format!("{first} {last}"),
            first_name: first,
            last_name: last,
            orgs,
        };
        self.users.insert(id.clone(), user.clone());
        let accounts = &mut self.accounts;
        accounts.passwords.insert(id.clone(), spec.password.clone());
        if spec.mfa {
            accounts.mfa.insert(id.clone());
        }
        if !spec.email_verified {
            accounts.unverified.insert(id);
        }
        user
    }

    /// The user whose email, username (the email here) or id is `login`.
    pub(super) fn find_user(&self, login: &str) -> Option<&FakeUser> {
        let login = login.trim();
        self.users
            .values()
            .find(|u| u.id == login || u.email.eq_ignore_ascii_case(login))
    }

    /// A LoginRocket sign-in of `user_id` into `session` (a new one when `None`) for
    /// `account` (an org id the user belongs to; `None`: none selected): a fresh token whose
    /// `orgs` hold the selected account only, known to the Core API like any other.
    pub(super) fn sign_in(
        &mut self,
        user_id: &str,
        session: Option<&str>,
        account: Option<&str>,
    ) -> Option<(String, String)> {
        let user = self.users.get(user_id)?.clone();
        let now = self.now();
        let (session_id, exp) = match session.and_then(|id| self.find_session(id)) {
            Some(s) => (s.id.clone(), s.expires_at),
            None => (random_id("kss_"), now + self.session_ttl),
        };
        let orgs: Vec<Value> = user
            .orgs
            .iter()
            .filter(|o| Some(o.org_id.as_str()) == account)
            .map(|o| {
                json!({"mid": o.membership_id, "oid": o.org_id, "name": o.name,
                       "perm": o.permissions, "selected": true})
            })
            .collect();
        let token = self
            .v2_claims(&user, &session_id, orgs, now, exp)
            .sign(self.keys.last().expect("a key"));
        if self.sessions.contains_key(&session_id) {
            self.by_token.insert(token.clone(), session_id.clone());
        } else {
            self.remember(user, session_id.clone(), token.clone(), exp);
        }
        if let Some(s) = self.sessions.get_mut(&session_id) {
            s.account = account.map(str::to_owned);
        }
        Some((session_id, token))
    }

    /// End every live session of `user_id` but `keep`.
    pub(super) fn end_sessions_of(&mut self, user_id: &str, keep: Option<&str>) {
        let mut ids: Vec<String> = self
            .sessions
            .values()
            .filter(|s| s.user_id == user_id && Some(s.id.as_str()) != keep)
            .map(|s| s.id.clone())
            .collect();
        ids.sort();
        for id in ids {
            self.end_session(&id);
        }
    }

    /// Log `email` in: a new session and its AuthRocket 2 token.
    pub(super) fn login_v2(
        &mut self,
        email: &str,
        customize: impl FnOnce(TokenBuilder) -> TokenBuilder,
    ) -> Login {
        let (user, session_id, now, exp) = self.open_session(email);
        let orgs: Vec<Value> = user
            .orgs
            .iter()
            .enumerate()
            .map(|(i, o)| {
                json!({"mid": o.membership_id, "oid": o.org_id, "name": o.name,
                       "perm": o.permissions, "selected": i == 0})
            })
            .collect();
        let token = customize(self.v2_claims(&user, &session_id, orgs, now, exp))
            .sign(self.keys.last().expect("a key"));
        self.remember(user, session_id, token, exp)
    }

    /// The claims of an AuthRocket 2 login token of `user` in `session_id` with `orgs`.
    fn v2_claims(
        &self,
        user: &FakeUser,
        session_id: &str,
        orgs: Vec<Value>,
        now: i64,
        exp: i64,
    ) -> TokenBuilder {
        TokenBuilder::v2(&user.id)
            .claim("sid", session_id)
            .claim("rid", self.realm_id.as_str())
            .claim("name", user.name.as_str())
            .claim("given_name", user.first_name.as_str())
            .claim("family_name", user.last_name.as_str())
            .claim("preferred_username", user.email.as_str())
            .claim("email", user.email.as_str())
            .claim(
                "email_verified",
                !self.accounts.unverified.contains(&user.id),
            )
            .claim("orgs", orgs)
            .claim("iat", now)
            .claim("exp", exp)
    }

    /// Log `email` in with an AuthRocket 1 token (`uid`, `tk`, `aud` = realm, `m[]`).
    pub(super) fn login_v1(&mut self, email: &str) -> Login {
        let (user, session_id, now, exp) = self.open_session(email);
        let memberships: Vec<Value> = user
            .orgs
            .iter()
            .map(|o| json!({"oid": o.org_id, "o": o.name, "p": o.permissions}))
            .collect();
        let token = TokenBuilder::v1(&user.id)
            .claim("tk", session_id.as_str())
            .claim("aud", self.realm_id.as_str())
            .claim("n", user.name.as_str())
            .claim("fn", user.first_name.as_str())
            .claim("ln", user.last_name.as_str())
            .claim("un", user.email.as_str())
            .claim("m", memberships)
            .claim("iat", now)
            .claim("exp", exp)
            .sign(self.keys.last().expect("a key"));
        self.remember(user, session_id, token, exp)
    }

    /// A new session for `email`: the user, its id, and when it starts and expires.
    fn open_session(&mut self, email: &str) -> (FakeUser, String, i64, i64) {
        let user = self.user(email);
        let now = self.now();
        (user, random_id("kss_"), now, now + self.session_ttl)
    }

    /// Store a session opened with [`open_session`](Self::open_session) under its token.
    fn remember(&mut self, user: FakeUser, session_id: String, token: String, exp: i64) -> Login {
        let session = StoredSession {
            id: session_id.clone(),
            token: token.clone(),
            user_id: user.id.clone(),
            created_at: self.now() as f64 + 0.25,
            expires_at: exp,
            revoked: false,
            account: None,
        };
        self.sessions.insert(session_id.clone(), session);
        self.by_token.insert(token.clone(), session_id.clone());
        Login {
            token,
            session_id,
            user,
            expires_at: exp,
        }
    }

    /// The live session with this id `kss_…` or token.
    pub(super) fn find_session(&self, id_or_token: &str) -> Option<&StoredSession> {
        let id = if id_or_token.starts_with("kss_") {
            id_or_token
        } else {
            self.by_token.get(id_or_token)?
        };
        let s = self.sessions.get(id)?;
        (!s.revoked && s.expires_at > self.now()).then_some(s)
    }

    /// End a live session before its expiry: the session API forgets it and a
    /// `session.deleted` event goes out. Nothing happens for an unknown or ended session.
    pub(super) fn end_session(&mut self, session_id: &str) {
        let now = self.now();
        let Some(s) = self.sessions.get_mut(session_id) else {
            return;
        };
        if s.revoked || s.expires_at <= now {
            return;
        }
        s.revoked = true;
        let fields = json!({
            "session_id": s.id,
            "user_id": s.user_id,
            "expires_at": s.expires_at,
        });
        self.emit("session.deleted", fields);
    }

    /// Record an event of `event_type` with these extra `fields` and deliver it. Returns its id.
    pub(super) fn emit(&mut self, event_type: &str, fields: Value) -> String {
        let id = random_id("ev_");
        let mut event = json!({
            "object": "event",
            "id": id,
            "event_type": event_type,
            "event_at": self.now(),
            "realm_id": self.realm_id,
        });
        if let (Some(event), Value::Object(fields)) = (event.as_object_mut(), fields) {
            event.extend(fields);
        }
        if self.webhooks.emit(&event) {
            self.denied.insert(id.clone());
        }
        self.events.push(event);
        id
    }

    /// The event with this id, unless the API is to deny knowing it.
    pub(super) fn event(&self, id: &str) -> Option<&Value> {
        if self.denied.contains(id) {
            return None;
        }
        self.events.iter().find(|e| e["id"] == id)
    }
}

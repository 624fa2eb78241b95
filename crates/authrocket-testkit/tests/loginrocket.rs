//! The realm's LoginRocket browser API, over HTTP as AuthRocket's browser client calls it:
//! every call's success and documented failures, and the state it shares with the Core API.

use authrocket_testkit::{FakeRealm, Fault, MailKind, Signup, UserSpec};
use authrocket_verify::{Verifier, VerifyMode};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A client as the browser library is: JSON bodies, query parameters for GET and DELETE.
struct Client {
    http: reqwest::Client,
    base: String,
    language: Option<&'static str>,
}

impl Client {
    fn new(realm: &FakeRealm) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: format!("{}/v2/", realm.loginrocket_url().trim_end_matches('/')),
            language: None,
        }
    }

    fn spanish(mut self) -> Self {
        self.language = Some("es-ES,es;q=0.9");
        self
    }

    /// `(status, body)` of `method call` with `params`.
    async fn call(&self, method: Method, call: &str, params: Value) -> (StatusCode, Value) {
        let mut url = format!("{}{call}", self.base);
        if matches!(method, Method::GET | Method::DELETE) {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in params.as_object().unwrap() {
                query.append_pair(k, v.as_str().unwrap());
            }
            url = format!("{url}?{}", query.finish());
        }
        let mut request = self
            .http
            .request(method.clone(), url)
            .header("LR-Agent", "LoginRocket/js v2.4.0");
        if let Some(language) = self.language {
            request = request.header("Accept-Language", language);
        }
        if !matches!(method, Method::GET | Method::DELETE) {
            request = json_body(request, &params);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        assert!(
            response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .starts_with("rq_"),
            "every answer has a request id"
        );
        (status, body_of(response).await)
    }

    async fn post(&self, call: &str, params: Value) -> (StatusCode, Value) {
        self.call(Method::POST, call, params).await
    }
}

fn json_body(request: reqwest::RequestBuilder, body: &Value) -> reqwest::RequestBuilder {
    request
        .header("content-type", "application/json")
        .body(body.to_string())
}

async fn body_of(response: reqwest::Response) -> Value {
    serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null)
}

async fn realm() -> FakeRealm {
    FakeRealm::builder()
        .user(
            UserSpec::new("ann@example.com")
                .password("ann-password")
                .names("Ann", "Admin")
                .member("Acme", ["ar:admin"]),
        )
        .user(
            UserSpec::new("bob@example.com")
                .password("bob-password")
                .member("Acme", ["forum:read"])
                .mfa(),
        )
        .start()
        .await
}

fn error_of(body: &Value) -> &str {
    assert_eq!(body["result"], "error", "{body}");
    let errors = body["errors"].as_array().unwrap();
    assert!(!errors.is_empty());
    body["error"].as_str().unwrap()
}

#[tokio::test]
async fn login_gives_a_token_every_verification_mode_accepts() {
    let realm = realm().await;
    let lr = Client::new(&realm);
    let (status, body) = lr
        .post(
            "login",
            json!({"email": "ann@example.com", "password": "ann-password"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["result"], "full_login");
    let session = body["session"].as_str().unwrap();
    assert!(session.starts_with("kss_"));
    let ann = realm.user("ann@example.com");
    assert_eq!(body["account"], ann.orgs[0].org_id);
    let token = body["token"].as_str().unwrap();

    for mode in [VerifyMode::Offline, VerifyMode::Online, VerifyMode::Hybrid] {
        let v = Verifier::builder()
            .mode(mode)
            .loginrocket_url(realm.loginrocket_url())
            .authrocket_url(realm.api_url())
            .api_key(realm.api_key())
            .realm(realm.realm_id())
            .build()
            .unwrap();
        let s = v.verify(token).await.unwrap();
        assert_eq!(s.session_id(), Some(session), "{mode:?}");
        assert_eq!(s.user_id(), ann.id);
        assert_eq!(s.user().name, Some("Ann Admin"));
        assert!(s.has_permission("ar:admin"), "{mode:?}");
    }
    // By username (the email here) or by user id too.
    let (_, body) = lr
        .post(
            "login",
            json!({"username": ann.id, "password": "ann-password"}),
        )
        .await;
    assert_eq!(body["result"], "full_login");
}

#[tokio::test]
async fn wrong_credentials_fail_in_the_callers_language() {
    let realm = realm().await;
    for (lr, text) in [
        (Client::new(&realm), "Login failed"),
        (Client::new(&realm).spanish(), "Error al iniciar sesión"),
    ] {
        for params in [
            json!({"email": "ann@example.com", "password": "wrong"}),
            json!({"email": "nobody@example.com", "password": "ann-password"}),
            json!({"email": "ann@example.com"}),
        ] {
            let (status, body) = lr.post("login", params).await;
            assert_eq!(status, StatusCode::CONFLICT);
            assert!(error_of(&body).starts_with(text), "{body}");
        }
    }
    assert_eq!(realm.requests("/v2/login"), 6);
}

#[tokio::test]
async fn mfa_needs_the_code_the_test_kit_hands_out() {
    let realm = realm().await;
    let lr = Client::new(&realm);
    let (_, body) = lr
        .post(
            "login",
            json!({"email": "bob@example.com", "password": "bob-password"}),
        )
        .await;
    assert_eq!(body["result"], "need_mfa");
    let token = body["token"].as_str().unwrap();
    assert!(token.starts_with("tmf:"));
    let mail = realm.mails("bob@example.com").pop().unwrap();
    assert_eq!(mail.kind, MailKind::MfaCode);
    assert_eq!(mail.token.len(), 6);

    let wrong = if mail.token == "000000" {
        "000001"
    } else {
        "000000"
    };
    let (status, body) = lr
        .post("login/verify", json!({"token": token, "code": wrong}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(error_of(&body).contains("code"));
    let (status, body) = lr
        .post(
            "login/verify",
            json!({"token": "tmf:unknown", "code": mail.token}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let (_, body) = lr
        .post("login/verify", json!({"token": token, "code": mail.token}))
        .await;
    assert_eq!(body["result"], "full_login");
    let (status, _) = lr
        .post("login/verify", json!({"token": token, "code": mail.token}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "used once");
}

#[tokio::test]
async fn sessions_pick_accounts_in_a_multi_user_realm() {
    let realm = FakeRealm::builder()
        .user(
            UserSpec::new("cat@example.com")
                .member("Acme", ["ar:admin"])
                .member("Beta", ["billing:read"]),
        )
        .user(UserSpec::new("dan@example.com").member("Beta", ["forum:read"]))
        .multi_user_orgs()
        .start()
        .await;
    let lr = Client::new(&realm);
    let cat = realm.user("cat@example.com");
    let password = authrocket_testkit::DEMO_PASSWORD;
    let (_, body) = lr
        .post(
            "login",
            json!({"email": "cat@example.com", "password": password}),
        )
        .await;
    assert_eq!(body["result"], "conditional_login", "{body}");
    assert_eq!(body["account"], Value::Null);
    assert_eq!(body["conditions"], json!(["no_account_selected"]));
    let session = body["session"].as_str().unwrap().to_owned();

    let (_, body) = lr
        .call(Method::GET, "session", json!({"session": session}))
        .await;
    assert_eq!(body["result"], "conditional_login");
    let beta = &cat.orgs[1].org_id;
    let (_, body) = lr
        .call(
            Method::GET,
            "session",
            json!({"session": session, "account": beta}),
        )
        .await;
    assert_eq!(body["result"], "full_login");
    assert_eq!(&body["account"], beta);
    let v = Verifier::builder()
        .loginrocket_url(realm.loginrocket_url())
        .build()
        .unwrap();
    let s = v.verify(body["token"].as_str().unwrap()).await.unwrap();
    assert_eq!(s.memberships().count(), 1, "the selected account only");
    assert!(s.has_permission("billing:read") && !s.has_permission("ar:admin"));

    // An org the user is not a member of; a user with one org needs no choice.
    let acme_only = &realm.user("dan@example.com").orgs[0].org_id;
    assert_ne!(acme_only, &cat.orgs[0].org_id);
    let (status, _) = lr
        .call(
            Method::GET,
            "session",
            json!({"session": session, "account": "org_not_a_member"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, body) = lr
        .post(
            "login",
            json!({"email": "dan@example.com", "password": password}),
        )
        .await;
    assert_eq!(body["result"], "full_login");
}

#[tokio::test]
async fn logout_ends_the_session_for_the_core_api_and_sends_the_event() {
    let realm = realm().await;
    let lr = Client::new(&realm);
    let (_, body) = lr
        .post(
            "login",
            json!({"email": "ann@example.com", "password": "ann-password"}),
        )
        .await;
    let (session, token) = (body["session"].clone(), body["token"].clone());
    let online = Verifier::builder()
        .mode(VerifyMode::Online)
        .authrocket_url(realm.api_url())
        .api_key(realm.api_key())
        .cache_ttl(std::time::Duration::ZERO)
        .build()
        .unwrap();
    online.verify(token.as_str().unwrap()).await.unwrap();
    // A single-user realm: the session's account is the user's org, no choice to make.
    let (status, body) = lr
        .call(Method::GET, "session", json!({"session": session}))
        .await;
    assert_eq!(
        (status, &body["result"]),
        (StatusCode::OK, &json!("full_login"))
    );
    assert_eq!(
        body["account"],
        realm.user("ann@example.com").orgs[0].org_id
    );
    assert_eq!(body["session"], session);

    let (status, body) = lr
        .call(Method::DELETE, "session", json!({"session": session}))
        .await;
    assert_eq!((status, &body["result"]), (StatusCode::OK, &json!("okay")));
    let err = online.verify(token.as_str().unwrap()).await.unwrap_err();
    assert_eq!(err.code(), "revoked", "the Core API answers 404");
    let event = realm.events().pop().unwrap();
    assert_eq!(event["event_type"], "session.deleted");
    assert_eq!(event["session_id"], session);

    let (status, _) = lr
        .call(Method::GET, "session", json!({"session": session}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an ended session");
    let (status, _) = lr
        .call(Method::DELETE, "session", json!({"session": session}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = lr.call(Method::GET, "session", json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no session");
}

/// Log `email` in with `password`: `(session, token)`.
async fn log_in(lr: &Client, email: &str, password: &str) -> (String, String) {
    let (_, body) = lr
        .post("login", json!({"email": email, "password": password}))
        .await;
    assert_eq!(body["result"], "full_login", "{body}");
    (
        body["session"].as_str().unwrap().to_owned(),
        body["token"].as_str().unwrap().to_owned(),
    )
}

async fn session_is_live(lr: &Client, session: &str) -> bool {
    let (status, _) = lr
        .call(Method::GET, "session", json!({"session": session}))
        .await;
    status == StatusCode::OK
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions() {
    let realm = realm().await;
    let lr = Client::new(&realm);
    let (phone, _) = log_in(&lr, "ann@example.com", "ann-password").await;
    let (laptop, _) = log_in(&lr, "ann@example.com", "ann-password").await;
    let change = |current: &str, new: &str, confirm: &str| {
        json!({"session": laptop, "current_password": current, "password": new,
               "password_confirmation": confirm})
    };
    let (status, body) = lr
        .post(
            "profile/password",
            change("wrong", "new-password", "new-password"),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_of(&body), "Current password does not match");
    let (status, body) = lr
        .post("profile/password", change("ann-password", "short", "other"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"].as_array().unwrap().len(), 2, "{body}");
    let (status, _) = lr
        .post(
            "profile/password",
            json!({"session": "kss_none", "current_password": "ann-password",
                   "password": "new-password"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, body) = lr
        .post(
            "profile/password",
            change("ann-password", "new-password", "new-password"),
        )
        .await;
    assert_eq!((status, &body["result"]), (StatusCode::OK, &json!("okay")));
    assert!(session_is_live(&lr, &laptop).await, "the current one stays");
    assert!(!session_is_live(&lr, &phone).await, "the others end");
    log_in(&lr, "ann@example.com", "new-password").await;
}

#[tokio::test]
async fn a_password_reset_uses_the_mailed_token_and_ends_every_session() {
    let realm = realm().await;
    let lr = Client::new(&realm);
    let (before, _) = log_in(&lr, "ann@example.com", "ann-password").await;
    for email in ["ann@example.com", "nobody@example.com"] {
        let (status, body) = lr.post("password/forgot", json!({"email": email})).await;
        assert_eq!((status, &body["result"]), (StatusCode::OK, &json!("okay")));
    }
    assert!(realm.mails("nobody@example.com").is_empty());
    let mail = realm.mails("ann@example.com").pop().unwrap();
    assert_eq!(mail.kind, MailKind::PasswordReset);
    assert!(mail.token.starts_with("tpw:"));

    let (status, _) = lr
        .post(
            "password/reset",
            json!({"token": "tpw:forged", "password": "reset-password",
                   "password_confirmation": "reset-password"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = lr
        .post(
            "password/reset",
            json!({"token": mail.token, "password": "reset-password",
                   "password_confirmation": "different-password"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, body) = lr
        .post(
            "password/reset",
            json!({"token": mail.token, "password": "reset-password",
                   "password_confirmation": "reset-password"}),
        )
        .await;
    assert_eq!(body["result"], "full_login");
    assert!(!session_is_live(&lr, &before).await);
    log_in(&lr, "ann@example.com", "reset-password").await;
}

#[tokio::test]
async fn a_profile_update_gives_a_fresh_token_for_the_same_session() {
    let realm = realm().await;
    let lr = Client::new(&realm);
    let (session, old) = log_in(&lr, "ann@example.com", "ann-password").await;
    let (status, body) = lr
        .call(
            Method::PUT,
            "profile",
            json!({"session": session, "first_name": "Annie", "last_name": "Admin"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["result"], "full_login");
    assert_eq!(body["session"], session);
    let token = body["token"].as_str().unwrap();
    assert_ne!(token, old);
    let hybrid = Verifier::builder()
        .mode(VerifyMode::Hybrid)
        .loginrocket_url(realm.loginrocket_url())
        .authrocket_url(realm.api_url())
        .api_key(realm.api_key())
        .build()
        .unwrap();
    let s = hybrid.verify(token).await.unwrap();
    assert_eq!(s.user().name, Some("Annie Admin"));
    assert_eq!(s.session_id(), Some(session.as_str()));

    let (status, body) = lr
        .call(
            Method::PUT,
            "profile",
            json!({"session": session, "email": "bob@example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_of(&body), "Email has already been taken");
    let (status, _) = lr
        .call(Method::PUT, "profile", json!({"session": "kss_none"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn signup_open_or_by_invitation_with_the_fields_the_realm_requires() {
    let realm = FakeRealm::builder()
        .signup(Signup::InvitationOnly)
        .require_names()
        .require_org_name()
        .start()
        .await;
    let lr = Client::new(&realm);
    let new_user = json!({"email": "eve@example.com", "password": "eve-password",
                          "first_name": "Eve", "last_name": "New", "org_name": "Eve Co"});
    let (status, body) = lr.post("signup", new_user.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_of(&body), "Signup is by invitation only");
    let (status, body) = lr
        .post("signup/request", json!({"email": "eve@example.com"}))
        .await;
    assert_eq!((status, &body["result"]), (StatusCode::OK, &json!("okay")));
    assert_eq!(
        realm.mails("eve@example.com")[0].kind,
        MailKind::InvitationRequest
    );

    realm.invite("eve@example.com");
    let (status, body) = Client::new(&realm)
        .spanish()
        .post(
            "signup",
            json!({"email": "eve@example.com", "password": "eve-password"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 3, "names and org name: {body}");
    assert!(error_of(&body).contains("no puede estar en blanco"));

    let (_, body) = lr.post("signup", new_user.clone()).await;
    assert_eq!(body["result"], "full_login", "{body}");
    let eve = realm.user("eve@example.com");
    assert_eq!(eve.orgs[0].name, "Eve Co");
    assert_eq!(body["account"], eve.orgs[0].org_id);
    let (status, body) = lr.post("signup", new_user).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_of(&body), "Email has already been taken");

    let mail = realm.mails("eve@example.com").pop().unwrap();
    assert_eq!(mail.kind, MailKind::EmailVerification);
    assert!(mail.token.starts_with("tve:"));
    let (status, _) = lr
        .post("email/verify", json!({"token": "tve:forged"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, body) = lr.post("email/verify", json!({"token": mail.token})).await;
    assert_eq!(body["result"], "okay");
}

#[tokio::test]
async fn form_bodies_cors_and_rate_limits() {
    let realm = realm().await;
    realm.allow_origin("http://app.test:8080");
    let http = reqwest::Client::new();
    let url = format!("{}/v2/login", realm.loginrocket_url().trim_end_matches('/'));

    // A form body, as the docs allow.
    let response = http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=ann%40example.com&password=ann-password")
        .header("Origin", "http://app.test:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "http://app.test:8080"
    );
    assert_eq!(body_of(response).await["result"], "full_login");

    // The preflight: the configured origin only.
    let preflight = |origin: &'static str| {
        http.request(Method::OPTIONS, &url)
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type, lr-agent")
            .send()
    };
    let ok = preflight("http://app.test:8080").await.unwrap();
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    let allowed = ok.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap();
    assert!(allowed.contains("lr-agent") && allowed.contains("accept-language"));
    assert!(
        ok.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("DELETE")
    );
    let refused = preflight("http://evil.test").await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    // Malformed JSON is an error, not a crash; the rate-limit knob answers 429.
    let bad = http
        .post(&url)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    realm.fail_next_on("/v2/login", 1, Fault::RateLimited { retry_after: 2 });
    let limited = json_body(
        http.post(&url),
        &json!({"email": "ann@example.com", "password": "ann-password"}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()["retry-after"], "2");
    assert!(limited.headers().contains_key("x-request-id"));
}

#[tokio::test]
async fn an_hs256_realm_signs_loginrocket_tokens_with_its_key() {
    let realm = FakeRealm::builder()
        .hs256()
        .user(UserSpec::new("ann@example.com").member("Acme", ["ar:admin"]))
        .start()
        .await;
    let lr = Client::new(&realm);
    let (session, token) = log_in(&lr, "ann@example.com", authrocket_testkit::DEMO_PASSWORD).await;
    let v = Verifier::builder()
        .jwt_key(realm.jwt_key())
        .realm(realm.realm_id())
        .build()
        .unwrap();
    let s = v.verify(&token).await.unwrap();
    assert_eq!(s.session_id(), Some(session.as_str()));
    assert!(s.has_permission("ar:admin"));
}

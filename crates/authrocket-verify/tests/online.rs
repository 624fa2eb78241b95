//! Online and hybrid verification against the testkit's fake realm over real HTTP on
//! 127.0.0.1 — no mocking of `reqwest`.

use std::time::Duration;

use authrocket_testkit::{FakeRealm, Fault, Login, ManualClock, SigningKey, TokenBuilder, bad};
use authrocket_verify::{Generation, Verifier, VerifierBuilder, VerifyMode};
use serde_json::{Value, json};

fn online(realm: &FakeRealm) -> VerifierBuilder {
    Verifier::builder()
        .mode(VerifyMode::Online)
        .authrocket_url(realm.api_url())
        .api_key(realm.api_key())
        .realm(realm.realm_id())
}

fn hybrid(realm: &FakeRealm) -> VerifierBuilder {
    Verifier::builder()
        .mode(VerifyMode::Hybrid)
        .loginrocket_url(realm.loginrocket_url())
        .authrocket_url(realm.api_url())
        .api_key(realm.api_key())
        .realm(realm.realm_id())
}

#[tokio::test]
async fn v2_happy_path_with_embedded_user() {
    let realm = FakeRealm::start().await;
    let v = online(&realm).build().unwrap();
    assert_eq!(v.mode(), VerifyMode::Online);
    let frank = realm.login("frank@example.com");
    let s = v.verify(&frank.token).await.unwrap();
    assert_eq!(s.generation(), Generation::V2);
    assert_eq!(s.user_id(), frank.user.id);
    assert_eq!(s.user().email, Some("frank@example.com"));
    assert_eq!(s.user().name, Some("Frank Example"));
    assert_eq!(s.user().first_name, Some("Frank"));
    assert_eq!(s.session_id(), Some(frank.session_id.as_str()));
    assert_eq!(s.realm_id(), Some(realm.realm_id().as_str()));
    assert_eq!(s.expires_at(), Some(frank.expires_at));
    assert!(s.issued_at().is_some(), "fractional created_at is accepted");
    let m = s.current_membership().unwrap();
    assert_eq!(m.org.name, Some("Example Corp"));
    assert!(s.has_permission("ar:admin"));
    assert_eq!(realm.requests("/v2/sessions"), 1);
    assert_eq!(realm.requests("/v2/users"), 0, "the user was embedded");
    assert_eq!(
        realm.requests("/connect/jwks"),
        0,
        "online mode uses no keys"
    );
    let ua = realm.last_user_agent().unwrap();
    assert!(
        ua.starts_with(&format!("authrocket-verify/{}", env!("CARGO_PKG_VERSION"))),
        "{ua}"
    );
    // Cached: no second call.
    v.verify(&frank.token).await.unwrap();
    assert_eq!(realm.requests("/v2/sessions"), 1);
    assert_eq!(v.cache_stats().hits, 1);
}

#[tokio::test]
async fn v2_fetches_the_user_when_not_embedded() {
    let realm = FakeRealm::builder().embed_user(false).start().await;
    let v = online(&realm).build().unwrap();
    let frank = realm.login("frank@example.com");
    let s = v.verify(&frank.token).await.unwrap();
    assert_eq!(s.user().email, Some("frank@example.com"));
    assert_eq!(s.memberships().len(), 1);
    assert_eq!(realm.requests("/v2/sessions"), 1);
    assert_eq!(realm.requests("/v2/users"), 1);
    // The user is cached alongside the session.
    v.verify(&frank.token).await.unwrap();
    assert_eq!(realm.requests("/v2/users"), 1);
}

#[tokio::test]
async fn v1_happy_path() {
    let realm = FakeRealm::start().await;
    let v = Verifier::builder()
        .authrocket_url(realm.api_url_v1())
        .api_key(realm.api_key())
        .realm(realm.realm_id())
        .account("org_account")
        .build()
        .unwrap();
    assert_eq!(
        v.mode(),
        VerifyMode::Online,
        "online is the default with only the session API set"
    );
    let vera = realm.login_v1("vera@example.com");
    let s = v.verify(&vera.token).await.unwrap();
    assert_eq!(s.generation(), Generation::V1);
    assert_eq!(s.user_id(), vera.user.id);
    assert_eq!(s.user().name, Some("Vera Example"));
    assert_eq!(realm.requests("/v1/sessions"), 1);
}

#[tokio::test]
async fn the_fake_checks_credentials_like_the_real_api() {
    let realm = FakeRealm::start().await;
    let token = realm.login("frank@example.com").token;
    let wrong_key = Verifier::builder()
        .mode(VerifyMode::Online)
        .authrocket_url(realm.api_url())
        .api_key("ks_wrong")
        .build()
        .unwrap();
    let err = wrong_key.verify(&token).await.unwrap_err();
    assert_eq!(err.code(), "api_credentials");
    assert!(
        err.is_unavailable(),
        "our credentials are not the user's fault: 503, not 401"
    );
    let wrong_realm = online(&realm).realm("rl_other").build().unwrap();
    assert_eq!(
        wrong_realm.verify(&token).await.unwrap_err().code(),
        "api_credentials"
    );
}

/// Each fault maps to the right error, is not cached, and once it clears the same token
/// verifies at once.
#[tokio::test]
async fn failure_matrix() {
    let realm = FakeRealm::start().await;
    let token = realm.login("frank@example.com").token;
    let cases: Vec<(Fault, &str, Option<u64>)> = vec![
        (Fault::Status(403), "api_credentials", None),
        (Fault::Status(401), "api_credentials", None),
        (Fault::Status(402), "api_credentials", None),
        (
            Fault::RateLimited { retry_after: 7 },
            "unavailable",
            Some(7),
        ),
        (Fault::Status(500), "unavailable", None),
        (Fault::Status(502), "unavailable", None),
        (Fault::Status(503), "unavailable", None),
        (Fault::Status(400), "unavailable", None),
        (Fault::Latency(Duration::from_secs(2)), "unavailable", None),
        (Fault::TruncatedJson, "unavailable", None),
        (Fault::OversizedBody, "unavailable", None),
        (
            Fault::Redirect("http://evil.example/".into()),
            "unavailable",
            None,
        ),
        (
            Fault::Redirect("/v2/sessions/elsewhere".into()),
            "unavailable",
            None,
        ),
        (Fault::DropConnection, "unavailable", None),
        (Fault::WrongSession, "unavailable", None),
    ];
    for (fault, code, retry) in cases {
        // A fresh verifier per fault, so nothing good is cached yet.
        let clock = ManualClock::new();
        let v = online(&realm)
            .api_timeout(Duration::from_millis(500))
            .clock(clock.clone())
            .build()
            .unwrap();
        // A connection dropped before any answer is retried once: drop both.
        let times = if fault == Fault::DropConnection { 2 } else { 1 };
        realm.fail_next(times, fault.clone());
        let err = v.verify(&token).await.unwrap_err();
        assert_eq!(err.code(), code, "{fault:?}");
        assert!(err.is_unavailable(), "{fault:?} must be a 503");
        assert_eq!(
            err.retry_after(),
            retry.map(Duration::from_secs),
            "{fault:?}"
        );
        // The fault has cleared: the same token verifies with the same verifier (once a
        // Retry-After has passed: until then nobody calls the API).
        clock.advance(retry.map_or(Duration::ZERO, Duration::from_secs));
        let s = v
            .verify(&token)
            .await
            .unwrap_or_else(|e| panic!("after {fault:?}: {e:?}"));
        assert!(!s.user_id().is_empty());
    }
}

#[tokio::test]
async fn every_fault_is_seen_by_a_cold_verifier_and_never_cached() {
    let realm = FakeRealm::start().await;
    let token = realm.login("frank@example.com").token;
    for fault in [
        Fault::Status(500),
        Fault::RateLimited { retry_after: 1 },
        Fault::DropConnection,
    ] {
        let clock = ManualClock::new();
        let v = online(&realm).clock(clock.clone()).build().unwrap();
        let before = realm.requests("/v2/sessions");
        let times = if fault == Fault::DropConnection { 2 } else { 1 };
        realm.fail_next(times, fault.clone());
        let err = v.verify(&token).await.unwrap_err();
        assert!(err.is_unavailable());
        // A Retry-After holds every caller until it has passed.
        clock.advance(err.retry_after().unwrap_or_default());
        assert!(v.verify(&token).await.is_ok(), "{fault:?} was not cached");
        assert_eq!(realm.requests("/v2/sessions"), before + times as u64 + 1);
        assert_eq!(v.cache_stats().hits, 0);
    }
}

#[tokio::test]
async fn revoked_sessions_are_rejected_within_the_ttl_never_later() {
    let clock = ManualClock::new();
    let realm = FakeRealm::builder().clock(clock.clone()).start().await;
    let ttl = Duration::from_secs(10);
    let v = online(&realm)
        .cache_ttl(ttl)
        .negative_cache_ttl(Duration::ZERO)
        .clock(clock.clone())
        .build()
        .unwrap();
    let frank = realm.login("frank@example.com");
    v.verify(&frank.token).await.unwrap();
    realm.revoke(&frank);
    // Inside the (jittered, 80–100 %) TTL the cached answer may stand; past it, never.
    let mut seen_after = None;
    for step in 1..=20 {
        clock.advance(Duration::from_millis(500));
        if let Err(e) = v.verify(&frank.token).await {
            assert_eq!(e.code(), "revoked");
            seen_after = Some(Duration::from_millis(500) * step);
            break;
        }
    }
    let after = seen_after.expect("the logout became visible");
    assert!(
        (ttl * 8 / 10..=ttl).contains(&after),
        "seen after {after:?}, TTL {ttl:?}"
    );
    // And stays rejected.
    assert_eq!(v.verify(&frank.token).await.unwrap_err().code(), "revoked");
}

#[tokio::test]
async fn not_found_is_remembered_for_the_negative_ttl_only() {
    let clock = ManualClock::new();
    let realm = FakeRealm::builder().clock(clock.clone()).start().await;
    let frank = realm.login("frank@example.com");
    realm.revoke(&frank);
    let v = online(&realm)
        .negative_cache_ttl(Duration::from_secs(10))
        .clock(clock.clone())
        .build()
        .unwrap();
    for _ in 0..5 {
        assert_eq!(v.verify(&frank.token).await.unwrap_err().code(), "revoked");
    }
    assert_eq!(realm.requests("/v2/sessions"), 1);
    clock.advance(Duration::from_secs(10));
    assert_eq!(v.verify(&frank.token).await.unwrap_err().code(), "revoked");
    assert_eq!(realm.requests("/v2/sessions"), 2);

    let no_negative = online(&realm)
        .negative_cache_ttl(Duration::ZERO)
        .build()
        .unwrap();
    for _ in 0..3 {
        assert_eq!(
            no_negative.verify(&frank.token).await.unwrap_err().code(),
            "revoked"
        );
    }
    assert_eq!(realm.requests("/v2/sessions"), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_verifications_make_one_api_call() {
    let realm = FakeRealm::start().await;
    let v = online(&realm).build().unwrap();
    let frank = realm.login("frank@example.com");
    // Slow the API down so all 200 are in flight together.
    realm.fail_next(1, Fault::Latency(Duration::from_millis(300)));
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let v = v.clone();
            let token = frank.token.clone();
            tokio::spawn(async move { v.verify(&token).await.map(|s| s.user_id().to_owned()) })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), frank.user.id);
    }
    assert_eq!(realm.requests("/v2/sessions"), 1, "single-flight");
}

#[tokio::test]
async fn hybrid_sends_only_genuine_tokens_to_the_api() {
    let realm = FakeRealm::start().await;
    let v = hybrid(&realm).build().unwrap();
    let key = realm.signing_key();
    let forged = [
        bad::expired(&key),
        bad::foreign_issuer(&key),
        bad::foreign_realm(&key),
        bad::tampered_signature(&key),
        bad::wrong_key(&key),
        bad::alg_none(),
        TokenBuilder::v2("usr_x").sign(&SigningKey::hs256("jsk_guess")),
    ];
    for token in &forged {
        let err = v.verify(token).await.unwrap_err();
        assert!(!err.is_unavailable(), "{err:?}");
    }
    assert_eq!(
        realm.requests("/v2/sessions"),
        0,
        "forgeries never reach the API"
    );

    // A genuine token is confirmed online, and a revocation is seen.
    let frank = realm.login("frank@example.com");
    let s = v.verify(&frank.token).await.unwrap();
    assert_eq!(s.user_id(), frank.user.id);
    assert_eq!(
        s.user().email,
        Some("frank@example.com"),
        "identity from the verified JWT"
    );
    assert_eq!(realm.requests("/v2/sessions"), 1);
    assert_eq!(realm.requests("/v2/users"), 0, "hybrid needs no user fetch");

    let v2 = hybrid(&realm).build().unwrap();
    realm.revoke(&frank);
    assert_eq!(v2.verify(&frank.token).await.unwrap_err().code(), "revoked");
}

#[tokio::test]
async fn hybrid_with_a_static_hs256_key() {
    let realm = FakeRealm::builder().hs256().start().await;
    let v = Verifier::builder()
        .mode(VerifyMode::Hybrid)
        .jwt_key(realm.jwt_key())
        .authrocket_url(realm.api_url())
        .api_key(realm.api_key())
        .realm(realm.realm_id())
        .build()
        .unwrap();
    let frank = realm.login("frank@example.com");
    assert!(v.verify(&frank.token).await.is_ok());
    realm.fail_next(1, Fault::Status(503));
    let fresh = realm.login("frank@example.com");
    let err = v.verify(&fresh.token).await.unwrap_err();
    assert!(
        err.is_unavailable(),
        "the API being down is a 503 in hybrid mode too"
    );
}

#[tokio::test]
async fn from_env_with_the_realm_settings_builds_a_hybrid_verifier() {
    let realm = FakeRealm::start().await;
    let v = VerifierBuilder::from_env_with(|k| match k {
        "AUTHROCKET_VERIFY_MODE" => Some("hybrid".into()),
        _ => realm.env_var(k),
    })
    .unwrap()
    .build()
    .unwrap();
    assert_eq!(v.mode(), VerifyMode::Hybrid);
    assert!(v.verify(&realm.login("a@example.com").token).await.is_ok());
}

#[tokio::test]
async fn cached_entries_never_outlive_the_token() {
    let clock = ManualClock::new();
    let realm = FakeRealm::builder()
        .session_ttl(Duration::from_secs(2))
        .clock(clock.clone())
        .start()
        .await;
    let v = online(&realm)
        .cache_ttl(Duration::from_secs(300))
        .clock(clock.clone())
        .build()
        .unwrap();
    let frank = realm.login("frank@example.com");
    assert!(v.verify(&frank.token).await.is_ok());
    clock.advance(Duration::from_secs(2));
    let err = v.verify(&frank.token).await.unwrap_err();
    assert!(matches!(err.code(), "revoked" | "expired"), "{err:?}");
    assert_eq!(
        realm.requests("/v2/sessions"),
        2,
        "the expired entry was not served"
    );

    // Offline too: a short-lived token cached for 300 s stops verifying at its exp (+leeway 0).
    let key = SigningKey::hs256("jsk_short");
    let off = Verifier::builder()
        .jwt_key("jsk_short")
        .leeway(Duration::ZERO)
        .clock(clock.clone())
        .build()
        .unwrap();
    let token = TokenBuilder::v2("usr_short")
        .claim("iat", clock.now_unix())
        .claim("exp", clock.now_unix() + 2)
        .sign(&key);
    // Stored on its second sight, then a hit.
    for _ in 0..3 {
        assert!(off.verify(&token).await.is_ok());
    }
    assert_eq!(off.cache_stats().hits, 1);
    clock.advance(Duration::from_secs(3));
    assert_eq!(off.verify(&token).await.unwrap_err().code(), "expired");
}

#[tokio::test]
async fn capacity_bound_holds_under_100k_distinct_tokens() {
    let key = SigningKey::hs256("jsk_capacity");
    let v = Verifier::builder()
        .jwt_key("jsk_capacity")
        .cache_capacity(1_000)
        .build()
        .unwrap();
    let base = TokenBuilder::v2("usr_cap");
    // Each token twice: an offline session is stored on its second sight.
    for i in 0..100_000u32 {
        let token = base.clone().claim("seq", i).sign(&key);
        v.verify(&token).await.unwrap();
        v.verify(&token).await.unwrap();
    }
    let stats = v.cache_stats();
    assert!(stats.entries <= 1_000, "{stats:?}");
    assert!(stats.entries > 0);
    assert_eq!(stats.misses, 200_000);
}

#[tokio::test]
async fn online_configuration_errors_name_the_variable() {
    let e = Verifier::builder()
        .authrocket_url("https://api-e2.authrocket.com/v2")
        .build()
        .unwrap_err();
    assert_eq!(e.variable(), Some("AUTHROCKET_API_KEY"));
    let e = Verifier::builder()
        .authrocket_url("https://api-e2.authrocket.com/")
        .api_key("ks_x")
        .build()
        .unwrap_err();
    assert_eq!(e.variable(), Some("AUTHROCKET_URL"));
    assert!(e.to_string().contains("/v2"));
    let e = Verifier::builder()
        .mode(VerifyMode::Hybrid)
        .jwt_key("jsk_x")
        .build()
        .unwrap_err();
    assert_eq!(e.code(), "mode_prerequisite");
    assert!(e.to_string().contains("AUTHROCKET_URL"), "{e}");
    let e = Verifier::builder()
        .mode(VerifyMode::Hybrid)
        .authrocket_url("https://api-e2.authrocket.com/v2")
        .api_key("ks_x")
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("LOGINROCKET_URL"), "{e}");
    let e = Verifier::builder()
        .mode(VerifyMode::Online)
        .jwt_key("jsk_x")
        .build()
        .unwrap_err();
    assert_eq!(e.variable(), Some("AUTHROCKET_VERIFY_MODE"));
}

#[tokio::test]
async fn hybrid_takes_the_session_id_from_the_api_when_the_token_has_none() {
    let realm = FakeRealm::start().await;
    let v = hybrid(&realm).build().unwrap();
    let ann = realm.login_with("ann@example.com", |t| t.without("sid"));
    let s = v.verify(&ann.token).await.unwrap();
    assert_eq!(s.session_id(), Some(ann.session_id.as_str()));
    assert_eq!(s.user_id(), ann.user.id);
    assert_eq!(
        s.user().email,
        Some("ann@example.com"),
        "identity from the JWT"
    );
    assert_eq!(realm.requests("/v2/sessions"), 1);

    // Logged out: the API's 404 still wins over the valid signature.
    let bob = realm.login_with("bob@example.com", |t| t.without("sid"));
    realm.revoke(&bob);
    assert_eq!(v.verify(&bob.token).await.unwrap_err().code(), "revoked");
}

#[tokio::test]
async fn a_connection_dropped_before_the_answer_is_retried_once() {
    let realm = FakeRealm::start().await;
    let v = online(&realm).build().unwrap();
    let frank = realm.login("frank@example.com");
    realm.fail_next_on("/v2/sessions", 1, Fault::DropConnection);
    assert_eq!(
        v.verify(&frank.token).await.unwrap().user_id(),
        frank.user.id
    );
    assert_eq!(realm.requests("/v2/sessions"), 2);
}

// What a session-API answer must say before it confirms a token: it must be about this
// token, and in hybrid mode about the session and the user the token's verified claims name.

/// The session object AuthRocket answers for `login`, as the fake realm builds it.
fn session_of(login: &Login) -> Value {
    json!({
        "object": "session",
        "id": login.session_id,
        "user_id": login.user.id,
        "created_at": 1_735_689_600.5,
        "expires_at": login.expires_at,
        "token": login.token,
    })
}

fn without(mut v: Value, field: &str) -> Value {
    v.as_object_mut().unwrap().remove(field);
    v
}

fn with(mut v: Value, field: &str, value: Value) -> Value {
    v[field] = value;
    v
}

#[tokio::test]
async fn hybrid_confirmation_must_be_about_this_token_session_and_user() {
    let realm = FakeRealm::start().await;
    let frank = realm.login("frank@example.com");
    let own = session_of(&frank);
    // What a genuine answer looks like passes (with and without the token echoed back).
    for body in [own.clone(), without(own.clone(), "token")] {
        let v = hybrid(&realm).build().unwrap();
        realm.fail_next_on("/v2/sessions", 1, Fault::Respond { status: 200, body });
        let s = v.verify(&frank.token).await.unwrap();
        assert_eq!(s.user_id(), frank.user.id);
    }
    let cases = [
        (
            "another user",
            with(own.clone(), "user_id", json!("usr_someone_else")),
        ),
        ("no user id", without(own.clone(), "user_id")),
        ("no session id", without(own.clone(), "id")),
        (
            "bare object with only the user",
            json!({"object": "session", "user_id": frank.user.id}),
        ),
        (
            "another session",
            with(own.clone(), "id", json!("kss_other")),
        ),
        ("another token", with(own.clone(), "token", json!("a.b.c"))),
        (
            "an array filled by position",
            json!(["session", frank.session_id, frank.user.id]),
        ),
    ];
    for (what, body) in cases {
        let v = hybrid(&realm).build().unwrap();
        realm.fail_next_on("/v2/sessions", 1, Fault::Respond { status: 200, body });
        let err = v.verify(&frank.token).await.expect_err(what);
        assert!(err.is_unavailable(), "{what}: {err:?}");
        assert_eq!(err.code(), "unavailable", "{what}");
    }
}

#[tokio::test]
async fn session_api_org_data_lands_where_the_sdks_put_it() {
    let realm = FakeRealm::start().await;
    let v = Verifier::builder()
        .mode(VerifyMode::Online)
        .authrocket_url(realm.api_url())
        .api_key(realm.api_key())
        .build()
        .unwrap();
    let frank = realm.login("frank@example.com");
    let body = with(
        session_of(&frank),
        "user",
        json!({
            "object": "user", "id": frank.user.id, "name": "Frank",
            "memberships": [{
                "id": "mb_1", "org_id": "org_1", "permissions": ["ar:admin"],
                "custom": {"seat": 7},
                "org": {"id": "org_1", "name": "Acme", "reference": "acme-1", "custom": {"plan": "gold"}}
            }]
        }),
    );
    realm.fail_next_on("/v2/sessions", 1, Fault::Respond { status: 200, body });
    let s = v.verify(&frank.token).await.unwrap();
    let m = s.current_membership().unwrap();
    assert_eq!(m.id, Some("mb_1"));
    assert_eq!(m.custom, Some(&json!({"seat": 7})));
    assert_eq!(m.org.id, Some("org_1"));
    assert_eq!(m.org.name, Some("Acme"));
    assert_eq!(m.org.reference, Some("acme-1"));
    assert_eq!(m.org.custom, Some(&json!({"plan": "gold"})));
}

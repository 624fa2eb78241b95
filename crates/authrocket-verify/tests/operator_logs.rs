//! What operators are told goes to the logs: an upstream inconsistency once per cause, a
//! configuration hint with the rejection — never with the token. These tests share one
//! process-wide subscriber (scoped ones race with parallel tests), so each looks for
//! messages only it causes.

use authrocket_testkit::capture_logs as logs;
use authrocket_testkit::{FakeRealm, Fault, SigningKey, TokenBuilder};
use authrocket_verify::{Verifier, VerifyMode};
use serde_json::json;

#[tokio::test]
async fn a_foreign_aud_is_logged_with_the_hint_the_client_is_not_given() {
    let captured = logs();
    let key = SigningKey::hs256("jsk_hint");
    let v = Verifier::builder()
        .jwt_key("jsk_hint")
        .issuer("")
        .build()
        .unwrap();
    let token = TokenBuilder::v1("usr_hint")
        .claim("aud", "rl_hinted")
        .sign(&key);
    let err = v.verify(&token).await.unwrap_err();
    assert!(!err.to_string().contains("AUTHROCKET_REALM"));
    let text = captured.text();
    let line = text
        .lines()
        .find(|l| l.contains("set AUTHROCKET_REALM"))
        .unwrap_or_else(|| panic!("no hint in:\n{text}"));
    assert!(
        line.contains("wrong_realm") && !line.contains(&token),
        "{line}"
    );
}

#[tokio::test]
async fn each_inconsistency_is_logged_once() {
    let captured = logs();
    let realm = FakeRealm::start().await;
    let v = Verifier::builder()
        .mode(VerifyMode::Hybrid)
        .loginrocket_url(realm.loginrocket_url())
        .authrocket_url(realm.api_url())
        .api_key(realm.api_key())
        .cache_ttl(std::time::Duration::ZERO)
        .build()
        .unwrap();
    let frank = realm.login("frank@example.com");
    let answer = |user_id: &str, id: Option<&str>| Fault::Respond {
        status: 200,
        body: json!({"object": "session", "id": id, "user_id": user_id,
                     "expires_at": frank.expires_at, "token": frank.token}),
    };
    for _ in 0..3 {
        realm.fail_next_on(
            "/v2/sessions",
            1,
            answer("usr_someone_else", Some(&frank.session_id)),
        );
        assert!(v.verify(&frank.token).await.unwrap_err().is_unavailable());
    }
    realm.fail_next_on("/v2/sessions", 1, answer(&frank.user.id, None));
    assert!(v.verify(&frank.token).await.unwrap_err().is_unavailable());

    let logs = captured.text();
    // Each rejection is logged at debug; the inconsistency itself is a warning, once.
    let warnings = |reason: &str| {
        logs.lines()
            .filter(|l| l.contains(" WARN ") && l.contains(reason))
            .count()
    };
    assert_eq!(warnings("answered about another user"), 1, "{logs}");
    assert_eq!(warnings("answered without a session id"), 1, "{logs}");
    assert!(!logs.contains(&frank.token), "the token is never logged");
}

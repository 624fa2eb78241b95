//! An upstream inconsistency is logged once per cause, never with the token. Alone in its
//! test binary: it installs the process-wide subscriber, so no other test's logs mix in.

use authrocket_testkit::{FakeRealm, Fault};
use authrocket_verify::{Mode, Verifier};
use serde_json::json;

mod common;
use common::Captured;

#[tokio::test]
async fn each_inconsistency_is_logged_once() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let realm = FakeRealm::start().await;
    let v = Verifier::builder()
        .mode(Mode::Hybrid)
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
    assert_eq!(
        logs.matches("answered about another user").count(),
        1,
        "{logs}"
    );
    assert_eq!(
        logs.matches("answered without a session id").count(),
        1,
        "{logs}"
    );
    assert!(!logs.contains(&frank.token), "the token is never logged");
}

//! With everything logged at TRACE — ours, reqwest's, hyper's, through `tracing` and `log` —
//! no token and no API key appears, whatever the session API does.

use std::time::Duration;

use authrocket_testkit::{FakeRealm, Fault};
use authrocket_verify::{Verifier, VerifyMode};

#[tokio::test]
async fn trace_logs_hold_no_token_and_no_api_key() {
    let logs = authrocket_testkit::capture_logs();
    let realm = FakeRealm::builder().embed_user(false).start().await;
    let api_key = realm.api_key();
    let build = |mode| {
        Verifier::builder()
            .mode(mode)
            .loginrocket_url(realm.loginrocket_url())
            .authrocket_url(realm.api_url())
            .api_key(api_key.clone())
            .realm(realm.realm_id())
            .api_timeout(Duration::from_millis(300))
            .build()
            .unwrap()
    };
    let mut tokens = Vec::new();
    let faults = [
        None,
        Some(Fault::Status(404)),
        Some(Fault::Status(403)),
        Some(Fault::Status(500)),
        Some(Fault::RateLimited { retry_after: 3 }),
        Some(Fault::Redirect("http://127.0.0.1:9/elsewhere".into())),
        Some(Fault::DropConnection),
        Some(Fault::TruncatedJson),
        Some(Fault::WrongSession),
        Some(Fault::Latency(Duration::from_secs(1))),
    ];
    let mut debug_texts = Vec::new();
    for mode in [VerifyMode::Online, VerifyMode::Hybrid] {
        for fault in &faults {
            let v = build(mode);
            let login = realm.login("frank@example.com");
            if let Some(f) = fault {
                realm.fail_next(1, f.clone());
            }
            let result = v.verify(&login.token).await;
            debug_texts.push(format!("{result:?} {v:?}"));
            if let Err(e) = &result {
                debug_texts.push(format!("{e}"));
            }
            tokens.push(login.token);
        }
    }
    // Revoked and user-fetch paths.
    let v = build(VerifyMode::Online);
    let gone = realm.login("gone@example.com");
    realm.revoke(&gone);
    debug_texts.push(format!("{:?}", v.verify(&gone.token).await));
    tokens.push(gone.token);

    let text = logs.text() + &debug_texts.join("\n");
    assert!(
        text.contains("authrocket.verify"),
        "our spans were captured"
    );
    assert!(
        text.contains("reqwest") || text.contains("hyper"),
        "HTTP-client logs were captured too"
    );
    assert!(text.contains("session API rejected this server's credentials"));
    assert!(!text.contains(&api_key), "API key leaked");
    for token in &tokens {
        let signature = token.rsplit('.').next().unwrap();
        assert!(!text.contains(token.as_str()), "token leaked");
        assert!(!text.contains(signature), "token signature leaked");
    }
}

//! Secrets and tokens never appear in `Debug`, `Display`, error text or logs (one
//! process-wide subscriber at TRACE: every thread's lines).

use authrocket_testkit::{FakeRealm, SigningKey, TokenBuilder, bad};
use authrocket_verify::Verifier;

/// Every way a value could leak: the token, its signature, the secret.
fn assert_absent(haystack: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!s.is_empty());
        assert!(!haystack.contains(s), "leaked {s:.12}… in:\n{haystack}");
    }
}

#[tokio::test]
async fn errors_debug_and_logs_never_contain_tokens_or_secrets() {
    let secret = "jsk_never_print_this_secret_0123456789";
    let key = SigningKey::hs256(secret);
    let v = Verifier::builder().jwt_key(secret).build().unwrap();
    let logs = authrocket_testkit::capture_logs();

    let good = TokenBuilder::v2("usr_leak").sign(&key);
    let bad_tokens = [
        bad::expired(&key),
        bad::tampered_signature(&key),
        bad::foreign_issuer(&key),
        bad::alg_none(),
        bad::wrong_key(&key),
        format!("{good}x"),
        good.replace('.', "+"),
    ];
    let mut texts = vec![format!("{v:?}")];
    v.verify(&good).await.unwrap();
    for token in &bad_tokens {
        let err = v.verify(token).await.unwrap_err();
        texts.push(format!("{err} {err:?} {}", err.code()));
        let sig = token.rsplit('.').next().unwrap();
        let needles: Vec<&str> = [token.as_str(), sig]
            .into_iter()
            .filter(|s| s.len() > 8)
            .collect();
        assert_absent(&texts.join("\n"), &needles);
    }
    let all = texts.join("\n") + &logs.text();
    assert!(
        logs.text().contains("authrocket.verify"),
        "the verification span is logged:\n{}",
        logs.text()
    );
    assert!(logs.text().contains("code=\"expired\"") || logs.text().contains("code=expired"));
    let sig = good.rsplit('.').next().unwrap().to_owned();
    assert_absent(
        &all,
        &[secret, &good, &sig, good.split('.').nth(1).unwrap()],
    );
}

#[tokio::test]
async fn rsa_verifier_debug_shows_no_key_material() {
    let key = SigningKey::generate_rs256();
    let pem = key.public_key_pem().unwrap();
    let v = Verifier::builder().jwt_key(pem.clone()).build().unwrap();
    let dbg = format!("{v:?}");
    assert!(dbg.contains("Rs256") && dbg.contains("[redacted]"), "{dbg}");
    let body_line = pem.lines().nth(1).unwrap();
    assert_absent(&dbg, &[body_line, &key.public_key_base64().unwrap()[..40]]);
}

#[tokio::test]
async fn jwks_failures_log_no_urls_with_secrets() {
    let realm = FakeRealm::start().await;
    let v = Verifier::builder()
        .loginrocket_url(realm.loginrocket_url())
        .build()
        .unwrap();
    let logs = authrocket_testkit::capture_logs();
    let token = realm.login("frank@example.com").token;
    realm.fail_next(1, authrocket_testkit::Fault::Status(500));
    let err = v.verify(&token).await.unwrap_err();
    assert_eq!(err.code(), "unavailable");
    assert!(logs.text().contains("JWKS fetch failed"), "{}", logs.text());
    assert_absent(
        &(logs.text() + &format!("{err:?} {err}")),
        &[&token, token.rsplit('.').next().unwrap()],
    );
}

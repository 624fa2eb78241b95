//! The result cache and its hot table: a hit is impossible for any other token.

use std::time::Duration;

use authrocket_testkit::{ManualClock, SigningKey, TokenBuilder, b64url, now};
use authrocket_verify::Verifier;

const SECRET: &str = "jsk_cache_tests_secret";

fn verifier() -> Verifier {
    Verifier::builder().jwt_key(SECRET).build().unwrap()
}

#[tokio::test]
async fn a_token_sharing_a_hot_slot_never_hits() {
    let key = SigningKey::hs256(SECRET);
    let v = verifier();
    let good = TokenBuilder::v2("usr_victim").sign(&key);
    // Offline sessions are stored on their second sight.
    v.verify(&good).await.unwrap();
    assert!(v.cached(&good).is_none(), "seen once: not stored");
    v.verify(&good).await.unwrap();
    assert_eq!(
        v.cached(&good).unwrap().user_id(),
        "usr_victim",
        "now in the hot table"
    );

    // Same header and signature (so the same hot slot and the same store key, both chosen
    // from the token's tail), another payload: a forgery that must be compared in full (hot
    // table) or by its SHA-256 (store) and refused.
    let parts: Vec<&str> = good.split('.').collect();
    let evil_claims = serde_json::json!({"iss": "https://authrocket.com", "sub": "usr_attacker", "exp": now() + 60});
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64url(evil_claims.to_string()),
        parts[2]
    );
    assert!(v.cached(&forged).is_none());
    assert_eq!(v.verify(&forged).await.unwrap_err().code(), "bad_signature");

    // A one-character change anywhere misses too.
    let mut bytes = good.clone().into_bytes();
    let mid = bytes.len() / 2;
    bytes[mid] = if bytes[mid] == b'A' { b'B' } else { b'A' };
    let changed = String::from_utf8(bytes).unwrap();
    assert!(v.cached(&changed).is_none());
    assert!(v.verify(&changed).await.is_err());

    // The genuine token is still served, and counted as a hit.
    let before = v.cache_stats().hits;
    assert_eq!(v.verify(&good).await.unwrap().user_id(), "usr_victim");
    assert_eq!(v.cache_stats().hits, before + 1);
}

#[tokio::test]
async fn hot_entries_keep_the_cache_deadline_and_exp() {
    let key = SigningKey::hs256(SECRET);
    // TTL 1 s: the hot copy must expire with the cache entry, not later.
    let clock = ManualClock::new();
    let v = Verifier::builder()
        .jwt_key(SECRET)
        .cache_ttl(Duration::from_secs(1))
        .clock(clock.clone())
        .build()
        .unwrap();
    let token = TokenBuilder::v2("usr_ttl").sign(&key);
    v.verify(&token).await.unwrap();
    v.verify(&token).await.unwrap();
    assert!(v.cached(&token).is_some());
    clock.advance(Duration::from_millis(1000));
    assert!(v.cached(&token).is_none(), "past the cache TTL");
    let misses = v.cache_stats().misses;
    assert!(v.verify(&token).await.is_ok(), "and re-verified normally");
    assert_eq!(
        v.cache_stats().misses,
        misses + 1,
        "not served from the store"
    );

    // A token expiring in 2 s leaves the hot table at its exp.
    let clock = ManualClock::new();
    let v = Verifier::builder()
        .jwt_key(SECRET)
        .leeway(Duration::ZERO)
        .clock(clock.clone())
        .build()
        .unwrap();
    let short = TokenBuilder::v2("usr_short")
        .claim("iat", clock.now_unix())
        .claim("exp", clock.now_unix() + 2)
        .sign(&key);
    v.verify(&short).await.unwrap();
    v.verify(&short).await.unwrap();
    assert!(v.cached(&short).is_some());
    clock.advance(Duration::from_secs(2));
    assert!(
        v.cached(&short).is_none(),
        "the hot copy is gone once exp is reached"
    );
    // Rejected when now > exp (whole seconds): one more second and it is expired.
    clock.advance(Duration::from_secs(1));
    assert_eq!(v.verify(&short).await.unwrap_err().code(), "expired");
}

#[tokio::test]
async fn rejected_and_unknown_tokens_are_never_hot() {
    let key = SigningKey::hs256(SECRET);
    let v = verifier();
    let expired = TokenBuilder::v2("usr_x").expires_in(-600).sign(&key);
    assert!(v.verify(&expired).await.is_err());
    assert!(v.cached(&expired).is_none());
    assert!(v.cached("never.seen.token").is_none());
    // With the cache disabled there is no hot table either.
    let off = Verifier::builder()
        .jwt_key(SECRET)
        .cache_ttl(Duration::ZERO)
        .build()
        .unwrap();
    let good = TokenBuilder::v2("usr_y").sign(&key);
    off.verify(&good).await.unwrap();
    off.verify(&good).await.unwrap();
    assert!(off.cached(&good).is_none());
}

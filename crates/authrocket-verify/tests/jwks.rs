//! JWKS key source against the testkit's fake realm, over real HTTP on 127.0.0.1.

use std::time::Duration;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use authrocket_testkit::{FakeRealm, Fault, ManualClock, SigningKey, TokenBuilder, random_id};
use authrocket_verify::{Verifier, VerifierBuilder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn jwks_builder(realm: &FakeRealm) -> VerifierBuilder {
    Verifier::builder()
        .loginrocket_url(realm.loginrocket_url())
        .realm(realm.realm_id())
}

fn jwks_verifier(realm: &FakeRealm, refresh: Duration) -> Verifier {
    jwks_builder(realm)
        .jwks_refresh_interval(refresh)
        .build()
        .unwrap()
}

fn clocked_verifier(realm: &FakeRealm, clock: &ManualClock) -> Verifier {
    jwks_builder(realm).clock(clock.clone()).build().unwrap()
}

#[tokio::test]
async fn tokens_verify_with_keys_from_the_jwks() {
    let realm = FakeRealm::start().await;
    let v = jwks_verifier(&realm, Duration::from_secs(30));
    let frank = realm.login("frank@example.com");
    let s = v.verify(&frank.token).await.unwrap();
    assert_eq!(s.user_id(), frank.user.id);
    assert_eq!(s.session_id(), Some(frank.session_id.as_str()));
    assert_eq!(realm.requests("/connect/jwks"), 1);
    // Known kid: no further fetch.
    for _ in 0..10 {
        v.verify(&realm.login("frank@example.com").token)
            .await
            .unwrap();
    }
    assert_eq!(realm.requests("/connect/jwks"), 1);
    assert!(
        realm
            .last_user_agent()
            .unwrap()
            .starts_with("authrocket-verify/")
    );
}

#[tokio::test]
async fn x5c_only_and_n_e_only_keys_are_both_accepted() {
    // AuthRocket's x5c[0] is a bare SPKI, not a certificate; n/e may or may not be there.
    use axum::{Json, Router, routing::get};
    let key_x5c = SigningKey::generate_rs256().with_kid("only-x5c");
    let key_ne = SigningKey::generate_rs256().with_kid("only-ne");
    let mut a = key_x5c.jwk().unwrap();
    a.as_object_mut()
        .unwrap()
        .retain(|k, _| k != "n" && k != "e");
    let mut b = key_ne.jwk().unwrap();
    b.as_object_mut().unwrap().remove("x5c");
    let doc = serde_json::json!({"keys": [a, b, {"kty": "EC", "kid": "ignored", "crv": "P-256"}]});
    let app = Router::new().route("/connect/jwks", get(move || async move { Json(doc) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let v = Verifier::builder().loginrocket_url(url).build().unwrap();
    assert!(
        v.verify(&TokenBuilder::v2("usr_a").sign(&key_x5c))
            .await
            .is_ok()
    );
    assert!(
        v.verify(&TokenBuilder::v2("usr_b").sign(&key_ne))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn tokens_without_kid_or_with_wrong_alg_never_cause_a_fetch() {
    let realm = FakeRealm::start().await;
    let v = jwks_verifier(&realm, Duration::from_secs(30));
    let no_kid = TokenBuilder::v2("usr_x").sign(&SigningKey::generate_rs256());
    assert_eq!(v.verify(&no_kid).await.unwrap_err().code(), "unknown_key");
    let hs = TokenBuilder::v2("usr_x")
        .header("kid", "k")
        .sign(&SigningKey::hs256("jsk_x"));
    assert_eq!(
        v.verify(&hs).await.unwrap_err().code(),
        "unsupported_algorithm"
    );
    assert_eq!(realm.requests("/connect/jwks"), 0);
}

#[tokio::test]
async fn rotation_is_picked_up() {
    let realm = FakeRealm::start().await;
    // Without the result cache, so each verification consults the key set (a cached result
    // would rightly outlive a retired key for up to the cache TTL).
    let clock = ManualClock::new();
    let v = jwks_builder(&realm)
        .cache_ttl(Duration::ZERO)
        .clock(clock.clone())
        .build()
        .unwrap();
    let before = realm.login("frank@example.com");
    v.verify(&before.token).await.unwrap();

    let new_key = realm.rotate_keys();
    clock.advance(Duration::from_secs(30));
    let after = realm.login("frank@example.com");
    let s = v
        .verify(&after.token)
        .await
        .expect("the new key is fetched on its unknown kid");
    assert_eq!(s.user_id(), after.user.id);
    assert_eq!(realm.requests("/connect/jwks"), 2);
    // The old key is still published, so older tokens keep working...
    v.verify(&before.token).await.unwrap();
    // ...until the realm retires it and a refetch happens.
    realm.retire_old_keys();
    clock.advance(Duration::from_secs(30));
    let unknown = TokenBuilder::v2("usr_x").sign(&SigningKey::generate_rs256().with_kid("nope"));
    assert_eq!(v.verify(&unknown).await.unwrap_err().code(), "unknown_key");
    assert_eq!(realm.requests("/connect/jwks"), 3);
    assert_eq!(
        v.verify(&before.token).await.unwrap_err().code(),
        "unknown_key"
    );
    assert!(
        v.verify(&TokenBuilder::v2("usr_y").sign(&new_key))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn random_kid_flood_causes_at_most_one_fetch_per_interval() {
    let realm = FakeRealm::start().await;
    let v = jwks_verifier(&realm, Duration::from_secs(30));
    v.warm_up().await.unwrap();
    assert_eq!(realm.requests("/connect/jwks"), 1);
    let attacker = SigningKey::generate_rs256();
    let tokens: Vec<String> = (0..1000)
        .map(|_| {
            TokenBuilder::v2("usr_x")
                .header("kid", random_id("kid_"))
                .sign(&attacker)
        })
        .collect();
    // All at once, concurrently.
    let results = futures_util::future::join_all(tokens.iter().map(|t| v.verify(t))).await;
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().unwrap_err().code() == "unknown_key")
    );
    assert_eq!(
        realm.requests("/connect/jwks"),
        1,
        "warm-up fetched; the flood is rate-limited"
    );

    // A fresh verifier (no warm-up): the flood shares exactly one single-flight fetch.
    let cold = jwks_verifier(&realm, Duration::from_secs(30));
    let results = futures_util::future::join_all(tokens.iter().map(|t| cold.verify(t))).await;
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().unwrap_err().code() == "unknown_key")
    );
    assert_eq!(realm.requests("/connect/jwks"), 2);
}

#[tokio::test]
async fn known_kid_verifies_while_the_jwks_is_down() {
    let realm = FakeRealm::start().await;
    let clock = ManualClock::new();
    let v = clocked_verifier(&realm, &clock);
    let frank = realm.login("frank@example.com");
    v.verify(&frank.token).await.unwrap();

    realm.fail_always(Fault::Status(503));
    clock.advance(Duration::from_secs(30));
    // An unknown kid forces a refetch, which fails: that is "cannot verify now" (503)...
    let unknown =
        TokenBuilder::v2("usr_x").sign(&SigningKey::generate_rs256().with_kid("rotated?"));
    let err = v.verify(&unknown).await.unwrap_err();
    assert_eq!(err.code(), "unavailable");
    assert!(err.is_unavailable());
    // ...but the last good key set is kept, so known keys keep working.
    assert_eq!(
        v.verify(&frank.token).await.unwrap().user_id(),
        frank.user.id
    );

    // Fully down: the server is gone.
    realm.clear_faults();
    let token = realm.login("frank@example.com").token;
    realm.stop().await;
    assert!(v.verify(&token).await.is_ok());
}

#[tokio::test]
async fn jwks_faults_are_unavailable_not_invalid() {
    let realm = FakeRealm::start().await;
    let token = realm.login("frank@example.com").token;
    for fault in [
        Fault::Status(500),
        Fault::TruncatedJson,
        Fault::OversizedBody,
        Fault::DropConnection,
        Fault::Redirect("http://evil.example/jwks".into()),
    ] {
        let v = jwks_verifier(&realm, Duration::from_secs(30));
        // A connection dropped before any answer is retried once: drop both.
        let times = if fault == Fault::DropConnection { 2 } else { 1 };
        realm.fail_next(times, fault.clone());
        let err = v.verify(&token).await.expect_err(&format!("{fault:?}"));
        assert_eq!(err.code(), "unavailable", "{fault:?}");
    }
    // Same-origin redirects are followed.
    let v = jwks_verifier(&realm, Duration::from_secs(30));
    realm.fail_next(1, Fault::Redirect("/connect/jwks?moved=1".into()));
    assert!(v.verify(&token).await.is_ok());
}

#[tokio::test]
async fn a_slow_jwks_is_cut_off_by_the_api_timeout() {
    let realm = FakeRealm::start().await;
    let token = realm.login("frank@example.com").token;
    let v = Verifier::builder()
        .loginrocket_url(realm.loginrocket_url())
        .api_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    realm.fail_next(1, Fault::Latency(Duration::from_secs(3)));
    let started = std::time::Instant::now();
    let err = v.verify(&token).await.unwrap_err();
    assert_eq!(err.code(), "unavailable");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_failed_first_fetch_is_retried_after_a_short_backoff() {
    let realm = FakeRealm::start().await;
    let clock = ManualClock::new();
    let v = clocked_verifier(&realm, &clock);
    let frank = realm.login("frank@example.com");
    realm.fail_next_on("/connect/jwks", 1, Fault::Status(503));
    assert!(v.verify(&frank.token).await.unwrap_err().is_unavailable());
    // Within the back-off the failure is shared, not refetched...
    clock.advance(Duration::from_millis(400));
    assert!(v.verify(&frank.token).await.unwrap_err().is_unavailable());
    assert_eq!(realm.requests("/connect/jwks"), 1);
    // ...and half a second after the failure, the next verification fetches again: not the
    // 30 s refresh interval.
    clock.advance(Duration::from_millis(100));
    assert_eq!(
        v.verify(&frank.token).await.unwrap().user_id(),
        frank.user.id
    );
    assert_eq!(realm.requests("/connect/jwks"), 2);
}

#[tokio::test]
async fn the_backoff_doubles_while_the_jwks_keeps_failing_up_to_the_interval() {
    let realm = FakeRealm::start().await;
    let clock = ManualClock::new();
    let v = clocked_verifier(&realm, &clock);
    let frank = realm.login("frank@example.com");
    realm.fail_always_on("/connect/jwks", Fault::Status(500));
    assert!(v.verify(&frank.token).await.unwrap_err().is_unavailable());
    let mut fetches = 1;
    assert_eq!(realm.requests("/connect/jwks"), fetches);
    // Each failure waits twice as long as the one before, never longer than the interval.
    for wait_ms in [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000] {
        clock.advance(Duration::from_millis(wait_ms - 1));
        assert!(v.verify(&frank.token).await.unwrap_err().is_unavailable());
        assert_eq!(
            realm.requests("/connect/jwks"),
            fetches,
            "before {wait_ms} ms"
        );
        clock.advance(Duration::from_millis(1));
        assert!(v.verify(&frank.token).await.unwrap_err().is_unavailable());
        fetches += 1;
        assert_eq!(
            realm.requests("/connect/jwks"),
            fetches,
            "after {wait_ms} ms"
        );
    }
}

/// Read one HTTP request head (a GET has no body).
async fn read_head(c: &mut TcpStream) -> bool {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match c.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    true
}

async fn answer(c: &mut TcpStream, body: &str) {
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    c.write_all(head.as_bytes()).await.unwrap();
    c.write_all(body.as_bytes()).await.unwrap();
}

#[tokio::test]
async fn a_pooled_connection_closed_by_the_server_does_not_fail_a_refetch() {
    let old = SigningKey::generate_rs256().with_kid("old");
    let new = SigningKey::generate_rs256().with_kid("new");
    let first = serde_json::json!({"keys": [old.jwk()]}).to_string();
    let later = serde_json::json!({"keys": [old.jwk(), new.jwk()]}).to_string();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&connections);
    tokio::spawn(async move {
        // The first connection answers one request, then takes the next one and closes, as a
        // server does that dropped an idle keep-alive connection just as it was reused.
        let (mut c, _) = listener.accept().await.unwrap();
        counted.fetch_add(1, Ordering::SeqCst);
        assert!(read_head(&mut c).await);
        answer(&mut c, &first).await;
        read_head(&mut c).await;
        drop(c);
        loop {
            let (mut c, _) = listener.accept().await.unwrap();
            counted.fetch_add(1, Ordering::SeqCst);
            while read_head(&mut c).await {
                answer(&mut c, &later).await;
            }
        }
    });
    let clock = ManualClock::new();
    let v = Verifier::builder()
        .loginrocket_url(url)
        .clock(clock.clone())
        .build()
        .unwrap();
    assert!(
        v.verify(&TokenBuilder::v2("usr_a").sign(&old))
            .await
            .is_ok()
    );
    clock.advance(Duration::from_secs(30));
    // A token under the rotated key: the refetch goes out on the pooled connection, which
    // the server closes; the GET is sent again on a new one.
    let s = v
        .verify(&TokenBuilder::v2("usr_b").sign(&new))
        .await
        .unwrap();
    assert_eq!(s.user_id(), "usr_b");
    assert_eq!(connections.load(Ordering::SeqCst), 2);
}

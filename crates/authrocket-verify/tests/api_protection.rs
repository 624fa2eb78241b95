//! One client cannot take AuthRocket away from everyone: the session API's `Retry-After` holds
//! every caller, calls have a non-blocking budget, and a flood of junk tokens cannot evict
//! verified sessions. Against the testkit's fake realm over HTTP; time on a manual clock.

use std::time::Duration;

use authrocket_testkit::{FakeRealm, Fault, Login, ManualClock, SigningKey, TokenBuilder};
use authrocket_verify::{Verifier, VerifierBuilder, VerifyMode};
use futures_util::future::join_all;

const SESSIONS: &str = "/v2/sessions";

/// An HS256 realm (fast logins), and an online verifier for it on `clock`.
async fn realm_and_builder(clock: &ManualClock) -> (FakeRealm, VerifierBuilder) {
    let realm = FakeRealm::builder()
        .hs256()
        .clock(clock.clone())
        .start()
        .await;
    let builder = Verifier::builder()
        .mode(VerifyMode::Online)
        .authrocket_url(realm.api_url())
        .api_key(realm.api_key())
        .realm(realm.realm_id())
        .clock(clock.clone());
    (realm, builder)
}

fn logins(realm: &FakeRealm, n: usize) -> Vec<Login> {
    (0..n)
        .map(|i| realm.login(&format!("user{i}@example.com")))
        .collect()
}

#[tokio::test]
async fn a_retry_after_holds_every_caller_and_cached_sessions_keep_working() {
    let clock = ManualClock::new();
    let (realm, builder) = realm_and_builder(&clock).await;
    let v = builder.build().unwrap();
    let cached = realm.login("cached@example.com");
    v.verify(&cached.token).await.unwrap();
    let new = logins(&realm, 1000);

    realm.fail_always_on(SESSIONS, Fault::RateLimited { retry_after: 10 });
    let err = v.verify(&new[0].token).await.unwrap_err();
    assert!(err.is_unavailable());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(10)));
    let calls = realm.requests(SESSIONS);

    // Inside the window: 999 new logins, at once. None reaches the API; each is told how
    // long is left.
    clock.advance(Duration::from_secs(3));
    let results = join_all(new[1..].iter().map(|l| v.verify(&l.token))).await;
    for r in &results {
        let err = r.as_ref().unwrap_err();
        assert!(err.is_unavailable(), "{err:?}");
        assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    }
    assert_eq!(realm.requests(SESSIONS), calls, "no call inside the window");
    // A session verified before keeps working.
    assert_eq!(
        v.verify(&cached.token).await.unwrap().user_id(),
        cached.user.id
    );

    // Once the window has passed, the API is asked again.
    clock.advance(Duration::from_secs(7));
    realm.clear_faults();
    assert!(v.verify(&new[1].token).await.is_ok());
    assert_eq!(realm.requests(SESSIONS), calls + 1);
}

#[tokio::test]
async fn a_flood_into_a_rate_limited_api_makes_at_most_one_round_of_calls() {
    let clock = ManualClock::new();
    let (realm, builder) = realm_and_builder(&clock).await;
    let v = builder.build().unwrap();
    let new = logins(&realm, 1000);
    realm.fail_always_on(SESSIONS, Fault::RateLimited { retry_after: 10 });
    // Fifty at a time, as a busy server would see them. Only calls already on their way when
    // the first 429 comes back reach the API (at most the in-flight budget, 32).
    for chunk in new.chunks(50) {
        let results = join_all(chunk.iter().map(|l| v.verify(&l.token))).await;
        assert!(
            results
                .iter()
                .all(|r| r.as_ref().unwrap_err().is_unavailable())
        );
    }
    let calls = realm.requests(SESSIONS);
    println!("session-API calls for 1000 new tokens while rate limited: {calls}");
    assert!((1..=32).contains(&calls), "{calls} calls");
}

#[tokio::test]
async fn the_budget_refuses_at_once_beyond_its_rate() {
    let clock = ManualClock::new();
    let (realm, builder) = realm_and_builder(&clock).await;
    let v = builder.api_rate_limit(10).build().unwrap();
    let new = logins(&realm, 25);
    for l in &new[..10] {
        v.verify(&l.token).await.unwrap();
    }
    let err = v.verify(&new[10].token).await.unwrap_err();
    assert!(err.is_unavailable());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!(realm.requests(SESSIONS), 10, "refused without a call");
    // A second later, another second's worth.
    clock.advance(Duration::from_secs(1));
    for l in &new[10..20] {
        v.verify(&l.token).await.unwrap();
    }
    assert!(v.verify(&new[20].token).await.unwrap_err().is_unavailable());
    assert_eq!(realm.requests(SESSIONS), 20);
}

#[tokio::test]
async fn the_budget_refuses_at_once_beyond_its_calls_in_flight() {
    let clock = ManualClock::new();
    let (realm, builder) = realm_and_builder(&clock).await;
    let v = builder.api_max_in_flight(4).build().unwrap();
    let new = logins(&realm, 20);
    realm.fail_always_on(SESSIONS, Fault::Latency(Duration::from_millis(300)));
    let results = join_all(new.iter().map(|l| v.verify(&l.token))).await;
    let passed = results.iter().filter(|r| r.is_ok()).count();
    let refused = results
        .iter()
        .filter(|r| r.as_ref().is_err_and(|e| e.is_unavailable()))
        .count();
    assert_eq!((passed, refused), (4, 16));
    assert_eq!(realm.requests(SESSIONS), 4);
}

#[tokio::test]
async fn a_junk_flood_never_evicts_a_verified_session() {
    let clock = ManualClock::new();
    let (realm, builder) = realm_and_builder(&clock).await;
    // A budget wide enough that every junk token reaches the API and gets its 404.
    let v = builder
        .cache_capacity(1000)
        .api_rate_limit(1_000_000)
        .api_max_in_flight(1000)
        .build()
        .unwrap();
    let users = logins(&realm, 300);
    for l in &users {
        v.verify(&l.token).await.unwrap();
    }
    let key = SigningKey::hs256("jsk_not_the_realms");
    let junk: Vec<String> = (0..5000)
        .map(|i| TokenBuilder::v2(format!("usr_junk{i}")).sign(&key))
        .collect();
    for chunk in junk.chunks(50) {
        let results = join_all(chunk.iter().map(|t| v.verify(t))).await;
        assert!(
            results
                .iter()
                .all(|r| r.as_ref().unwrap_err().code() == "revoked")
        );
    }
    let before = realm.requests(SESSIONS);
    for l in &users {
        v.verify(&l.token).await.unwrap();
    }
    let evicted = realm.requests(SESSIONS) - before;
    println!("verified sessions evicted by 5000 junk tokens: {evicted} of 300");
    assert_eq!(evicted, 0);
}

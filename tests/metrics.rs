//! The operators' numbers (cargo feature `metrics`), read through a recorder as an exporter
//! would: verifications by mode, result and error code; cache tiers; session-API and JWKS
//! calls; the breaker; events; the revocation set. Labels never carry a token or a user.

use std::collections::BTreeMap;

use authrocket::Verifier;
use authrocket::verify::VerifyMode;
use authrocket_testkit::{FakeRealm, Fault, capture_logs};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

/// Every metric as `name{label=value,…}` → counter or gauge value, or histogram count.
fn read(snapshotter: &Snapshotter) -> BTreeMap<String, f64> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let mut labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            labels.sort();
            let name = format!("{}{{{}}}", key.name(), labels.join(","));
            let value = match value {
                DebugValue::Counter(n) => n as f64,
                DebugValue::Gauge(g) => g.into_inner(),
                DebugValue::Histogram(v) => v.len() as f64,
            };
            (name, value)
        })
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn verifications_caches_api_calls_events_and_revocations_are_counted() {
    let _ = capture_logs();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    // Everything below runs on this thread: the local recorder sees it all.
    let _guard = metrics::set_default_local_recorder(&recorder);

    let realm = FakeRealm::start().await;
    let v = Verifier::builder()
        .mode(VerifyMode::Online)
        .authrocket_url(realm.api_url())
        .api_key(realm.api_key())
        .realm(realm.realm_id())
        .build()
        .unwrap();
    let ann = realm.login("ann@example.com");
    for _ in 0..3 {
        v.verify(&ann.token).await.unwrap();
    }
    let _ = v.verify("").await;
    let _ = v.verify("not a token").await;
    let m = read(&snapshotter);
    let get = |k: &str| m.get(k).copied().unwrap_or(0.0);
    assert_eq!(
        get("authrocket.verify.duration{mode=online,result=success}"),
        3.0,
        "{m:#?}"
    );
    assert_eq!(
        get("authrocket.verify.duration{mode=online,result=none}"),
        1.0
    );
    assert_eq!(
        get("authrocket.verify.duration{error.type=malformed,mode=online,result=failure}"),
        1.0,
        "{m:#?}"
    );
    assert_eq!(
        get("authrocket.api.calls{endpoint=sessions,outcome=ok}"),
        1.0
    );
    assert_eq!(
        get("authrocket.api.duration{endpoint=sessions,outcome=ok}"),
        1.0
    );
    assert_eq!(
        get("authrocket.cache.lookups{outcome=miss,tier=store}"),
        1.0
    );
    assert!(
        get("authrocket.cache.lookups{outcome=hit,tier=hot}")
            + get("authrocket.cache.lookups{outcome=hit,tier=store}")
            >= 2.0
    );

    // An event applied, a forged one refused; the revocation set's size.
    realm.revoke(&ann);
    let event = realm.events().pop().unwrap();
    v.receive_event(event.to_string().as_bytes(), None)
        .await
        .unwrap();
    let _ = v.receive_event(b"{\"id\":\"ev_forged\"}", None).await;
    let m = read(&snapshotter);
    let get = |k: &str| m.get(k).copied().unwrap_or(0.0);
    assert_eq!(
        get("authrocket.events.received{outcome=applied}"),
        1.0,
        "{m:#?}"
    );
    assert_eq!(
        get("authrocket.events.received{error.type=unknown_event,outcome=refused}"),
        1.0,
        "{m:#?}"
    );
    assert_eq!(get("authrocket.revocations{}"), 1.0);
    assert_eq!(get("authrocket.api.calls{endpoint=events,outcome=ok}"), 1.0);
    assert_eq!(
        get("authrocket.api.calls{endpoint=events,outcome=not_found}"),
        1.0
    );

    // The API's Retry-After opens the breaker.
    realm.fail_next(1, Fault::RateLimited { retry_after: 30 });
    let bob = realm.login("bob@example.com");
    assert!(v.verify(&bob.token).await.unwrap_err().is_unavailable());
    let m = read(&snapshotter);
    assert_eq!(m.get("authrocket.api.breaker{}"), Some(&1.0), "{m:#?}");
    assert_eq!(
        m.get("authrocket.api.calls{endpoint=sessions,outcome=unavailable}"),
        Some(&1.0)
    );

    // JWKS fetches, from an offline verifier.
    let offline = Verifier::builder()
        .loginrocket_url(realm.loginrocket_url())
        .build()
        .unwrap();
    let cat = realm.login("cat@example.com");
    offline.verify(&cat.token).await.unwrap();
    let m = read(&snapshotter);
    assert_eq!(
        m.get("authrocket.jwks.fetches{outcome=ok}"),
        Some(&1.0),
        "{m:#?}"
    );
    assert_eq!(
        m.get("authrocket.verify.duration{mode=offline,result=success}"),
        Some(&1.0)
    );

    // Nothing that names a person or carries a secret is a label.
    let every_key = format!("{m:?}");
    for secret in [
        ann.token.as_str(),
        &ann.user.id,
        &ann.session_id,
        &realm.api_key(),
    ] {
        assert!(!every_key.contains(secret));
    }
}

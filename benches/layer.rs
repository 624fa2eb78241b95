//! The layer's cost on a bare Axum route, in the same run: the route without the layer vs the
//! same route and handler behind `AuthRocketLayer` with a warm (cached) token — HS256 and
//! RS256, required and optional mode, offline and hybrid, and with 100 000 other sessions in
//! the revocation set — driven with `oneshot`, reported as requests per second.
//!
//! `cargo bench --bench layer`.

use std::hint::black_box;
use std::time::Duration;

use authrocket::{AuthRocketLayer, Verifier, VerifyMode};
use authrocket_testkit::{FakeRealm, SigningKey, TokenBuilder};
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http::Request;
use tower::ServiceExt;

const SECRET: &str = "jsk_benchmark_realm_secret_0123456789";
const REALM: &str = "rl_0vWkPT9i8gUOiXVCiuKrG2";

async fn hello() -> &'static str {
    "hello"
}

fn route() -> Router {
    Router::new().route("/", get(hello))
}

/// The same request for every case — including the bare route, which ignores the header —
/// with the header value built once, as a client would send it.
fn request(authorization: &http::HeaderValue) -> Request<Body> {
    let mut req = Request::builder().uri("/").body(Body::empty()).unwrap();
    req.headers_mut()
        .insert(http::header::AUTHORIZATION, authorization.clone());
    req
}

fn layer(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let hs = SigningKey::hs256(SECRET);
    let rs = SigningKey::generate_rs256();
    let hs_token = TokenBuilder::typical_v2(REALM).sign(&hs);
    let rs_token = TokenBuilder::typical_v2(REALM).sign(&rs);
    let hs_verifier = Verifier::builder()
        .jwt_key(SECRET)
        .realm(REALM)
        .build()
        .unwrap();
    let rs_verifier = Verifier::builder()
        .jwt_key(rs.public_key_base64().unwrap())
        .realm(REALM)
        .build()
        .unwrap();
    // The same HS256 verifier with 100 000 revoked sessions (none of them the token's): the
    // warm path then pays one hash lookup instead of one atomic load.
    let revoked_verifier = Verifier::builder()
        .jwt_key(SECRET)
        .realm(REALM)
        .build()
        .unwrap();
    let until = std::time::SystemTime::now() + Duration::from_secs(3600);
    for _ in 0..100_000 {
        revoked_verifier.revoke_session(&authrocket_testkit::random_id("kss_"), until);
    }
    assert_eq!(revoked_verifier.revoked_sessions(), 100_000);
    let realm = rt.block_on(FakeRealm::start());
    let hybrid_token = realm.login("bench@example.com").token;
    let hybrid = Verifier::builder()
        .mode(VerifyMode::Hybrid)
        .loginrocket_url(realm.loginrocket_url())
        .authrocket_url(realm.api_url())
        .api_key(realm.api_key())
        .realm(realm.realm_id())
        .build()
        .unwrap();

    let cases: Vec<(&str, Router, Option<&str>)> = vec![
        ("bare_route", route(), Some(&hs_token)),
        (
            "hs256_required_warm",
            route().layer(AuthRocketLayer::new(hs_verifier.clone())),
            Some(&hs_token),
        ),
        (
            "hs256_required_warm_100k_revoked",
            route().layer(AuthRocketLayer::new(revoked_verifier)),
            Some(&hs_token),
        ),
        (
            "hs256_optional_warm",
            route().layer(AuthRocketLayer::new(hs_verifier).optional()),
            Some(&hs_token),
        ),
        (
            "rs256_required_warm",
            route().layer(AuthRocketLayer::new(rs_verifier.clone())),
            Some(&rs_token),
        ),
        (
            "rs256_optional_warm",
            route().layer(AuthRocketLayer::new(rs_verifier).optional()),
            Some(&rs_token),
        ),
        (
            "hybrid_required_warm",
            route().layer(AuthRocketLayer::new(hybrid)),
            Some(&hybrid_token),
        ),
    ];
    let mut g = c.benchmark_group("layer");
    g.throughput(Throughput::Elements(1));
    for (name, router, token) in &cases {
        let authorization =
            http::HeaderValue::from_str(&format!("Bearer {}", token.expect("a token"))).unwrap();
        // Warm the cache, and check the route answers 200 before measuring it.
        let res = rt
            .block_on(router.clone().oneshot(request(&authorization)))
            .unwrap();
        assert_eq!(res.status(), 200, "{name}");
        g.bench_function(*name, |b| {
            b.to_async(&rt).iter(|| async {
                let res = router
                    .clone()
                    .oneshot(request(black_box(&authorization)))
                    .await
                    .unwrap();
                black_box(res)
            })
        });
    }
    g.finish();
    drop(realm);
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    targets = layer
}
criterion_main!(benches);

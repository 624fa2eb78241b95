//! Logouts, measured (`cargo bench --bench revocation`):
//!
//! * **logout latency**: from the moment the fake realm ends a session (and posts its
//!   `session.deleted` webhook) to the first 401 for that session's token, seen by a client
//!   asking `GET /me` back to back over loopback — offline, hybrid and online mode, each
//!   against a real server (`AuthRocketLayer` + `EventReceiver` on a socket) whose verifier
//!   had the token warm in its cache. Percentiles over many logouts.
//! * **memory**: RSS before and after revoking 100 000 sessions, per revoked session; the
//!   count once their `expires_at` has passed (on a manual clock), and what revoking another
//!   100 000 then costs (the freed room is reused).
//!
//! The warm path's cost with 100 000 revoked sessions is in `benches/layer.rs`
//! (`hs256_required_warm_100k_revoked`) and `scripts/loadtest.sh` (scenario `revoked`).
//!
//! Under `cargo test --benches` it runs a few logouts and 1 000 revocations as a smoke test.

use std::time::{Duration, Instant};

use authrocket::verify::Clock as _;
use authrocket::{AuthRocketLayer, Verifier, VerifyMode};
use authrocket_testkit::{FakeRealm, ManualClock, random_id};
use authrocket_tower::EventReceiver;
use axum::Router;
use axum::routing::get;

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// `samples` logouts in `mode`: for each, the time from ending the session at the realm to
/// the first 401 for its token.
async fn logout_latency(mode: VerifyMode, samples: usize) -> Vec<Duration> {
    let realm = FakeRealm::start().await;
    // Logouts come back to back here, far faster than a real realm sends them: the API
    // budget is raised so the measurement is of latency, not of the budget.
    let builder = Verifier::builder()
        .api_rate_limit(100_000)
        .api_max_in_flight(1_000)
        .mode(mode)
        .authrocket_url(realm.api_url())
        .api_key(realm.api_key())
        .realm(realm.realm_id());
    let verifier = match mode {
        VerifyMode::Online => builder,
        _ => builder.loginrocket_url(realm.loginrocket_url()),
    }
    .build()
    .unwrap();
    let app = Router::new()
        .route("/me", get(|| async { "me" }))
        .layer(AuthRocketLayer::new(verifier.clone()))
        .route_service("/authrocket/events", EventReceiver::new(verifier));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    realm.deliver_events_to(format!("{base}/authrocket/events"));

    let client = reqwest::Client::new();
    let me = |token: &str| client.get(format!("{base}/me")).bearer_auth(token).send();
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let login = realm.login("bench@example.com");
        for _ in 0..3 {
            assert_eq!(me(&login.token).await.unwrap().status(), 200);
        }
        let start = Instant::now();
        realm.revoke(&login);
        loop {
            let status = me(&login.token).await.unwrap().status();
            if status == 401 {
                break;
            }
            assert_eq!(status, 200);
            assert!(start.elapsed() < Duration::from_secs(10), "never refused");
        }
        times.push(start.elapsed());
    }
    times
}

fn memory(count: usize) {
    let clock = ManualClock::new();
    let verifier = Verifier::builder()
        .jwt_key("jsk_revocation_bench_secret")
        .clock(clock.clone())
        .build()
        .unwrap();
    let ids: Vec<String> = (0..count * 2).map(|_| random_id("kss_")).collect();
    let until = clock.now() + Duration::from_secs(3600);

    let before = rss_bytes();
    for id in &ids[..count] {
        verifier.revoke_session(id, until);
    }
    let grown = rss_bytes() - before;
    assert_eq!(verifier.revoked_sessions(), count);

    clock.advance(Duration::from_secs(3600 + 60));
    let after_expiry = verifier.revoked_sessions();
    assert_eq!(after_expiry, 0, "expired entries leave the set");

    let before = rss_bytes();
    let until = clock.now() + Duration::from_secs(3600);
    for id in &ids[count..] {
        verifier.revoke_session(id, until);
    }
    let regrown = rss_bytes() - before;
    assert_eq!(verifier.revoked_sessions(), count);
    println!(
        "memory: {count} revoked sessions (ids of {} B): {:.0} bytes each; \
         {after_expiry} left once expired; another {count} then grew RSS by {:.0} bytes each",
        ids[0].len(),
        grown as f64 / count as f64,
        regrown as f64 / count as f64,
    );
}

fn percentiles(mut times: Vec<Duration>) -> String {
    times.sort_unstable();
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    format!(
        "p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.90).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
    )
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: a smoke run then.
    let benching = std::env::args().any(|a| a == "--bench");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (samples, count) = if benching {
        (1000, 100_000)
    } else {
        (5, 1_000)
    };
    for mode in [VerifyMode::Offline, VerifyMode::Hybrid, VerifyMode::Online] {
        let times = rt.block_on(logout_latency(mode, samples));
        println!(
            "logout → first 401, {mode:?} ({samples} logouts): {}",
            percentiles(times)
        );
    }
    memory(count);
}

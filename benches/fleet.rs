//! The fleet tier, measured (`cargo bench --bench fleet`) against a real `redis-server` this
//! bench starts on a free loopback port, and the test kit's realm over HTTP:
//!
//! * **session-API calls** for 1 000 new tokens, each sent to all three online instances:
//!   alone (no Redis), with Redis one instance after the other (as a user's requests move
//!   between instances), and with Redis all three at the same moment;
//! * **cross-instance logout**: a `session.deleted` delivered by the realm's webhook to
//!   instance 1 (a real `EventReceiver` on a socket), then the time until instances 2 and 3
//!   both refuse the token. Percentiles;
//! * **an in-process miss answered by Redis, next to one that goes to the API**, and the warm
//!   path with and without the fleet tier (criterion);
//! * **Redis stopped in the middle of a run, then restarted**: 32 clients over three
//!   instances, warm and new tokens; outcomes per phase, reconnection and reload.
//!
//! Under `cargo test --benches` every part runs small, as a smoke test.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use authrocket::{Verifier, VerifierBuilder, VerifyMode};
use authrocket_testkit::{FakeRealm, Login, RedisServer};
use authrocket_tower::EventReceiver;
use axum::Router;
use criterion::Criterion;

fn online(realm: &FakeRealm, redis: Option<&RedisServer>) -> VerifierBuilder {
    // Far more new tokens per second than a real app sees: the API budget is raised so the
    // counts are of calls, not of the budget's refusals.
    let b = Verifier::builder()
        .api_rate_limit(1_000_000)
        .api_max_in_flight(10_000)
        .mode(VerifyMode::Online)
        .authrocket_url(realm.api_url())
        .api_key(realm.api_key())
        .realm(realm.realm_id());
    match redis {
        Some(redis) => b.redis_url(redis.url()),
        None => b,
    }
}

async fn ready(v: &Verifier) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while v.fleet_stats().is_some_and(|s| s.reloads == 0) {
        assert!(Instant::now() < deadline, "the fleet tier never connected");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn fleet(realm: &FakeRealm, redis: Option<&RedisServer>) -> Vec<Verifier> {
    let mut fleet = Vec::new();
    for _ in 0..3 {
        let v = online(realm, redis).build().unwrap();
        ready(&v).await;
        fleet.push(v);
    }
    fleet
}

fn logins(realm: &FakeRealm, n: usize) -> Vec<Login> {
    (0..n)
        .map(|i| {
            realm.login(&format!(
                "user{i}-{}@example.com",
                authrocket_testkit::random_id("")
            ))
        })
        .collect()
}

/// Session-API calls for `n` new tokens sent to all three instances.
async fn api_calls(redis: Option<&RedisServer>, n: usize, together: bool) -> u64 {
    let realm = FakeRealm::start().await;
    let fleet = fleet(&realm, redis).await;
    for login in logins(&realm, n) {
        if together {
            let all = fleet.iter().map(|v| v.verify(&login.token));
            for r in futures_util::future::join_all(all).await {
                r.unwrap();
            }
        } else {
            for v in &fleet {
                v.verify(&login.token).await.unwrap();
            }
        }
    }
    realm.requests("/v2/sessions")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// `samples` logouts delivered to instance 1: the time until 2 and 3 refuse.
async fn logout_spread(redis: &RedisServer, samples: usize) -> Vec<Duration> {
    let realm = FakeRealm::start().await;
    let fleet = fleet(&realm, Some(redis)).await;
    let app =
        Router::new().route_service("/authrocket/events", EventReceiver::new(fleet[0].clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    realm.deliver_events_to(format!("http://{addr}/authrocket/events"));
    let mut times = Vec::with_capacity(samples);
    for login in logins(&realm, samples) {
        for v in &fleet {
            v.verify(&login.token).await.unwrap();
        }
        let start = Instant::now();
        realm.revoke(&login);
        for v in &fleet[1..] {
            while v.verify(&login.token).await.is_ok() {
                tokio::task::yield_now().await;
            }
        }
        times.push(start.elapsed());
    }
    times.sort();
    times
}

#[derive(Default)]
struct Phase {
    ok: AtomicU64,
    unavailable: AtomicU64,
    rejected: AtomicU64,
}

/// 32 clients over three instances for three phases of `phase` each: Redis up, stopped,
/// restarted. 31 send warm tokens, one logs new users in (`fresh` new tokens per phase).
async fn outage_run(phase: Duration, fresh: usize) -> String {
    let mut redis = RedisServer::start();
    let realm = FakeRealm::start().await;
    let fleet = Arc::new(fleet(&realm, Some(&redis)).await);
    let warm = Arc::new(logins(&realm, 300));
    let victim = realm.login("victim@example.com");
    for login in warm.iter().chain([&victim]) {
        for v in fleet.iter() {
            v.verify(&login.token).await.unwrap();
        }
    }
    let fresh: Arc<Vec<std::sync::Mutex<Vec<Login>>>> = Arc::new(
        (0..3)
            .map(|_| std::sync::Mutex::new(logins(&realm, fresh)))
            .collect(),
    );
    let phases: Arc<[Phase; 3]> = Arc::new(Default::default());
    let current = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let warmed = realm.requests("/v2/sessions");
    let mut clients = Vec::new();
    for c in 0..32usize {
        let (fleet, warm, fresh) = (fleet.clone(), warm.clone(), fresh.clone());
        let (phases, current, stop) = (phases.clone(), current.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut i = c;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let now = current.load(Ordering::Relaxed) as usize;
                let token = match c {
                    0 => match fresh[now].lock().unwrap().pop() {
                        Some(login) => login.token,
                        None => break,
                    },
                    _ => warm[i % warm.len()].token.clone(),
                };
                let p = &phases[now];
                match fleet[i % 3].verify(&token).await {
                    Ok(_) => p.ok.fetch_add(1, Ordering::Relaxed),
                    Err(e) if e.is_unavailable() => p.unavailable.fetch_add(1, Ordering::Relaxed),
                    Err(_) => p.rejected.fetch_add(1, Ordering::Relaxed),
                };
                // A warm verification never waits: let the other tasks (and the clock) run.
                tokio::task::yield_now().await;
            }
        }));
    }
    let mut calls = Vec::new();
    tokio::time::sleep(phase).await;
    calls.push(realm.requests("/v2/sessions"));
    current.store(1, Ordering::Relaxed);
    tokio::task::block_in_place(|| redis.stop());
    tokio::time::sleep(phase / 2).await;
    // A logout during the outage, on instance 1, of a session every instance had verified.
    let session = fleet[0].verify(&victim.token).await.unwrap();
    fleet[0].revoke(&session);
    tokio::time::sleep(phase / 2).await;
    calls.push(realm.requests("/v2/sessions"));
    current.store(2, Ordering::Relaxed);
    let restarted = Instant::now();
    tokio::task::block_in_place(|| redis.restart());
    let watcher = {
        let fleet = fleet.clone();
        tokio::spawn(async move {
            loop {
                let seen = fleet[1].verify(&victim.token).await.is_err()
                    && fleet[2].verify(&victim.token).await.is_err();
                if seen {
                    return restarted.elapsed();
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };
    tokio::time::sleep(phase).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    calls.push(realm.requests("/v2/sessions"));
    let caught_up = tokio::time::timeout(Duration::from_secs(15), watcher)
        .await
        .expect("the outage's logout never reached the others")
        .unwrap();
    let mut out = String::from(
        "| phase | ok | unavailable (503) | rejected (401) | session-API calls |\n| --- | --- | --- | --- | --- |\n",
    );
    let mut before = warmed;
    let names = ["Redis up", "Redis stopped", "Redis restarted"];
    for (name, (p, calls)) in names.iter().zip(phases.iter().zip(calls)) {
        out += &format!(
            "| {name} | {} | {} | {} | {} |\n",
            p.ok.load(Ordering::Relaxed),
            p.unavailable.load(Ordering::Relaxed),
            p.rejected.load(Ordering::Relaxed),
            calls - before
        );
        before = calls;
    }
    for (i, v) in fleet.iter().enumerate() {
        let s = v.fleet_stats().unwrap();
        out += &format!(
            "instance {}: connected {}, set loaded {} times, {} Redis errors, {} lookups skipped, {} pending\n",
            i + 1,
            s.connected,
            s.reloads,
            s.errors,
            s.skipped,
            s.pending
        );
    }
    out += &format!(
        "the logout made during the outage refused by instances 2 and 3 {caught_up:.2?} after the restart began\n"
    );
    out
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: a smoke run then.
    let benching = std::env::args().any(|a| a == "--bench");
    let (tokens, logouts, phase) = match benching {
        true => (1_000, 1_000, Duration::from_secs(2)),
        false => (20, 10, Duration::from_millis(300)),
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let redis = RedisServer::start();

    rt.block_on(async {
        println!("session-API calls, {tokens} new tokens each sent to all three online instances:");
        println!("  alone (no Redis):                 {}", api_calls(None, tokens, false).await);
        println!("  Redis, one instance after another: {}", api_calls(Some(&redis), tokens, false).await);
        println!("  Redis, all three at once:          {}", api_calls(Some(&redis), tokens, true).await);

        let times = logout_spread(&redis, logouts).await;
        println!(
            "logout delivered to instance 1, refused by 2 and 3 after ({} logouts): p50 {:.2?}, p90 {:.2?}, p99 {:.2?}, max {:.2?}",
            times.len(),
            percentile(&times, 0.5),
            percentile(&times, 0.9),
            percentile(&times, 0.99),
            times[times.len() - 1]
        );
        println!("Redis stopped for {phase:?} in the middle of a run, then restarted:\n{}", outage_run(phase, if benching { 20_000 } else { 500 }).await);
    });

    // An in-process miss: answered by Redis, or by the API.
    let realm = rt.block_on(FakeRealm::start());
    let pool = logins(&realm, if benching { 4_000 } else { 50 });
    let sharer = rt.block_on(async {
        let v = online(&realm, Some(&redis)).build().unwrap();
        for login in &pool {
            v.verify(&login.token).await.unwrap();
        }
        while v.fleet_stats().unwrap().shared < pool.len() as u64 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        v
    });
    let mut c = Criterion::default().configure_from_args();
    if !benching {
        c = c
            .sample_size(10)
            .measurement_time(Duration::from_millis(200))
            .warm_up_time(Duration::from_millis(50));
    }
    let mut group = c.benchmark_group("fleet/in_process_miss");
    for (name, with_redis) in [("answered_by_redis", true), ("answered_by_api", false)] {
        group.bench_function(name, |b| {
            b.to_async(&rt).iter_custom(|iters| {
                let (pool, realm, redis) = (&pool, &realm, &redis);
                async move {
                    let mut total = Duration::ZERO;
                    let mut done = 0;
                    while done < iters {
                        // A new instance, with nothing in process, for each pass over the pool.
                        let v = online(realm, with_redis.then_some(redis)).build().unwrap();
                        ready(&v).await;
                        for login in pool.iter().take((iters - done) as usize) {
                            let start = Instant::now();
                            v.verify(&login.token).await.unwrap();
                            total += start.elapsed();
                            done += 1;
                        }
                    }
                    total
                }
            })
        });
    }
    group.finish();

    // The warm path, with and without the fleet tier: Redis is never on it.
    let mut group = c.benchmark_group("fleet/warm");
    let login = &pool[0];
    for (name, with_redis) in [("without_redis", false), ("with_redis", true)] {
        let v = rt.block_on(async {
            let v = online(&realm, with_redis.then_some(&redis))
                .build()
                .unwrap();
            v.verify(&login.token).await.unwrap();
            v
        });
        group.bench_function(name, |b| {
            b.to_async(&rt)
                .iter(|| async { v.verify(&login.token).await.unwrap() })
        });
    }
    group.finish();
    let hits: u64 = sharer.fleet_stats().unwrap().hits;
    assert_eq!(hits, 0, "the sharer never needed Redis");
    c.final_summary();
}

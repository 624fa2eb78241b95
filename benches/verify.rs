//! Verification cost, with its baselines in the same groups and the same run:
//!
//! * `cold_hs256`: our verifier (cache off) vs a hand-written floor (prepared HMAC key +
//!   base64url + typed borrowed serde claims) vs `jsonwebtoken::decode` into a typed claims
//!   struct (what a user writes); and our verifier with the cache on, at capacity: a token
//!   never seen before (`authrocket_miss`), and one seen once before, which is then stored
//!   (`authrocket_miss_and_store`: verification, SHA-256, insert and an eviction).
//! * `cold_rs256`: our verifier (cache off) vs raw aws-lc verify of the same signature with a
//!   parsed key vs `jsonwebtoken::decode` on aws-lc.
//! * `cold_jwks`: our verifier with a key from the realm's JWKS (cache off).
//! * `warm`: a cache hit with 10 000 and 1 000 000 sessions cached.
//! * `online_miss`: a token never seen before, checked with the fake realm's session API on
//!   loopback (online and hybrid).
//!
//! `cargo bench --bench verify`. Tokens are typical AuthRocket 2 tokens (names, email, realm,
//! one membership with two permissions).

use std::hint::black_box;
use std::time::{Duration, Instant};

use authrocket::{Verifier, VerifyMode};
use authrocket_testkit::{FakeRealm, SigningKey, TokenBuilder};
use aws_lc_rs::{hmac, signature};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde::Deserialize;

const SECRET: &str = "jsk_benchmark_realm_secret_0123456789";
const REALM: &str = "rl_0vWkPT9i8gUOiXVCiuKrG2";

/// `n` under `cargo bench`; a small fraction of it under `cargo test --benches`, which runs
/// each benchmark once as a smoke test.
fn scaled(n: usize) -> usize {
    if std::env::args().any(|a| a == "--bench") {
        n
    } else {
        (n / 1000).max(10)
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn typical(key: &SigningKey) -> String {
    TokenBuilder::typical_v2(REALM).sign(key)
}

/// The floor: what a hand-written HS256 check costs at the least. Bench-only code.
struct Floor {
    key: hmac::Key,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct FloorOrg<'a> {
    #[serde(borrow)]
    oid: &'a str,
    #[serde(borrow)]
    perm: Vec<&'a str>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct FloorClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    exp: i64,
    #[serde(borrow)]
    sid: &'a str,
    #[serde(borrow)]
    rid: &'a str,
    #[serde(borrow)]
    name: &'a str,
    #[serde(borrow)]
    email: &'a str,
    #[serde(borrow)]
    orgs: Vec<FloorOrg<'a>>,
}

impl Floor {
    fn verify(&self, token: &str, now: i64) -> bool {
        let Some((input, sig)) = token.rsplit_once('.') else {
            return false;
        };
        let Some((_, payload)) = input.split_once('.') else {
            return false;
        };
        let mut sig_buf = [0u8; 64];
        let Ok(n) = URL_SAFE_NO_PAD.decode_slice(sig, &mut sig_buf) else {
            return false;
        };
        if hmac::verify(&self.key, input.as_bytes(), &sig_buf[..n]).is_err() {
            return false;
        }
        let Ok(json) = URL_SAFE_NO_PAD.decode(payload) else {
            return false;
        };
        let Ok(claims) = serde_json::from_slice::<FloorClaims>(&json) else {
            return false;
        };
        black_box(&claims);
        claims.exp > now
    }
}

fn now() -> i64 {
    authrocket_testkit::now()
}

/// The claims a user of `jsonwebtoken` would decode an AuthRocket 2 token into.
#[derive(Deserialize)]
#[allow(dead_code)]
struct UserOrg {
    mid: Option<String>,
    oid: Option<String>,
    name: Option<String>,
    #[serde(default)]
    perm: Vec<String>,
    #[serde(default)]
    selected: bool,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct UserClaims {
    sub: String,
    sid: Option<String>,
    rid: Option<String>,
    exp: i64,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    preferred_username: Option<String>,
    email: Option<String>,
    email_verified: Option<bool>,
    #[serde(default)]
    orgs: Vec<UserOrg>,
}

/// Verify each token twice in a row: once untimed (first sight: not stored), then timed
/// (second sight: stored). Returns the time of the timed verifications (each timed on its
/// own, so about 25 ns of `Instant::now` is included per token).
async fn second_sights(v: &Verifier, tokens: &[String]) -> Duration {
    let mut spent = Duration::ZERO;
    for t in tokens {
        v.verify(t).await.unwrap();
        let start = Instant::now();
        black_box(v.verify(black_box(t)).await.unwrap());
        spent += start.elapsed();
    }
    spent
}

fn cold_hs256(c: &mut Criterion) {
    let rt = runtime();
    let key = SigningKey::hs256(SECRET);
    let token = typical(&key);
    let ours = Verifier::builder()
        .jwt_key(SECRET)
        .realm(REALM)
        .cache_ttl(Duration::ZERO)
        .build()
        .unwrap();
    let floor = Floor {
        key: hmac::Key::new(hmac::HMAC_SHA256, SECRET.as_bytes()),
    };
    let jwt_key = jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes());
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_issuer(&["https://authrocket.com"]);
    validation.leeway = 5;

    let mut g = c.benchmark_group("cold_hs256");
    g.throughput(Throughput::Elements(1));
    g.bench_function("authrocket", |b| {
        b.to_async(&rt)
            .iter(|| async { ours.verify(black_box(&token)).await.unwrap() })
    });
    // The same verification with the cache on and full (10 000 sessions): every token new,
    // so each one is a miss; then tokens seen once before, which are stored on this second
    // sight (SHA-256, insert, an eviction).
    let capacity = scaled(10_000);
    let cached = Verifier::builder()
        .jwt_key(SECRET)
        .realm(REALM)
        .cache_capacity(capacity as u64)
        .build()
        .unwrap();
    let base = TokenBuilder::typical_v2(REALM);
    let mut n = 0u64;
    let mut fresh = move |count: u64| -> Vec<String> {
        (0..count)
            .map(|_| {
                n += 1;
                base.clone().claim("jti", n).sign(&key)
            })
            .collect()
    };
    rt.block_on(second_sights(&cached, &fresh(capacity as u64)));
    // Full: each of its shards holds its share, so from here every store evicts.
    assert!(cached.cache_stats().entries as usize >= capacity * 95 / 100);
    g.bench_function("authrocket_miss", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let tokens = fresh(iters);
            let cached = &cached;
            async move {
                let start = Instant::now();
                for t in &tokens {
                    black_box(cached.verify(black_box(t)).await.unwrap());
                }
                start.elapsed()
            }
        })
    });
    g.bench_function("authrocket_miss_and_store", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let tokens = fresh(iters);
            let cached = &cached;
            async move { second_sights(cached, &tokens).await }
        })
    });
    g.bench_function("floor", |b| {
        b.iter(|| assert!(floor.verify(black_box(&token), now())))
    });
    g.bench_function("jsonwebtoken", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<UserClaims>(black_box(&token), &jwt_key, &validation).unwrap()
        })
    });
    g.finish();
}

fn cold_rs256(c: &mut Criterion) {
    let rt = runtime();
    let key = SigningKey::generate_rs256();
    let token = typical(&key);
    let ours = Verifier::builder()
        .jwt_key(key.public_key_base64().unwrap())
        .realm(REALM)
        .cache_ttl(Duration::ZERO)
        .build()
        .unwrap();
    let (input, sig) = token.rsplit_once('.').unwrap();
    let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
    let parsed = signature::ParsedPublicKey::new(
        &signature::RSA_PKCS1_2048_8192_SHA256,
        key.public_key_der().unwrap(),
    )
    .unwrap();
    let jwt_key =
        jsonwebtoken::DecodingKey::from_rsa_pem(key.public_key_pem().unwrap().as_bytes()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&["https://authrocket.com"]);

    let mut g = c.benchmark_group("cold_rs256");
    g.throughput(Throughput::Elements(1));
    g.bench_function("authrocket", |b| {
        b.to_async(&rt)
            .iter(|| async { ours.verify(black_box(&token)).await.unwrap() })
    });
    g.bench_function("aws_lc_verify", |b| {
        b.iter(|| {
            parsed
                .verify_sig(black_box(input.as_bytes()), black_box(&sig))
                .unwrap()
        })
    });
    g.bench_function("jsonwebtoken", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<UserClaims>(black_box(&token), &jwt_key, &validation).unwrap()
        })
    });
    g.finish();
}

fn cold_jwks(c: &mut Criterion) {
    let rt = runtime();
    let realm = rt.block_on(FakeRealm::start());
    let token = realm.login("bench@example.com").token;
    let ours = Verifier::builder()
        .loginrocket_url(realm.loginrocket_url())
        .realm(realm.realm_id())
        .cache_ttl(Duration::ZERO)
        .build()
        .unwrap();
    rt.block_on(ours.warm_up()).unwrap();
    let mut g = c.benchmark_group("cold_jwks");
    g.throughput(Throughput::Elements(1));
    g.bench_function("authrocket", |b| {
        b.to_async(&rt)
            .iter(|| async { ours.verify(black_box(&token)).await.unwrap() })
    });
    g.finish();
    drop(realm);
}

fn warm(c: &mut Criterion) {
    let rt = runtime();
    let key = SigningKey::hs256(SECRET);
    let mut g = c.benchmark_group("warm");
    g.throughput(Throughput::Elements(1));
    for entries in [scaled(10_000), scaled(1_000_000)] {
        // Built on first use only, so a filtered run (`cargo bench -- cold`) skips it.
        let state = std::cell::OnceCell::new();
        let setup = || {
            let v = Verifier::builder()
                .jwt_key(SECRET)
                .realm(REALM)
                .cache_capacity(entries as u64 + 10)
                .cache_ttl(Duration::from_secs(3600))
                .build()
                .unwrap();
            let base = TokenBuilder::typical_v2(REALM);
            let tokens: Vec<String> = (0..entries)
                .map(|i| base.clone().claim("jti", i).sign(&key))
                .collect();
            // Twice: offline sessions are stored on their second sight.
            rt.block_on(second_sights(&v, &tokens));
            // Probe a spread of cached tokens so the cache's size, not one hot line, is measured.
            let probes: Vec<String> = tokens
                .iter()
                .step_by((entries / 1024).max(1))
                .cloned()
                .collect();
            (v, probes)
        };
        let mut i = 0usize;
        g.bench_with_input(BenchmarkId::new("cache_hit", entries), &entries, |b, _| {
            let (v, probes) = state.get_or_init(setup);
            b.to_async(&rt).iter(|| {
                i = (i + 1) % probes.len();
                let t = &probes[i];
                async move { v.verify(black_box(t)).await.unwrap() }
            })
        });
    }
    g.finish();
}

fn online_miss(c: &mut Criterion) {
    let rt = runtime();
    let realm = rt.block_on(FakeRealm::start());
    let build = |mode| {
        Verifier::builder()
            .mode(mode)
            .loginrocket_url(realm.loginrocket_url())
            .authrocket_url(realm.api_url())
            .api_key(realm.api_key())
            .realm(realm.realm_id())
            // This measures a miss's latency: tens of thousands of new tokens a second, far
            // beyond the session-API budget that protects a real API key.
            .api_rate_limit(u32::MAX)
            .build()
            .unwrap()
    };
    let mut g = c.benchmark_group("online_miss");
    g.throughput(Throughput::Elements(1));
    for (name, mode) in [
        ("online", VerifyMode::Online),
        ("hybrid", VerifyMode::Hybrid),
    ] {
        let v = build(mode);
        rt.block_on(async {
            let t = realm.login("warm@example.com").token;
            v.verify(&t).await.unwrap()
        });
        g.bench_function(name, |b| {
            b.to_async(&rt).iter_batched(
                || realm.login("bench@example.com").token,
                |token| {
                    let v = &v;
                    async move { v.verify(&token).await.unwrap() }
                },
                criterion::BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    targets = cold_hs256, cold_rs256, cold_jwks, warm, online_miss
}
criterion_main!(benches);

//! The cache, measured directly (`cargo bench --bench cache`):
//!
//! * **memory**: RSS before and after caching 100 000 typical AuthRocket 2 sessions
//!   (offline HS256, so the count is exact), per entry — and, separately, what the same
//!   sessions cost held in a `Vec`, so the cache's own share shows;
//! * **hit latency percentiles** at 10 000 and 1 000 000 cached sessions: 200 000 hits on
//!   tokens drawn at random from the whole set, each timed on its own (p50, p99, p99.9), next
//!   to the same percentiles for just hashing the same random tokens (reading them from memory).
//!
//! Under `cargo test --benches` it runs with 1 000 entries as a smoke test.

use std::time::{Duration, Instant};

use authrocket::{Session, Verifier};
use authrocket_testkit::{SigningKey, TokenBuilder};

const SECRET: &str = "jsk_cache_bench_realm_secret";
const REALM: &str = "rl_0vWkPT9i8gUOiXVCiuKrG2";

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

fn verifier(capacity: usize, ttl: Duration) -> Verifier {
    Verifier::builder()
        .jwt_key(SECRET)
        .realm(REALM)
        .cache_capacity(capacity as u64 * 2)
        .cache_ttl(ttl)
        .build()
        .unwrap()
}

fn tokens(count: usize) -> Vec<String> {
    let key = SigningKey::hs256(SECRET);
    let base = TokenBuilder::typical_v2(REALM);
    (0..count)
        .map(|i| base.clone().claim("jti", i).sign(&key))
        .collect()
}

/// Verify every token twice: offline sessions are stored on their second sight.
async fn store(v: &Verifier, tokens: &[String]) {
    for t in tokens {
        v.verify(t).await.unwrap();
        v.verify(t).await.unwrap();
    }
}

fn memory(rt: &tokio::runtime::Runtime, count: usize) {
    let tokens = tokens(count);
    let token_len = tokens.iter().map(String::len).sum::<usize>() / count;
    let cached = verifier(count, Duration::from_secs(3600));
    let before = rss_bytes();
    rt.block_on(store(&cached, &tokens));
    let per_entry = (rss_bytes() - before) as f64 / count as f64;
    assert_eq!(cached.cache_stats().entries as usize, count);

    // The same sessions held in a Vec (cache off), measured while the cache is still alive
    // so no freed memory is reused: what the sessions themselves cost.
    let plain = verifier(count, Duration::ZERO);
    let before = rss_bytes();
    let sessions: Vec<Session> = rt.block_on(async {
        let mut out = Vec::with_capacity(count);
        for t in &tokens {
            out.push(plain.verify(t).await.unwrap());
        }
        out
    });
    let session =
        (rss_bytes() - before) as f64 / count as f64 - std::mem::size_of::<Session>() as f64;
    println!(
        "memory: {count} typical AR2 sessions (token {token_len} B): {per_entry:.0} bytes per cached session \
         ({session:.0} the session, {:.0} the cache entry)",
        per_entry - session
    );
    drop(sessions);
}

/// xorshift64*: a cheap, deterministic stream of indexes.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

fn latency(rt: &tokio::runtime::Runtime, count: usize, samples: usize) {
    let tokens = tokens(count);
    let v = verifier(count, Duration::from_secs(3600));
    rt.block_on(store(&v, &tokens));
    let mut times = Vec::with_capacity(samples);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    rt.block_on(async {
        for _ in 0..samples {
            let t = &tokens[(next(&mut state) % count as u64) as usize];
            let start = Instant::now();
            let s = v.verify(t).await.unwrap();
            times.push(start.elapsed());
            std::hint::black_box(s);
        }
    });
    // Baseline: only reading and hashing the same random tokens (what any cache keyed by a
    // digest of the token pays at least; with a million tokens they come from DRAM).
    let mut floor = Vec::with_capacity(samples);
    let mut state = 0x7F4A_7C15_9E37_79B9u64;
    for _ in 0..samples {
        let t = &tokens[(next(&mut state) % count as u64) as usize];
        let start = Instant::now();
        let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, t.as_bytes());
        floor.push(start.elapsed());
        std::hint::black_box(d);
    }
    println!(
        "hit latency at {count:>9} cached sessions: {} ({samples} random hits); \
         SHA-256 of the token alone: {}",
        percentiles(times),
        percentiles(floor)
    );
}

fn percentiles(mut times: Vec<Duration>) -> String {
    times.sort_unstable();
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)].as_nanos();
    format!(
        "p50 {} ns, p99 {} ns, p99.9 {} ns",
        pct(0.50),
        pct(0.99),
        pct(0.999)
    )
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: a smoke run then.
    let benching = std::env::args().any(|a| a == "--bench");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    if benching {
        memory(&rt, 100_000);
        latency(&rt, 10_000, 200_000);
        latency(&rt, 1_000_000, 200_000);
    } else {
        memory(&rt, 1_000);
        latency(&rt, 1_000, 2_000);
    }
}

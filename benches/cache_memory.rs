//! Bytes per cached session: RSS before and after caching 100 000 typical AuthRocket 2
//! sessions (offline HS256, so the count is exact), divided by the count.
//!
//! `cargo bench --bench cache_memory` (add `-- 1000000` for another count). Under
//! `cargo test` it runs 1 000 entries as a smoke test.

use std::time::Duration;

use authrocket::Verifier;
use authrocket_testkit::{SigningKey, TokenBuilder};

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: a smoke run then.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let benching = args.iter().any(|a| a == "--bench");
    let count: usize = args
        .iter()
        .find_map(|a| a.parse().ok())
        .unwrap_or(if benching { 100_000 } else { 1_000 });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let key = SigningKey::hs256("jsk_cache_memory_bench");
    let realm = "rl_0vWkPT9i8gUOiXVCiuKrG2";
    let verifier = Verifier::builder()
        .jwt_key("jsk_cache_memory_bench")
        .realm(realm)
        .cache_capacity(count as u64 * 2)
        .cache_ttl(Duration::from_secs(3600))
        .build()
        .unwrap();
    let tokens: Vec<String> = (0..count)
        .map(|_| TokenBuilder::typical_v2(realm).sign(&key))
        .collect();
    let token_len = tokens.iter().map(String::len).sum::<usize>() / count;
    let before = rss_bytes();
    rt.block_on(async {
        for t in &tokens {
            verifier.verify(t).await.unwrap();
        }
        verifier.run_cache_maintenance().await;
    });
    let after = rss_bytes();
    let stats = verifier.cache_stats();
    assert_eq!(stats.entries as usize, count);
    let per_entry = (after - before) as f64 / count as f64;
    // The same sessions held in a Vec instead of the cache: what the sessions themselves cost.
    let plain = Verifier::builder()
        .jwt_key("jsk_cache_memory_bench")
        .realm(realm)
        .cache_ttl(Duration::ZERO)
        .build()
        .unwrap();
    let before_sessions = rss_bytes();
    let sessions: Vec<authrocket::Session> =
        rt.block_on(async { futures_verify(&plain, &tokens).await });
    let session_bytes = (rss_bytes() - before_sessions) as f64 / count as f64
        - std::mem::size_of::<authrocket::Session>() as f64;

    println!(
        "cache_memory: {count} typical AR2 sessions (token {token_len} B): RSS +{:.1} MiB = {per_entry:.0} bytes per cached session ({session_bytes:.0} session, {:.0} cache entry)",
        (after - before) as f64 / (1024.0 * 1024.0),
        per_entry - session_bytes,
    );
    drop(sessions);
}

async fn futures_verify(v: &Verifier, tokens: &[String]) -> Vec<authrocket::Session> {
    let mut out = Vec::with_capacity(tokens.len());
    for t in tokens {
        out.push(v.verify(t).await.unwrap());
    }
    out
}

//! A small server for load tests (`scripts/loadtest.sh`): the same handler on a bare route
//! and on a route behind `AuthRocketLayer`.
//!
//! * `GET /bare` — no layer.
//! * `GET /protected` — behind `AuthRocketLayer` (required mode), static key.
//!
//! Settings (environment): `ALG=hs256|rs256` (default hs256); `POOL` distinct valid tokens
//! (default 1), written one per line to `TOKENS` (default `target/loadtest-tokens.txt`);
//! `CAPACITY` of the cache (default 100 000); `CACHE=off` for no cache; `WARM=1` to verify
//! every token of the pool before listening, so the pool starts cached; `REVOKED` other
//! sessions put in the revocation set before listening (default 0); `PORT` (default 0).
//! Prints `listening on http://…`, then `tokens: <file>` once the pool is written.

use std::io::Write;
use std::time::Duration;

use authrocket::{AuthRocketLayer, Verifier};
use authrocket_testkit::{SigningKey, TokenBuilder};
use axum::Router;
use axum::routing::get;

async fn hello() -> &'static str {
    "hello"
}

fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let realm = "rl_0vWkPT9i8gUOiXVCiuKrG2";
    let key = match std::env::var("ALG").as_deref() {
        Ok("rs256") => SigningKey::generate_rs256(),
        _ => SigningKey::hs256("jsk_loadtest_realm_secret_0123456789"),
    };
    let ttl = match std::env::var("CACHE").as_deref() {
        Ok("off") => Duration::ZERO,
        _ => Duration::from_secs(3600),
    };
    let verifier = Verifier::builder()
        .jwt_key(key.jwt_key())
        .realm(realm)
        .cache_ttl(ttl)
        .cache_capacity(setting("CAPACITY", 100_000))
        .build()?;

    let until = std::time::SystemTime::now() + Duration::from_secs(24 * 3600);
    for _ in 0..setting("REVOKED", 0u64) {
        verifier.revoke_session(&authrocket_testkit::random_id("kss_"), until);
    }

    let pool: u64 = setting("POOL", 1);
    let base = TokenBuilder::typical_v2(realm).expires_in(24 * 3600);
    let tokens: Vec<String> = (0..pool)
        .map(|i| base.clone().claim("jti", i).sign(&key))
        .collect();
    if setting("WARM", 0) == 1 {
        // Twice in a row: an offline session is cached on its second sight.
        for token in &tokens {
            verifier.verify(token).await?;
            verifier.verify(token).await?;
        }
    }
    let path = std::env::var("TOKENS").unwrap_or_else(|_| "target/loadtest-tokens.txt".into());
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
    for token in &tokens {
        writeln!(file, "{token}")?;
    }
    file.flush()?;

    let app = Router::new()
        .route("/protected", get(hello))
        .route_layer(AuthRocketLayer::new(verifier))
        .route("/bare", get(hello));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", setting("PORT", 0u16))).await?;
    println!("listening on http://{}", listener.local_addr()?);
    println!("tokens: {path}");
    axum::serve(listener, app).await?;
    Ok(())
}

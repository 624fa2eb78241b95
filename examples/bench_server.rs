//! A small server for load tests (`scripts/loadtest.sh`): the same handler on a bare route
//! and on a route behind `AuthRocketLayer`.
//!
//! * `GET /bare` — no layer.
//! * `GET /protected` — behind `AuthRocketLayer` (required mode), static key, warm cache.
//!
//! `ALG=hs256|rs256` (default hs256), `PORT` (default 0). Prints `listening on http://…` and
//! `token: …` (a typical AuthRocket 2 token for that key).

use authrocket::{AuthRocketLayer, Verifier};
use authrocket_testkit::{SigningKey, TokenBuilder};
use axum::Router;
use axum::routing::get;

async fn hello() -> &'static str {
    "hello"
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let realm = "rl_0vWkPT9i8gUOiXVCiuKrG2";
    let key = match std::env::var("ALG").as_deref() {
        Ok("rs256") => SigningKey::generate_rs256(),
        _ => SigningKey::hs256("jsk_loadtest_realm_secret_0123456789"),
    };
    let verifier = Verifier::builder()
        .jwt_key(key.jwt_key())
        .realm(realm)
        .build()?;
    let token = TokenBuilder::typical_v2(realm)
        .expires_in(24 * 3600)
        .sign(&key);
    let app = Router::new()
        .route("/protected", get(hello))
        .route_layer(AuthRocketLayer::new(verifier))
        .route("/bare", get(hello));
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    println!("token: {token}");
    axum::serve(listener, app).await?;
    Ok(())
}

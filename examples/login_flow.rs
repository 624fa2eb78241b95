//! The browser flow, end to end: `cargo run --example login_flow`, then open the printed
//! address (`PORT`, default 3001).
//!
//! An app with a public home page, a dashboard that needs a login, and a logout link —
//! signed in through LoginRocket (here the embedded fake realm's login and logout pages).
//! What the browser goes through (`tests/browser.rs` drives it in Chromium):
//!
//! 1. `/dashboard` without a cookie → 303 to LoginRocket's `/login?redirect_uri=…`
//! 2. LoginRocket logs the user in → 303 back to `/dashboard?token=…`
//! 3. `LoginRedirectLayer` verifies the token, sets the `arToken` cookie → 303 to `/dashboard`
//! 4. `/dashboard` with the cookie → 200
//! 5. `/logout` → cookie cleared, 303 to LoginRocket's `/logout?session=…`, which ends the
//!    session (hybrid mode then rejects the token everywhere) and returns to the app.

use authrocket::{
    AuthRocketLayer, CurrentUser, LoginRedirectLayer, LoginRequired, Logout, VerifierBuilder,
    VerifyMode,
};
use authrocket_testkit::FakeRealm;
use axum::Router;
use axum::response::Response;
use axum::routing::get;

async fn home(user: Option<CurrentUser>) -> String {
    match user {
        Some(u) => format!("home: signed in as {}", u.email().unwrap_or(u.id())),
        None => "home: anonymous".to_owned(),
    }
}

async fn dashboard(LoginRequired(user): LoginRequired) -> String {
    format!(
        "dashboard of {} ({})",
        user.name().unwrap_or("?"),
        user.id()
    )
}

async fn logout(logout: Logout) -> Response {
    logout.redirect_to("/")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let realm = FakeRealm::start().await;
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3001);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let app_url = format!("http://localhost:{}", listener.local_addr()?.port());
    // The app's public URL: the base of the redirect_uris given to LoginRocket. Plain http,
    // so the token cookie goes without `Secure` (never in production).
    let verifier = VerifierBuilder::from_env_with(|k| realm.env_var(k))?
        .mode(VerifyMode::Hybrid)
        .app_url(&app_url)
        .build()?;
    let auth = AuthRocketLayer::new(verifier).optional();
    let app = Router::new()
        .route("/", get(home))
        .route("/dashboard", get(dashboard))
        .route("/logout", get(logout))
        .layer(auth.clone())
        .layer(LoginRedirectLayer::new(&auth));
    println!("listening on {app_url}");
    println!("open {app_url}/dashboard: LoginRocket (the embedded realm) signs the demo user in");
    println!("then {app_url}/logout; Ctrl-C to stop");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

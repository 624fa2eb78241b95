//! The reference server: `cargo run --example server`.
//!
//! * Reads the AuthRocket settings from the environment (`AUTHROCKET_JWT_KEY`,
//!   `LOGINROCKET_URL`, `AUTHROCKET_URL`, …). With none set, it starts an embedded fake realm
//!   (the testkit's), verifies offline (no API call per request) and prints the LoginRocket
//!   URL, a demo login (email and password) for the page, a demo token, a `curl` line, and
//!   a LoginRocket logout link that ends the demo session: the realm's
//!   `session.deleted` webhook reaches `/authrocket/events` and the token answers 401
//!   `revoked` at once.
//! * Listens on `127.0.0.1:$PORT` (default 3000; `PORT=0` picks a free port).
//! * `GET /` a login page (when LoginRocket's URL is known: the embedded realm's, or
//!   `LOGINROCKET_URL`) that logs in with LoginRocket's browser API, keeps the token as
//!   `arToken` and shows who `/me` says you are; `GET /me` protected (the current user as
//!   JSON); `GET /logout` (the redirect flow's); `GET /healthz`; and
//!   `POST /authrocket/events` (AuthRocket's webhooks) whenever `AUTHROCKET_URL` and
//!   `AUTHROCKET_API_KEY` are set, in any mode. `?token=` on any page (LoginRocket Web's
//!   redirect) becomes the `arToken` cookie.
//! * With `AUTHROCKET_REDIS_URL`, shares logouts (and, online or hybrid, verified sessions)
//!   with every other instance using the same Redis: `scripts/fleet.sh` runs three.
//! * Logs to stderr, level from `RUST_LOG` (e.g. `RUST_LOG=authrocket=debug`).
//! * `cargo run --example server --features metrics`: `GET /metrics` in Prometheus' format
//!   (verifications by mode, result and error code; cache tiers; API and JWKS calls; events;
//!   revocations — see `authrocket::verify::meters`).

use authrocket::axum::events_route;
use authrocket::{
    AuthRocketLayer, CurrentUser, LoginRedirectLayer, Logout, Verifier, VerifierBuilder, VerifyMode,
};
use authrocket_testkit::FakeRealm;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

/// The settings that name a realm: with none of them, the server starts its own.
const KEY_SOURCES: &[&str] = &[
    "AUTHROCKET_JWT_KEY",
    "AUTHROCKET_JWT_SECRET",
    "LOGINROCKET_URL",
    "AUTHROCKET_URL",
];

/// The demo's login page: plain HTML and a few lines of JavaScript, no build step.
const LOGIN_PAGE: &str = include_str!("demo/index.html");

/// `GET /`: the login page, or a line of help without LoginRocket's URL.
fn page(home: &str) -> Response {
    match home.is_empty() {
        true => "Hello! GET /me with an AuthRocket token to see who you are.\n".into_response(),
        false => Html(home.to_owned()).into_response(),
    }
}

/// `GET /logout`: the redirect flow's logout (clears the cookie, ends the session at
/// LoginRocket, comes back to `/`).
async fn logout(logout: Logout) -> Response {
    logout.redirect_to("/")
}

/// `GET /me`: who is calling.
async fn me(user: CurrentUser) -> Json<Value> {
    Json(json!({
        "id": user.id(),
        "name": user.name(),
        "email": user.email(),
        "session_id": user.session_id(),
        "memberships": user.memberships().collect::<Vec<_>>(),
    }))
}

/// Print a line on stdout. A closed stdout (the reader went away) is no reason to stop
/// serving: `println!` would panic on it.
fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run().await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p
            .parse()
            .map_err(|_| format!("PORT must be a port number, not {p:?}"))?,
        Err(_) => 3000,
    };
    // With `--features metrics`: the operators' numbers at GET /metrics (Prometheus). The
    // recorder goes in before the verifier is built, which registers its handles.
    #[cfg(feature = "metrics")]
    let prometheus = {
        let handle = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;
        let upkeep = handle.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                upkeep.run_upkeep();
            }
        });
        handle
    };
    let configured = KEY_SOURCES.iter().any(|v| std::env::var_os(v).is_some());
    // With no settings, a local fake realm stands in for AuthRocket (the library itself
    // would refuse an empty configuration; this example chooses the fallback).
    let demo = if configured {
        None
    } else {
        Some(FakeRealm::start().await)
    };
    let verifier = match &demo {
        None => Verifier::from_env()?,
        // The realm's settings, and any other the environment gives (AUTHROCKET_REDIS_URL,
        // AUTHROCKET_VERIFY_MODE, …); offline unless a mode is asked for.
        Some(realm) => {
            let b = VerifierBuilder::from_env_with(|k| {
                realm.env_var(k).or_else(|| std::env::var(k).ok())
            })?;
            match std::env::var_os("AUTHROCKET_VERIFY_MODE") {
                Some(_) => b.build()?,
                None => b.mode(VerifyMode::Offline).build()?,
            }
        }
    };
    if verifier.fleet_stats().is_some() {
        say(format_args!(
            "fleet tier: sharing logouts{} through Redis",
            match verifier.mode() {
                VerifyMode::Offline => "",
                _ => " and verified sessions",
            }
        ));
    }

    let events = verifier.receives_events().then(|| verifier.clone());
    // The login page needs LoginRocket's URL: the embedded realm's, or LOGINROCKET_URL.
    let loginrocket = match &demo {
        Some(realm) => Some(realm.loginrocket_url()),
        None => std::env::var("LOGINROCKET_URL").ok(),
    };
    let home: std::sync::Arc<str> = match loginrocket {
        Some(url) => LOGIN_PAGE.replace("{{LOGINROCKET_URL}}", &url).into(),
        None => "".into(),
    };
    let auth = AuthRocketLayer::new(verifier);
    let mut app = Router::new()
        .route("/me", get(me))
        .route_layer(auth.clone())
        .route("/logout", get(logout).layer(auth.clone().optional()))
        .route("/", get(move || async move { page(&home) }))
        .route("/healthz", get(|| async { "ok\n" }));
    if let Some(verifier) = events {
        app = app.route("/authrocket/events", events_route(verifier));
    }
    #[cfg(feature = "metrics")]
    {
        app = app.route(
            "/metrics",
            get(move || {
                let rendered = prometheus.render();
                async move { rendered }
            }),
        );
    }
    // LoginRocket Web's redirect flow: `?token=` becomes the `arToken` cookie.
    let app = app.layer(LoginRedirectLayer::new(&auth));

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    say(format_args!("listening on http://{addr}"));
    if let Some(realm) = &demo {
        // The page calls the realm's browser API from this origin.
        realm.allow_origin(format!("http://{addr}"));
        realm.allow_origin(format!("http://localhost:{}", addr.port()));
        let login = realm.login("demo@example.com");
        say(format_args!(
            "no AuthRocket settings found: using an embedded fake realm at {}",
            realm.url()
        ));
        say(format_args!("loginrocket url: {}", realm.loginrocket_url()));
        say(format_args!(
            "demo login: {} {}",
            login.user.email,
            authrocket_testkit::DEMO_PASSWORD
        ));
        say(format_args!("open http://{addr}/ and log in"));
        say(format_args!("demo token: {}", login.token));
        say(format_args!(
            "try: curl -H \"Authorization: Bearer {}\" http://{addr}/me",
            login.token
        ));
        realm.deliver_events_to(format!("http://{addr}/authrocket/events"));
        say(format_args!(
            "demo logout: {}logout?session={}",
            realm.loginrocket_url(),
            login.session_id
        ));
        say(format_args!(
            "(open it, or curl it, then try /me again: 401 revoked, though the token is offline-valid)"
        ));
    }
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

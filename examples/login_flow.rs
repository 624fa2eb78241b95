//! The browser flow, end to end: `cargo run --example login_flow`.
//!
//! An app with a public home page, a dashboard that needs a login, and a logout link —
//! signed in through LoginRocket (here the embedded fake realm's login and logout pages).
//! The example then plays the browser, following each redirect and printing it:
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
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
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
    tokio::spawn(async move { axum::serve(listener, app).await });

    // The "browser": follows redirects by hand and keeps the one cookie.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut cookie: Option<String> = None;
    let mut url = format!("{app_url}/dashboard");
    for step in 1..=10 {
        let mut req = browser.get(&url);
        if let Some(c) = &cookie {
            req = req.header(COOKIE, c);
        }
        let res = req.send().await?;
        let status = res.status();
        let set_cookie = res
            .headers()
            .get(SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let location = res
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = res.text().await?;
        let body = if body.is_empty() {
            String::new()
        } else {
            format!(": {body}")
        };
        println!("{step}. GET {} → {status}{body}", shorten(&url));
        if let Some(set) = set_cookie {
            println!("     set-cookie: {}", shorten(&set));
            let pair = set.split(';').next().unwrap_or_default().to_owned();
            cookie = (!pair.ends_with('=')).then_some(pair);
        }
        match location {
            Some(next) if next.starts_with('/') => url = format!("{app_url}{next}"),
            Some(next) => url = next,
            None if url.ends_with("/dashboard") => url = format!("{app_url}/logout"),
            None => break,
        }
    }
    println!(
        "LoginRocket login pages served: {}, logouts: {}",
        realm.requests("/login"),
        realm.requests("/logout")
    );
    Ok(())
}

/// Long tokens make unreadable lines: keep their first characters.
fn shorten(s: &str) -> String {
    let mut out = String::new();
    for part in s.split_inclusive(['=', '&']) {
        if part.len() > 60 {
            out.push_str(&part[..24]);
            out.push('…')
        } else {
            out.push_str(part)
        }
    }
    out
}

//! Logins in a real browser (headless Chromium, driven over the DevTools protocol):
//!
//! * the reference server's demo page (`cargo run --example server`): a wrong password, the
//!   right one (the user shown, fetched from `/me`), logout (`/me` refuses the token), and
//!   LoginRocket Web's redirect flow from the same page;
//! * an app on a plain-http origin that is not localhost (`app.test`, mapped to 127.0.0.1),
//!   logging in through LoginRocket's redirect (the fake realm's login page), seeing the
//!   cookie, logging out, and the next page anonymous. Offline verification, so only the
//!   cookie decides whether the browser is signed in: a logout that leaves it behind would
//!   show.

mod common;

use authrocket::{AuthRocketLayer, CurrentUser, LoginRedirectLayer, LoginRequired, Logout};
use authrocket_testkit::FakeRealm;
use authrocket_verify::Verifier;
use axum::Router;
use axum::response::Response;
use axum::routing::get;
use common::chromium::Browser;
use common::server;

async fn home(user: Option<CurrentUser>) -> String {
    match user {
        Some(u) => format!("home: signed in as {}", u.email().unwrap_or(u.id())),
        None => "home: anonymous".to_owned(),
    }
}

async fn dashboard(LoginRequired(user): LoginRequired) -> String {
    format!("dashboard of {}", user.email().unwrap_or(user.id()))
}

async fn logout(logout: Logout) -> Response {
    logout.redirect_to("/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_and_logout_on_a_plain_http_host_in_chromium() {
    let run = async {
        let realm = FakeRealm::start().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let app_url = format!("http://app.test:{}", listener.local_addr().unwrap().port());
        let verifier = Verifier::builder()
            .loginrocket_url(realm.loginrocket_url())
            .realm(realm.realm_id())
            .app_url(&app_url)
            .build()
            .unwrap();
        let auth = AuthRocketLayer::new(verifier).optional();
        let app = Router::new()
            .route("/", get(home))
            .route("/dashboard", get(dashboard))
            .route("/logout", get(logout))
            .layer(auth.clone())
            .layer(LoginRedirectLayer::new(&auth));
        tokio::spawn(async move { axum::serve(listener, app).await });

        let mut browser = Browser::start("MAP app.test 127.0.0.1").await;
        // Not signed in: LoginRequired sends the browser to LoginRocket, which logs the demo
        // user in and sends it back with ?token=; the login helper sets the cookie and
        // redirects to the bare path.
        let page = browser
            .open(
                &format!("{app_url}/dashboard"),
                &format!("{app_url}/dashboard"),
            )
            .await;
        assert_eq!(page.trim(), "dashboard of demo@example.com");
        let cookies = browser.cookies(&format!("{app_url}/")).await;
        let token = cookies
            .iter()
            .find(|c| c["name"] == "arToken")
            .unwrap_or_else(|| panic!("the token cookie is set: {cookies:?}"));
        assert_eq!(token["httpOnly"], true);
        assert_eq!(token["secure"], false, "plain http: no Secure");
        let page = browser
            .open(&format!("{app_url}/"), &format!("{app_url}/"))
            .await;
        assert_eq!(page.trim(), "home: signed in as demo@example.com");

        // Logout: the cookie is cleared (with the attributes it was set with, or Chromium
        // would refuse), LoginRocket ends the session and sends the browser home.
        let page = browser
            .open(&format!("{app_url}/logout"), &format!("{app_url}/"))
            .await;
        assert_eq!(page.trim(), "home: anonymous");
        let cookies = browser.cookies(&format!("{app_url}/")).await;
        assert!(
            cookies.iter().all(|c| c["name"] != "arToken"),
            "the token cookie is gone: {cookies:?}"
        );
        let page = browser
            .open(&format!("{app_url}/"), &format!("{app_url}/"))
            .await;
        assert_eq!(page.trim(), "home: anonymous");
        assert_eq!(
            (realm.requests("/login"), realm.requests("/logout")),
            (1, 1)
        );
    };
    tokio::time::timeout(std::time::Duration::from_secs(90), run)
        .await
        .expect("the browser test finished within 90 s");
}

/// Set the login form's fields and submit it.
async fn submit(browser: &mut Browser, email: &str, password: &str) {
    let js = format!(
        "document.getElementById('email').value = {email:?}; \
         document.getElementById('password').value = {password:?}; \
         document.getElementById('submit').click(); true"
    );
    assert_eq!(browser.eval(&js).await, serde_json::json!(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_page_logs_in_and_out_in_chromium() {
    let run = async {
        let server = server::start();
        let (email, password) = server.demo_login.clone();
        assert!(
            !server.loginrocket.is_empty(),
            "the server printed its LoginRocket URL"
        );
        let home = format!("{}/", server.base);
        let mut browser = Browser::start("MAP demo.invalid 127.0.0.1").await;
        browser.open(&home, &home).await;
        browser
            .wait_for("login-form", "!document.getElementById('login').hidden")
            .await;

        // A wrong password: LoginRocket's error shows, nobody is signed in.
        submit(&mut browser, &email, "not-the-password").await;
        browser
            .wait_for(
                "login-error",
                "document.getElementById('error').textContent.length > 0",
            )
            .await;
        let error = browser
            .eval("document.getElementById('error').textContent")
            .await;
        assert!(
            error.as_str().unwrap().starts_with("Login failed"),
            "{error}"
        );
        assert_eq!(
            browser.eval("localStorage.getItem('arToken')").await,
            serde_json::Value::Null
        );

        // The right one: the page keeps the token and shows who /me says it is.
        submit(&mut browser, &email, &password).await;
        browser
            .wait_for("signed-in", "!document.getElementById('signed-in').hidden")
            .await;
        let name = browser
            .eval("document.getElementById('user-name').textContent")
            .await;
        assert_eq!(name, "Demo Example");
        let orgs = browser
            .eval("document.getElementById('orgs').textContent")
            .await;
        assert!(orgs.as_str().unwrap().contains("Example Corp"), "{orgs}");
        if let Ok(path) = std::env::var("AUTHROCKET_DEMO_SCREENSHOT") {
            browser.screenshot(std::path::Path::new(&path)).await;
        }
        let token = browser.eval("localStorage.getItem('arToken')").await;
        let token = token
            .as_str()
            .expect("the token is kept as arToken")
            .to_owned();
        let me_with = |token: &str| {
            format!(
                "fetch('/me', {{headers: {{Authorization: 'Bearer ' + {token:?}}}}}).then(r => r.status)"
            )
        };
        assert_eq!(browser.eval_async(&me_with(&token)).await, 200);

        // Logout ends the session at LoginRocket: the page shows the form again, and the
        // server refuses the token (the realm's session.deleted event reached it).
        browser
            .eval("document.getElementById('logout').click(); true")
            .await;
        browser
            .wait_for("logged-out", "!document.getElementById('login').hidden")
            .await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while browser.eval_async(&me_with(&token)).await != 401 {
            assert!(
                std::time::Instant::now() < deadline,
                "/me still accepts the token"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }

        // LoginRocket Web's redirect flow from the same page: `?token=` becomes a cookie.
        browser
            .eval("document.getElementById('lr-web').click(); true")
            .await;
        browser
            .wait_for(
                "redirect-login",
                "location.href === document.location.origin + '/' && \
                 !document.getElementById('signed-in').hidden",
            )
            .await;
        assert_eq!(browser.eval("location.href").await, serde_json::json!(home));
        let cookies = browser.cookies(&home).await;
        assert!(
            cookies.iter().any(|c| c["name"] == "arToken"),
            "{cookies:?}"
        );
        browser
            .eval("document.getElementById('logout').click(); true")
            .await;
        browser
            .wait_for(
                "redirect-logout",
                "location.href === document.location.origin + '/' && \
                 !document.getElementById('login').hidden",
            )
            .await;
        let cookies = browser.cookies(&home).await;
        assert!(
            cookies.iter().all(|c| c["name"] != "arToken"),
            "{cookies:?}"
        );
    };
    tokio::time::timeout(std::time::Duration::from_secs(120), run)
        .await
        .expect("the demo page test finished within 120 s");
}

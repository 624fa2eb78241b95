//! The login flow in a real browser: headless Chromium on a plain-http origin that is not
//! localhost (`app.test`, mapped to 127.0.0.1), logging in through LoginRocket's redirect
//! (the fake realm's login page), seeing the cookie, logging out, and the next page
//! anonymous. Offline verification, so only the cookie decides whether the browser is
//! signed in: a logout that leaves it behind would show.

mod common;

use authrocket::{AuthRocketLayer, CurrentUser, LoginRedirectLayer, LoginRequired, Logout};
use authrocket_testkit::FakeRealm;
use authrocket_verify::Verifier;
use axum::Router;
use axum::response::Response;
use axum::routing::get;
use common::chromium::Browser;

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

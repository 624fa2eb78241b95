//! `CurrentUser`, `LoginRequired`, `Logout` and `LoginRedirectLayer` on real routers.

use authrocket_axum::{AuthRocketLayer, CurrentUser, LoginRedirectLayer, LoginRequired, Logout};
use authrocket_testkit::{FakeRealm, bad};
use authrocket_verify::Verifier;
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use axum::routing::get;
use http::{StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn me(user: CurrentUser) -> String {
    format!(
        "{}|{}|{}",
        user.id(),
        user.name().unwrap_or("-"),
        user.email().unwrap_or("-")
    )
}

async fn maybe(user: Option<CurrentUser>) -> String {
    user.map_or_else(|| "anonymous".to_owned(), |u| u.id().to_owned())
}

async fn dashboard(LoginRequired(user): LoginRequired) -> String {
    format!("dashboard:{}", user.id())
}

async fn logout(logout: Logout) -> Response {
    logout.redirect_to("https://app.example.com/bye")
}

fn routes() -> Router {
    Router::new()
        .route("/me", get(me))
        .route("/maybe", get(maybe))
        .route("/dashboard", get(dashboard))
        .route("/logout", get(logout))
}

async fn realm_and_verifier() -> (FakeRealm, Verifier) {
    let realm = FakeRealm::start().await;
    let v = Verifier::builder()
        .loginrocket_url(realm.loginrocket_url())
        .realm(realm.realm_id())
        .build()
        .unwrap();
    (realm, v)
}

async fn get_with(
    router: &Router,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, http::HeaderMap, String) {
    let mut req = Request::builder()
        .uri(uri)
        .header(header::HOST, "app.example.com");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (parts, body) = res.into_parts();
    let body = String::from_utf8(body.collect().await.unwrap().to_bytes().to_vec()).unwrap();
    (parts.status, parts.headers, body)
}

#[tokio::test]
async fn current_user_present_absent_and_optional() {
    let (realm, v) = realm_and_verifier().await;
    let app = routes().layer(AuthRocketLayer::new(v).optional());
    let frank = realm.login("frank@example.com");
    let auth = format!("Bearer {}", frank.token);

    let (status, _, body) = get_with(&app, "/me", &[("authorization", &auth)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        format!("{}|Frank Example|frank@example.com", frank.user.id)
    );

    // Absent: `CurrentUser` answers the layer's 401, `Option<CurrentUser>` gives None.
    let (status, headers, body) = get_with(&app, "/me", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        headers[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .starts_with("Bearer realm=")
    );
    assert!(body.contains("missing_token"));
    let (status, _, body) = get_with(&app, "/maybe", &[]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "anonymous"));
    let (_, _, body) = get_with(&app, "/maybe", &[("authorization", &auth)]).await;
    assert_eq!(body, frank.user.id);

    // An invalid token in optional mode: CurrentUser says why.
    let expired = format!("Bearer {}", bad::expired(&realm.signing_key()));
    let (status, headers, body) = get_with(&app, "/me", &[("authorization", &expired)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        headers[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    assert!(body.contains("\"code\":\"expired\""));
}

#[tokio::test]
async fn missing_layer_is_a_loud_explained_500() {
    let app = routes();
    for uri in ["/me", "/maybe", "/dashboard", "/logout"] {
        let (status, _, body) = get_with(&app, uri, &[]).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{uri}");
        assert!(body.contains("AuthRocketLayer"), "{uri}: {body}");
    }
}

#[tokio::test]
async fn login_required_redirects_browsers_to_loginrocket() {
    let (realm, v) = realm_and_verifier().await;
    let app = routes().layer(AuthRocketLayer::new(v).optional());
    let (status, headers, _) = get_with(&app, "/dashboard?tab=2", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = headers[header::LOCATION].to_str().unwrap();
    assert_eq!(
        location,
        format!(
            "{}login?redirect_uri=https%3A%2F%2Fapp.example.com%2Fdashboard%3Ftab%3D2",
            realm.loginrocket_url()
        )
    );
    let frank = realm.login("frank@example.com");
    let (status, _, body) = get_with(
        &app,
        "/dashboard",
        &[("cookie", &format!("arToken={}", frank.token))],
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, format!("dashboard:{}", frank.user.id))
    );
}

#[tokio::test]
async fn logout_clears_the_cookie_and_redirects_with_the_session_id() {
    let (realm, v) = realm_and_verifier().await;
    let app = routes().layer(AuthRocketLayer::new(v).optional());
    let frank = realm.login("frank@example.com");
    let (status, headers, _) = get_with(
        &app,
        "/logout",
        &[("cookie", &format!("arToken={}", frank.token))],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers[header::LOCATION].to_str().unwrap(),
        format!(
            "{}logout?session={}&redirect_uri=https%3A%2F%2Fapp.example.com%2Fbye",
            realm.loginrocket_url(),
            frank.session_id
        )
    );
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.starts_with("arToken=;") && cookie.contains("Max-Age=0"),
        "{cookie}"
    );
}

#[tokio::test]
async fn login_redirect_sets_the_cookie_and_strips_exactly_three_parameters() {
    let (realm, v) = realm_and_verifier().await;
    let app = routes()
        .layer(AuthRocketLayer::new(v.clone()).optional())
        .layer(LoginRedirectLayer::new(v.clone()));
    let frank = realm.login("frank@example.com");
    let uri = format!(
        "/maybe?a=1&token={}&account=org_1&session=kss_x&b=two%20words",
        frank.token
    );
    let (status, headers, _) = get_with(&app, &uri, &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/maybe?a=1&b=two%20words");
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with(&format!("arToken={};", frank.token)));
    for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} in {cookie}");
    }
    let max_age: i64 = cookie
        .split("Max-Age=")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let left = frank.expires_at - authrocket_testkit::now();
    assert!(
        (left - 2..=left).contains(&max_age),
        "expires with the token: {max_age} vs {left}"
    );

    // Only the token: back to the bare path.
    let (_, headers, _) = get_with(&app, &format!("/maybe?token={}", frank.token), &[]).await;
    assert_eq!(headers[header::LOCATION], "/maybe");

    // The cookie then signs the browser in.
    let (_, _, body) = get_with(
        &app,
        "/maybe",
        &[("cookie", &format!("arToken={}", frank.token))],
    )
    .await;
    assert_eq!(body, frank.user.id);

    // An invalid ?token= is ignored: the request goes on, anonymous, no cookie.
    let uri = format!("/maybe?token={}&x=1", bad::expired(&realm.signing_key()));
    let (status, headers, body) = get_with(&app, &uri, &[]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "anonymous"));
    assert!(headers.get(header::SET_COOKIE).is_none());

    // Not on POST.
    let req = Request::builder()
        .method("POST")
        .uri(format!("/maybe?token={}", frank.token))
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn login_redirect_can_drop_secure_for_local_development() {
    let (realm, v) = realm_and_verifier().await;
    let app = routes().layer(LoginRedirectLayer::new(v).insecure_cookie_for_local_development());
    let frank = realm.login("frank@example.com");
    let (_, headers, _) = get_with(&app, &format!("/maybe?token={}", frank.token), &[]).await;
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        !cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}

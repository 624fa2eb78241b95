//! `CurrentUser`, `LoginRequired`, `Logout` and `LoginRedirectLayer` on real routers.

use authrocket_axum::{
    AuthRocketLayer, CurrentUser, LoginRedirectLayer, LoginRequired, Logout, events_route,
};
use authrocket_testkit::{FakeRealm, bad};
use authrocket_verify::{Verifier, VerifierBuilder};
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
    let v = builder(&realm)
        .app_url("https://app.example.com")
        .build()
        .unwrap();
    (realm, v)
}

fn builder(realm: &FakeRealm) -> VerifierBuilder {
    Verifier::builder()
        .loginrocket_url(realm.loginrocket_url())
        .realm(realm.realm_id())
}

async fn get_with(
    router: &Router,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, http::HeaderMap, String) {
    let mut req = Request::builder()
        .uri(uri)
        .header(header::HOST, "app.example.com")
        .body(Body::empty())
        .unwrap();
    for (k, v) in headers {
        let (name, value) = (
            header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            header::HeaderValue::from_str(v).unwrap(),
        );
        if name == header::HOST {
            req.headers_mut().insert(name, value);
        } else {
            req.headers_mut().append(name, value);
        }
    }
    let res = router.clone().oneshot(req).await.unwrap();
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
    // The app refuses the token at once, before LoginRocket (or its event) says anything.
    let bearer = format!("Bearer {}", frank.token);
    let (status, headers, _) = get_with(&app, "/me", &[("authorization", &bearer)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let challenge = headers[header::WWW_AUTHENTICATE].to_str().unwrap();
    assert!(challenge.contains("revoked"), "{challenge}");
}

#[tokio::test]
async fn events_route_takes_deliveries_outside_a_required_layer() {
    let realm = FakeRealm::start().await;
    let v = builder(&realm)
        .authrocket_url(realm.api_url())
        .api_key(realm.api_key())
        .build()
        .unwrap();
    let app = routes()
        .layer(AuthRocketLayer::new(v.clone()))
        .route("/authrocket/events", events_route(v.clone()));
    let frank = realm.login("frank@example.com");
    let bearer = format!("Bearer {}", frank.token);
    assert_eq!(
        get_with(&app, "/me", &[("authorization", &bearer)]).await.0,
        StatusCode::OK
    );

    realm.revoke(&frank);
    let delivery = Request::post("/authrocket/events")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(realm.events()[0].to_string()))
        .unwrap();
    let res = app.clone().oneshot(delivery).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], br#"{"result":"applied"}"#);

    let (status, headers, _) = get_with(&app, "/me", &[("authorization", &bearer)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        headers[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .contains("revoked")
    );
}

#[tokio::test]
async fn login_redirect_sets_the_cookie_and_strips_exactly_three_parameters() {
    let (realm, v) = realm_and_verifier().await;
    let auth = AuthRocketLayer::new(v.clone()).optional();
    let app = routes()
        .layer(auth.clone())
        .layer(LoginRedirectLayer::new(&auth));
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
    let auth = AuthRocketLayer::new(v).insecure_cookie_for_local_development();
    let app = routes().layer(LoginRedirectLayer::new(&auth));
    let frank = realm.login("frank@example.com");
    let (_, headers, _) = get_with(&app, &format!("/maybe?token={}", frank.token), &[]).await;
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        !cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}

/// A router that answers every path (as a fallback would), behind the login helper.
fn any_path(auth: &AuthRocketLayer) -> Router {
    Router::new()
        .fallback(|| async { "fallback" })
        .layer(auth.clone())
        .layer(LoginRedirectLayer::new(auth))
}

#[tokio::test]
async fn login_redirect_location_stays_on_the_app() {
    let (realm, v) = realm_and_verifier().await;
    let app = any_path(&AuthRocketLayer::new(v).optional());
    let token = realm.login("frank@example.com").token;
    let base = url::Url::parse("https://app.example.com/").unwrap();
    for (path, expected) in [
        ("//evil.example/", "/evil.example/"),
        ("/\\evil.example/", "/evil.example/"),
        ("/\\/evil.example", "/evil.example"),
        ("///evil.example", "/evil.example"),
        ("/fine/path", "/fine/path"),
    ] {
        let (status, headers, _) = get_with(&app, &format!("{path}?token={token}&x=1"), &[]).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
        let location = headers[header::LOCATION].to_str().unwrap();
        assert_eq!(location, format!("{expected}?x=1"), "{path}");
        let target = base.join(location).unwrap();
        assert_eq!(target.origin(), base.origin(), "{path} -> {location}");
    }
}

/// The `redirect_uri` in LoginRequired's redirect, decoded; `None` when left out.
async fn login_redirect_uri(app: &Router, uri: &str, headers: &[(&str, &str)]) -> Option<String> {
    let (status, h, _) = get_with(app, uri, headers).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = url::Url::parse(h[header::LOCATION].to_str().unwrap()).unwrap();
    let back = location
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned());
    if let Some(back) = &back {
        let back = url::Url::parse(back).unwrap();
        assert!(matches!(back.scheme(), "http" | "https"), "{back}");
        for (k, _) in back.query_pairs() {
            assert!(
                !["token", "account", "session"].contains(&k.as_ref()),
                "{back}"
            );
        }
    }
    back
}

#[tokio::test]
async fn redirect_uris_come_from_the_app_url_or_what_can_be_trusted() {
    let realm = FakeRealm::start().await;
    let junk = "/dashboard?tab=2&token=x.y.z&account=org_1&session=kss_1";
    // A configured app URL wins over anything the request says.
    let v = builder(&realm)
        .app_url("http://app.test:8080")
        .build()
        .unwrap();
    let app = routes().layer(AuthRocketLayer::new(v).optional());
    let forged = [
        ("host", "evil.example"),
        ("x-forwarded-proto", "javascript:"),
    ];
    assert_eq!(
        login_redirect_uri(&app, junk, &forged).await.as_deref(),
        Some("http://app.test:8080/dashboard?tab=2")
    );

    // Without one, only a loopback Host is believed, over http.
    let v = builder(&realm)
        .trusted_proxies(["10.0.0.0/8"])
        .build()
        .unwrap();
    let app = routes().layer(AuthRocketLayer::new(v).optional());
    type Headers<'a> = &'a [(&'a str, &'a str)];
    let cases: [(Headers, Option<&str>); 5] = [
        (
            &[("host", "localhost:3000")],
            Some("http://localhost:3000/dashboard?tab=2"),
        ),
        (
            &[("host", "127.0.0.1:3000"), ("x-forwarded-proto", "https")],
            Some("http://127.0.0.1:3000/dashboard?tab=2"),
        ),
        (
            &[("host", "[::1]:3000")],
            Some("http://[::1]:3000/dashboard?tab=2"),
        ),
        (&[("host", "evil.example")], None),
        (
            &[("host", "evil.example"), ("x-forwarded-host", "localhost")],
            None,
        ),
    ];
    for (headers, expected) in cases {
        assert_eq!(
            login_redirect_uri(&app, junk, headers).await.as_deref(),
            expected,
            "{headers:?}"
        );
    }

    // A trusted proxy's X-Forwarded-* are believed, http and https only.
    let from = |ip: [u8; 4]| axum::extract::ConnectInfo(std::net::SocketAddr::from((ip, 40000)));
    let behind = |ip: [u8; 4], proto: &str| {
        let mut req = Request::builder()
            .uri(junk)
            .header("host", "internal:8080")
            .header("x-forwarded-proto", proto)
            .header("x-forwarded-host", "app.example.com")
            .body(Body::empty())
            .unwrap();
        req.extensions_mut().insert(from(ip));
        req
    };
    for (ip, proto, expected) in [
        (
            [10, 1, 2, 3],
            "https",
            Some("https://app.example.com/dashboard?tab=2"),
        ),
        ([10, 1, 2, 3], "javascript", None),
        ([192, 168, 1, 5], "https", None),
    ] {
        let res = app.clone().oneshot(behind(ip, proto)).await.unwrap();
        let location = url::Url::parse(res.headers()[header::LOCATION].to_str().unwrap()).unwrap();
        let back = location
            .query_pairs()
            .find(|(k, _)| k == "redirect_uri")
            .map(|(_, v)| v.into_owned());
        assert_eq!(back.as_deref(), expected, "{ip:?} {proto}");
    }
}

#[tokio::test]
async fn logout_returns_to_the_app_without_login_params() {
    let realm = FakeRealm::start().await;
    let v = builder(&realm)
        .app_url("http://app.test:8080")
        .build()
        .unwrap();
    let back_to =
        |target: &'static str| move |logout: Logout| async move { logout.redirect_to(target) };
    let app = Router::new()
        .route("/home", get(back_to("/?token=x&session=y&k=1")))
        .route(
            "/away",
            get(back_to("https://elsewhere.example/?account=a")),
        )
        .route("/script", get(back_to("javascript:alert(1)")))
        .layer(AuthRocketLayer::new(v).optional());
    let redirect_uri = |headers: &http::HeaderMap| {
        let location = url::Url::parse(headers[header::LOCATION].to_str().unwrap()).unwrap();
        location
            .query_pairs()
            .find(|(k, _)| k == "redirect_uri")
            .map(|(_, v)| v.into_owned())
    };
    let (_, h, _) = get_with(&app, "/home", &[]).await;
    assert_eq!(
        redirect_uri(&h).as_deref(),
        Some("http://app.test:8080/?k=1")
    );
    let (_, h, _) = get_with(&app, "/away", &[]).await;
    assert_eq!(
        redirect_uri(&h).as_deref(),
        Some("https://elsewhere.example/")
    );
    let (_, h, _) = get_with(&app, "/script", &[]).await;
    assert_eq!(redirect_uri(&h), None);
}

/// The attributes of a `Set-Cookie` value, without its name=value and lifetime.
fn attributes(set_cookie: &str) -> Vec<String> {
    let mut attrs: Vec<String> = set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.starts_with("Max-Age") && !a.starts_with("Expires"))
        .collect();
    attrs.sort();
    attrs
}

#[tokio::test]
async fn the_cookie_is_cleared_with_the_attributes_it_was_set_with() {
    let realm = FakeRealm::start().await;
    let frank = realm.login("frank@example.com");
    let expired = bad::expired(&realm.signing_key());
    for (app_url, secure) in [
        ("http://app.test:8080", false),
        ("https://app.example.com", true),
    ] {
        let v = builder(&realm).app_url(app_url).build().unwrap();
        let auth = AuthRocketLayer::new(v).optional();
        let app = routes()
            .layer(auth.clone())
            .layer(LoginRedirectLayer::new(&auth));
        let (_, h, _) = get_with(&app, &format!("/maybe?token={}", frank.token), &[]).await;
        let set = h[header::SET_COOKIE].to_str().unwrap().to_owned();
        assert_eq!(set.contains("Secure"), secure, "{app_url}: {set}");
        let cookie = format!("arToken={}", frank.token);
        let (_, h, _) = get_with(&app, "/logout", &[("cookie", &cookie)]).await;
        let cleared_on_logout = h[header::SET_COOKIE].to_str().unwrap().to_owned();
        let cookie = format!("arToken={expired}");
        let (_, h, _) = get_with(&app, "/maybe", &[("cookie", &cookie)]).await;
        let cleared_by_layer = h[header::SET_COOKIE].to_str().unwrap().to_owned();
        for cleared in [&cleared_on_logout, &cleared_by_layer] {
            assert!(cleared.starts_with("arToken=;"), "{cleared}");
            assert_eq!(
                attributes(cleared),
                attributes(&set),
                "{app_url}: {cleared} vs {set}"
            );
        }
    }
}

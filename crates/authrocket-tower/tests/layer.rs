//! The layer over a real axum `Router` (`oneshot`) for every row of SPEC §6's table, in both
//! modes, and once over a real socket.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use authrocket_testkit::{FakeRealm, Fault, SigningKey, TokenBuilder, bad};
use authrocket_tower::{AuthContext, AuthRocketLayer, Rejection, RequirePermissionLayer};
use authrocket_verify::{Session, Verifier, VerifyMode};
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::routing::get;
use http::{HeaderMap, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

const SECRET: &str = "jsk_layer_tests_secret";

fn offline() -> Verifier {
    Verifier::builder().jwt_key(SECRET).build().unwrap()
}

fn key() -> SigningKey {
    SigningKey::hs256(SECRET)
}

/// A router whose handler reports who it saw, and counts how often it ran.
fn app(layer: AuthRocketLayer) -> (Router, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let router = Router::new()
        .route(
            "/who",
            get(move |req: Request| {
                let counter = counter.clone();
                async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let ctx = req
                        .extensions()
                        .get::<AuthContext>()
                        .expect("context always set");
                    let session = req.extensions().get::<Session>();
                    assert_eq!(
                        session.map(Session::user_id),
                        ctx.session().map(Session::user_id)
                    );
                    match session {
                        Some(s) => s.user_id().to_owned(),
                        None => format!("anonymous:{}", ctx.error().map_or("none", |e| e.code())),
                    }
                }
            }),
        )
        .layer(layer);
    (router, calls)
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("JSON body: {}", self.body))
    }
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_else(|| panic!("no {name}"))
    }
}

async fn send(router: &Router, headers: &[(&str, &str)]) -> Answer {
    let mut req = Request::builder().uri("/who");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    Answer {
        status,
        headers,
        body,
    }
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn valid_tokens_reach_the_handler_from_bearer_and_cookie() {
    let (router, calls) = app(AuthRocketLayer::new(offline()));
    let token = TokenBuilder::v2("usr_frank").sign(&key());
    for auth in [
        bearer(&token),
        format!("bearer {token}"),
        format!("BEARER  {token}"),
    ] {
        let a = send(&router, &[("authorization", &auth)]).await;
        assert_eq!((a.status, a.body.as_str()), (StatusCode::OK, "usr_frank"));
    }
    let a = send(
        &router,
        &[("cookie", &format!("theme=dark; arToken={token}"))],
    )
    .await;
    assert_eq!((a.status, a.body.as_str()), (StatusCode::OK, "usr_frank"));
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn required_mode_no_token_is_401_with_a_bearer_challenge() {
    let (router, calls) = app(AuthRocketLayer::new(offline()).realm_name("my-api"));
    for headers in [
        &[][..],
        &[("authorization", "Basic dXNlcjpwYXNz")][..],
        &[("cookie", "other=1")][..],
    ] {
        let a = send(&router, headers).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(a.header("www-authenticate"), "Bearer realm=\"my-api\"");
        assert_eq!(a.header("content-type"), "application/json");
        assert_eq!(a.json()["error"], "missing_token");
        assert_eq!(a.json()["code"], "missing_token");
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "no rejected request reaches the handler"
    );
}

#[tokio::test]
async fn required_mode_invalid_tokens_are_401_invalid_token() {
    let (router, calls) = app(AuthRocketLayer::new(offline()));
    let cases = [
        (bad::expired(&key()), "expired"),
        (bad::tampered_signature(&key()), "bad_signature"),
        (bad::foreign_issuer(&key()), "wrong_issuer"),
        (bad::wrong_key(&key()), "bad_signature"),
        (bad::alg_none(), "malformed"),
        (bad::garbage(), "malformed"),
        // (`Bearer` with an empty credential is a 400 invalid_request now: see
        // ambiguous_or_unreadable_credentials_are_invalid_request.)
    ];
    for (token, code) in &cases {
        let a = send(&router, &[("authorization", &bearer(token))]).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{code}");
        assert_eq!(a.json()["code"], *code);
        if *code != "missing_token" {
            let challenge = a.header("www-authenticate");
            assert!(
                challenge.starts_with(
                    "Bearer realm=\"authrocket\", error=\"invalid_token\", error_description=\""
                ),
                "{challenge}"
            );
            assert_eq!(a.json()["error"], "invalid_token");
            assert!(!a.json()["error_description"].as_str().unwrap().is_empty());
        }
        // Nothing of the token comes back.
        if token.len() > 10 {
            assert!(
                !a.body.contains(token.as_str())
                    && !format!("{:?}", a.headers).contains(token.as_str())
            );
        }
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn expired_token_body_is_small_json() {
    let (router, _) = app(AuthRocketLayer::new(offline()));
    let a = send(
        &router,
        &[("authorization", &bearer(&bad::expired(&key())))],
    )
    .await;
    assert_eq!(
        a.json(),
        serde_json::json!({"error": "invalid_token", "error_description": "token has expired", "code": "expired"})
    );
    assert!(a.body.len() < 200);
}

async fn online_realm() -> (FakeRealm, Verifier) {
    let realm = FakeRealm::start().await;
    let v = Verifier::builder()
        .mode(VerifyMode::Online)
        .authrocket_url(realm.api_url())
        .api_key(realm.api_key())
        .realm(realm.realm_id())
        .build()
        .unwrap();
    (realm, v)
}

#[tokio::test]
async fn revoked_and_unavailable_in_required_mode() {
    let (realm, v) = online_realm().await;
    let (router, calls) = app(AuthRocketLayer::new(v));
    let frank = realm.login("frank@example.com");
    realm.revoke(&frank);
    let a = send(&router, &[("authorization", &bearer(&frank.token))]).await;
    assert_eq!(
        (a.status, a.json()["code"].as_str().unwrap()),
        (StatusCode::UNAUTHORIZED, "revoked")
    );

    let anna = realm.login("anna@example.com");
    realm.fail_next(1, Fault::Status(502));
    let a = send(&router, &[("authorization", &bearer(&anna.token))]).await;
    assert_eq!(
        a.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "upstream trouble is 503, never 2xx"
    );
    assert_eq!(a.header("retry-after"), "5");
    assert_eq!(a.json()["error"], "temporarily_unavailable");
    assert_eq!(a.json()["code"], "unavailable");

    realm.fail_next(1, Fault::Status(403));
    let a = send(&router, &[("authorization", &bearer(&anna.token))]).await;
    assert_eq!(
        (a.status, a.json()["code"].as_str().unwrap()),
        (StatusCode::SERVICE_UNAVAILABLE, "api_credentials")
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    let a = send(&router, &[("authorization", &bearer(&anna.token))]).await;
    assert_eq!(
        (a.status, a.body.as_str()),
        (StatusCode::OK, anna.user.id.as_str())
    );

    // Last, because a 429 holds the API for everyone for its Retry-After: a new login then
    // gets 503 at once, told how long is left, while anna's cached session keeps working.
    let bob = realm.login("bob@example.com");
    realm.fail_next(1, Fault::RateLimited { retry_after: 42 });
    let a = send(&router, &[("authorization", &bearer(&bob.token))]).await;
    assert_eq!(
        (a.status, a.header("retry-after")),
        (StatusCode::SERVICE_UNAVAILABLE, "42")
    );
    let calls_to_api = realm.requests("/v2/sessions");
    let carl = realm.login("carl@example.com");
    let a = send(&router, &[("authorization", &bearer(&carl.token))]).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    let left: u64 = a.header("retry-after").parse().unwrap();
    assert!((41..=42).contains(&left), "{left}");
    assert_eq!(realm.requests("/v2/sessions"), calls_to_api);
    let a = send(&router, &[("authorization", &bearer(&anna.token))]).await;
    assert_eq!(a.status, StatusCode::OK);
}

#[tokio::test]
async fn optional_mode_passes_without_a_user_and_clears_bad_cookies() {
    let (realm, v) = online_realm().await;
    let (router, calls) = app(AuthRocketLayer::new(v).optional());
    // No token.
    let a = send(&router, &[]).await;
    assert_eq!(
        (a.status, a.body.as_str()),
        (StatusCode::OK, "anonymous:none")
    );
    assert!(a.headers.get("set-cookie").is_none());
    // Invalid bearer: passes, no cookie to clear.
    let a = send(&router, &[("authorization", &bearer(&bad::garbage()))]).await;
    assert_eq!(
        (a.status, a.body.as_str()),
        (StatusCode::OK, "anonymous:malformed")
    );
    assert!(a.headers.get("set-cookie").is_none());
    // Revoked token in the cookie: passes, and the cookie is cleared.
    let frank = realm.login("frank@example.com");
    realm.revoke(&frank);
    let a = send(&router, &[("cookie", &format!("arToken={}", frank.token))]).await;
    assert_eq!(
        (a.status, a.body.as_str()),
        (StatusCode::OK, "anonymous:revoked")
    );
    let cleared = a.header("set-cookie");
    assert!(
        cleared.starts_with("arToken=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    // Unavailable: passes anonymous, and the (maybe fine) cookie is kept.
    let anna = realm.login("anna@example.com");
    realm.fail_next(1, Fault::Status(503));
    let a = send(&router, &[("cookie", &format!("arToken={}", anna.token))]).await;
    assert_eq!(
        (a.status, a.body.as_str()),
        (StatusCode::OK, "anonymous:unavailable")
    );
    assert!(a.headers.get("set-cookie").is_none());
    // Valid.
    let a = send(&router, &[("cookie", &format!("arToken={}", anna.token))]).await;
    assert_eq!(
        (a.status, a.body.as_str()),
        (StatusCode::OK, anna.user.id.as_str())
    );
    assert_eq!(calls.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn grpc_requests_get_grpc_statuses() {
    let (realm, v) = online_realm().await;
    let (router, calls) = app(AuthRocketLayer::new(v.clone()));
    let grpc = ("content-type", "application/grpc+proto");
    let a = send(&router, &[grpc]).await;
    assert_eq!((a.status, a.header("grpc-status")), (StatusCode::OK, "16"));
    assert_eq!(a.header("content-type"), "application/grpc");
    assert!(a.header("grpc-message").contains("no token"));
    assert!(a.body.is_empty());
    let a = send(
        &router,
        &[grpc, ("authorization", &bearer(&bad::garbage()))],
    )
    .await;
    assert_eq!((a.status, a.header("grpc-status")), (StatusCode::OK, "16"));
    // Ambiguous credentials: INVALID_ARGUMENT.
    let a = send(
        &router,
        &[
            grpc,
            ("authorization", "Bearer a"),
            ("authorization", "Bearer b"),
        ],
    )
    .await;
    assert_eq!((a.status, a.header("grpc-status")), (StatusCode::OK, "3"));
    let frank = realm.login("frank@example.com");
    realm.fail_next(1, Fault::Status(500));
    let a = send(&router, &[grpc, ("authorization", &bearer(&frank.token))]).await;
    assert_eq!((a.status, a.header("grpc-status")), (StatusCode::OK, "14"));
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    // Optional mode lets them through, like HTTP.
    let (router, calls) = app(AuthRocketLayer::new(v).optional());
    let a = send(&router, &[grpc]).await;
    assert_eq!(
        (a.status, a.body.as_str()),
        (StatusCode::OK, "anonymous:none")
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn token_sources_are_configurable() {
    let token = TokenBuilder::v2("usr_src").sign(&key());
    let (router, _) = app(AuthRocketLayer::new(offline())
        .without_bearer()
        .cookie_name("sess"));
    assert_eq!(
        send(&router, &[("authorization", &bearer(&token))])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&router, &[("cookie", &format!("arToken={token}"))])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&router, &[("cookie", &format!("sess={token}"))])
            .await
            .body,
        "usr_src"
    );
    let (router, _) = app(AuthRocketLayer::new(offline())
        .without_cookie()
        .token_header(http::HeaderName::from_static("x-ar-token")));
    assert_eq!(
        send(&router, &[("cookie", &format!("arToken={token}"))])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&router, &[("x-ar-token", &token)]).await.body,
        "usr_src"
    );
    // Query strings are never read by the layer.
    let res = router
        .clone()
        .oneshot(
            Request::builder()
                .uri(format!("/who?token={token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn rejections_can_be_rendered_by_the_user() {
    let layer = AuthRocketLayer::new(offline()).render_rejection(|r: &Rejection<'_>| {
        http::Response::builder()
            .status(r.status())
            .header("x-why", r.error.code())
            .body(bytes::Bytes::from_static(b"custom"))
            .unwrap()
    });
    let (router, _) = app(layer);
    let a = send(
        &router,
        &[("authorization", &bearer(&bad::expired(&key())))],
    )
    .await;
    assert_eq!(
        (a.status, a.header("x-why"), a.body.as_str()),
        (StatusCode::UNAUTHORIZED, "expired", "custom")
    );
}

#[tokio::test]
async fn permission_guard_answers_403_insufficient_scope() {
    let verifier = offline();
    let router = Router::new()
        .route("/admin", get(|| async { "admin area" }))
        .layer(RequirePermissionLayer::new("ar:admin"))
        .layer(AuthRocketLayer::new(verifier.clone()).optional());
    let admin = TokenBuilder::v2("usr_a")
        .claim(
            "orgs",
            serde_json::json!([{"oid": "org_1", "perm": ["ar:admin"], "selected": true}]),
        )
        .sign(&key());
    let user = TokenBuilder::v2("usr_b")
        .claim(
            "orgs",
            serde_json::json!([{"oid": "org_1", "perm": ["billing:read"]}]),
        )
        .sign(&key());
    let call = |token: Option<String>| {
        let router = router.clone();
        async move {
            let mut req = Request::builder().uri("/admin");
            if let Some(t) = token {
                req = req.header(header::AUTHORIZATION, bearer(&t));
            }
            router
                .oneshot(req.body(Body::empty()).unwrap())
                .await
                .unwrap()
        }
    };
    assert_eq!(call(Some(admin)).await.status(), StatusCode::OK);
    let res = call(Some(user)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let challenge = res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert_eq!(
        call(None).await.status(),
        StatusCode::UNAUTHORIZED,
        "anonymous gets 401, not 403"
    );

    // Without the AuthRocket layer: a loud 500 that says what is missing.
    let bare = Router::new()
        .route("/admin", get(|| async { "x" }))
        .layer(RequirePermissionLayer::new("ar:admin"));
    let res = bare
        .oneshot(
            Request::builder()
                .uri("/admin")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("AuthRocketLayer"));
}

#[tokio::test]
async fn over_a_real_socket_with_reqwest() {
    let (router, calls) = app(AuthRocketLayer::new(offline()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/who");
    let token = TokenBuilder::v2("usr_socket").sign(&key());
    let ok = client.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(ok.status(), reqwest::StatusCode::OK);
    assert_eq!(ok.text().await.unwrap(), "usr_socket");
    let denied = client.get(&url).send().await.unwrap();
    assert_eq!(denied.status(), reqwest::StatusCode::UNAUTHORIZED);
    assert!(denied.headers().contains_key("www-authenticate"));
    let expired = client
        .get(&url)
        .bearer_auth(bad::expired(&key()))
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), reqwest::StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = serde_json::from_str(&expired.text().await.unwrap()).unwrap();
    assert_eq!(body["code"], "expired");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    server.abort();
}

#[tokio::test]
async fn the_layer_is_cheap_to_clone_and_debug_hides_secrets() {
    let layer = AuthRocketLayer::new(offline()).realm_name("r");
    let dbg = format!("{layer:?}");
    assert!(!dbg.contains(SECRET), "{dbg}");
    assert!(dbg.contains("Required"));
    let _clone = layer.clone();
}

#[tokio::test]
async fn ambiguous_or_unreadable_credentials_are_invalid_request() {
    let (router, calls) = app(AuthRocketLayer::new(offline()));
    let frank = TokenBuilder::v2("usr_frank").sign(&key());
    let mallory = TokenBuilder::v2("usr_mallory").sign(&key());
    let (frank_bearer, mallory_bearer) = (bearer(&frank), bearer(&mallory));
    let frank_cookie = format!("arToken={frank}");
    let two_cookies = format!("arToken={frank}; arToken={mallory}");
    let cases: [(&str, Vec<(&str, &str)>); 5] = [
        (
            "two Authorization fields",
            vec![
                ("authorization", &frank_bearer),
                ("authorization", &mallory_bearer),
            ],
        ),
        (
            "two arToken cookies with different values",
            vec![("cookie", &two_cookies)],
        ),
        (
            "a tab for the space, with a valid cookie",
            vec![
                ("authorization", "Bearer\tx.y.z"),
                ("cookie", &frank_cookie),
            ],
        ),
        (
            "an empty Bearer credential, with a valid cookie",
            vec![("authorization", "Bearer"), ("cookie", &frank_cookie)],
        ),
        (
            "two credentials in one field",
            vec![("authorization", "Bearer a.b.c d.e.f")],
        ),
    ];
    for (what, headers) in &cases {
        let a = send(&router, headers).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{what}");
        assert_eq!(a.json()["error"], "invalid_request", "{what}");
        assert_eq!(a.json()["code"], "invalid_request", "{what}");
        assert!(
            a.header("www-authenticate")
                .contains("error=\"invalid_request\""),
            "{what}"
        );
        assert!(!a.body.contains(&frank) && !a.body.contains(&mallory));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0, "no handler ran");
    // The same cookie twice is one credential.
    let same = format!("arToken={frank}; arToken={frank}");
    let a = send(&router, &[("cookie", &same)]).await;
    assert_eq!((a.status, a.body.as_str()), (StatusCode::OK, "usr_frank"));

    // Optional mode lets the request through anonymous, saying why.
    let (router, _) = app(AuthRocketLayer::new(offline()).optional());
    for (what, headers) in &cases {
        let a = send(&router, headers).await;
        assert_eq!(
            (a.status, a.body.as_str()),
            (StatusCode::OK, "anonymous:invalid_request"),
            "{what}"
        );
    }
}

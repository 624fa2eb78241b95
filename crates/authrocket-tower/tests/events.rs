//! Logouts seen everywhere: the fake realm ends sessions and delivers `session.deleted` over
//! real HTTP to an `EventReceiver` on a real socket, next to a route behind the layer; in
//! offline, online and hybrid mode alike.

use std::time::Duration;

use authrocket_testkit::{FakeRealm, Login, ManualClock, WebhookFault};
use authrocket_tower::{AuthRocketLayer, EventReceiver};
use authrocket_verify::{Session, Verifier, VerifierBuilder, VerifyMode};
use axum::Router;
use axum::extract::Request;
use axum::routing::get;
use serde_json::json;

const MODES: [VerifyMode; 3] = [VerifyMode::Offline, VerifyMode::Online, VerifyMode::Hybrid];

/// A verifier for `realm` in `mode`; the session API is configured in every mode (it
/// confirms events).
fn builder(realm: &FakeRealm, mode: VerifyMode) -> VerifierBuilder {
    let b = Verifier::builder()
        .mode(mode)
        .authrocket_url(realm.api_url())
        .api_key(realm.api_key())
        .realm(realm.realm_id());
    match mode {
        VerifyMode::Online => b,
        _ => b.loginrocket_url(realm.loginrocket_url()),
    }
}

/// The app under test, served on a real socket.
struct App {
    realm: FakeRealm,
    verifier: Verifier,
    base: String,
    client: reqwest::Client,
}

impl App {
    async fn start(mode: VerifyMode) -> Self {
        let realm = FakeRealm::start().await;
        let verifier = builder(&realm, mode).build().unwrap();
        Self::serve(realm, verifier).await
    }

    async fn serve(realm: FakeRealm, verifier: Verifier) -> Self {
        assert!(verifier.receives_events());
        let router = Router::new()
            .route(
                "/me",
                get(|req: Request| async move {
                    let session = req.extensions().get::<Session>().expect("verified");
                    session.session_id().unwrap_or_default().to_owned()
                }),
            )
            .layer(AuthRocketLayer::new(verifier.clone()))
            .route_service("/authrocket/events", EventReceiver::new(verifier.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        realm.deliver_events_to(format!("{base}/authrocket/events"));
        Self {
            realm,
            verifier,
            base,
            client: reqwest::Client::new(),
        }
    }

    /// `GET /me` with `login`'s token: `Ok(session id)` or `Err(code)`.
    async fn me(&self, login: &Login) -> Result<String, String> {
        let res = self
            .client
            .get(format!("{}/me", self.base))
            .bearer_auth(&login.token)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body = res.text().await.unwrap();
        if status == reqwest::StatusCode::OK {
            return Ok(body);
        }
        assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED, "{body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        Err(json["code"].as_str().unwrap().to_owned())
    }

    /// Post `body` to the receiver as a delivery would: the status and JSON answer.
    async fn deliver(&self, body: String) -> (u16, serde_json::Value) {
        let res = self
            .client
            .post(format!("{}/authrocket/events", self.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (
            status,
            serde_json::from_str(&res.text().await.unwrap()).unwrap(),
        )
    }

    fn session_calls(&self) -> u64 {
        self.realm.requests("/v2/sessions")
    }
}

/// Accepted, then deleted at the realm, then the webhook: the token is refused `revoked` at
/// once, without an API call, while another session of the same user still passes.
async fn a_deleted_session_is_refused_at_once(mode: VerifyMode) {
    let app = App::start(mode).await;
    let ann = app.realm.login("ann@example.com");
    let ann_elsewhere = app.realm.login("ann@example.com");
    // Warm every fast path: the cache and the hot table.
    for _ in 0..64 {
        assert_eq!(app.me(&ann).await.unwrap(), ann.session_id);
    }
    assert_eq!(
        app.me(&ann_elsewhere).await.unwrap(),
        ann_elsewhere.session_id
    );

    app.realm.revoke(&ann);
    let deliveries = app.realm.wait_for_deliveries(1).await;
    assert_eq!(deliveries[0].event_type, "session.deleted");
    assert_eq!(deliveries[0].status, Some(200), "{mode:?}");

    let calls = app.session_calls();
    for _ in 0..8 {
        assert_eq!(app.me(&ann).await.unwrap_err(), "revoked", "{mode:?}");
    }
    assert_eq!(
        app.session_calls(),
        calls,
        "{mode:?}: refused without asking"
    );
    assert_eq!(
        app.me(&ann_elsewhere).await.unwrap(),
        ann_elsewhere.session_id
    );
    assert_eq!(app.verifier.revoked_sessions(), 1);
}

#[tokio::test]
async fn offline_a_deleted_session_is_refused_at_once() {
    a_deleted_session_is_refused_at_once(VerifyMode::Offline).await;
}

#[tokio::test]
async fn online_a_deleted_session_is_refused_at_once() {
    a_deleted_session_is_refused_at_once(VerifyMode::Online).await;
}

#[tokio::test]
async fn hybrid_a_deleted_session_is_refused_at_once() {
    a_deleted_session_is_refused_at_once(VerifyMode::Hybrid).await;
}

/// A delivery the API does not know (forged) is answered 404 and changes nothing, whether
/// the realm sent it or anyone else did.
async fn a_forged_delivery_changes_nothing(mode: VerifyMode) {
    let app = App::start(mode).await;
    let ann = app.realm.login("ann@example.com");
    assert!(app.me(&ann).await.is_ok());
    let forged = |id: &str| {
        json!({"object": "event", "id": id, "event_type": "session.deleted",
               "session_id": ann.session_id, "user_id": ann.user.id,
               "expires_at": ann.expires_at})
        .to_string()
    };

    let (status, answer) = app.deliver(forged("ev_made_up")).await;
    assert_eq!((status, &answer["code"]), (404, &json!("unknown_event")));

    app.realm.fail_next_delivery(WebhookFault::Unknown);
    app.realm.send_event(
        "session.deleted",
        json!({"session_id": ann.session_id, "user_id": ann.user.id,
               "expires_at": ann.expires_at}),
    );
    let deliveries = app.realm.wait_for_deliveries(1).await;
    assert_eq!(deliveries[0].status, Some(404), "{mode:?}");

    assert_eq!(app.verifier.revoked_sessions(), 0);
    assert_eq!(app.me(&ann).await.unwrap(), ann.session_id, "{mode:?}");
    // Malformed is 400, and not a question for the API.
    let before = app.realm.requests("/v2/events");
    assert_eq!(app.deliver("{\"id\": 5}".into()).await.0, 400);
    assert_eq!(app.deliver("[]".into()).await.0, 400);
    assert_eq!(app.realm.requests("/v2/events"), before);
}

#[tokio::test]
async fn offline_a_forged_delivery_changes_nothing() {
    a_forged_delivery_changes_nothing(VerifyMode::Offline).await;
}

#[tokio::test]
async fn online_a_forged_delivery_changes_nothing() {
    a_forged_delivery_changes_nothing(VerifyMode::Online).await;
}

#[tokio::test]
async fn hybrid_a_forged_delivery_changes_nothing() {
    a_forged_delivery_changes_nothing(VerifyMode::Hybrid).await;
}

/// Duplicated and reordered deliveries are harmless: each event is applied once, in
/// whatever order, and the duplicate costs no API call.
async fn duplicates_and_reordering_are_harmless(mode: VerifyMode) {
    let app = App::start(mode).await;
    let [a, b, c, d] = ["a", "b", "c", "d"].map(|_| app.realm.login("ann@example.com"));
    for login in [&a, &b, &c, &d] {
        assert!(app.me(login).await.is_ok());
    }
    app.realm.fail_next_delivery(WebhookFault::Duplicate);
    app.realm.revoke(&a);
    app.realm.fail_next_delivery(WebhookFault::Reorder);
    app.realm.revoke(&b);
    app.realm.revoke(&c);
    let deliveries = app.realm.wait_for_deliveries(4).await;
    let order: Vec<&str> = deliveries.iter().map(|d| d.event_id.as_str()).collect();
    assert_eq!(order[0], order[1], "the duplicate");
    assert_ne!(order[2], order[3]);
    assert!(
        deliveries.iter().all(|d| d.status == Some(200)),
        "{deliveries:?}"
    );
    assert_eq!(
        app.realm.requests("/v2/events"),
        3,
        "the duplicate was not fetched"
    );

    for login in [&a, &b, &c] {
        assert_eq!(app.me(login).await.unwrap_err(), "revoked", "{mode:?}");
    }
    assert!(app.me(&d).await.is_ok());
    assert_eq!(app.verifier.revoked_sessions(), 3);

    // A duplicate much later, after the realm's own record of it: still nothing new.
    let event = app.realm.events()[0].to_string();
    let (status, answer) = app.deliver(event).await;
    assert_eq!((status, &answer["result"]), (200, &json!("duplicate")));
    assert_eq!(app.verifier.revoked_sessions(), 3);
}

#[tokio::test]
async fn offline_duplicates_and_reordering_are_harmless() {
    duplicates_and_reordering_are_harmless(VerifyMode::Offline).await;
}

#[tokio::test]
async fn online_duplicates_and_reordering_are_harmless() {
    duplicates_and_reordering_are_harmless(VerifyMode::Online).await;
}

#[tokio::test]
async fn hybrid_duplicates_and_reordering_are_harmless() {
    duplicates_and_reordering_are_harmless(VerifyMode::Hybrid).await;
}

/// With the API unreachable a delivery is answered 503 (AuthRocket retries) and nothing is
/// applied; the retry, once the API is back, applies it.
async fn api_down_is_503_and_nothing_applied(mode: VerifyMode) {
    let app = App::start(mode).await;
    let ann = app.realm.login("ann@example.com");
    assert!(app.me(&ann).await.is_ok());

    // The event endpoint drops every connection mid-answer (the client retries once).
    app.realm
        .fail_always_on("/v2/events", authrocket_testkit::Fault::DropConnection);
    app.realm.revoke(&ann);
    let deliveries = app.realm.wait_for_deliveries(1).await;
    assert_eq!(deliveries[0].status, Some(503), "{mode:?}");
    assert_eq!(app.verifier.revoked_sessions(), 0);
    if mode == VerifyMode::Offline {
        // Offline, nothing else stands between the token and the handler until the retry.
        assert!(app.me(&ann).await.is_ok());
    }

    app.realm.clear_faults();
    app.realm.redeliver_failed();
    let deliveries = app.realm.wait_for_deliveries(2).await;
    assert_eq!(deliveries[1].status, Some(200));
    assert_eq!(app.me(&ann).await.unwrap_err(), "revoked", "{mode:?}");
}

#[tokio::test]
async fn offline_api_down_is_503_and_nothing_applied() {
    api_down_is_503_and_nothing_applied(VerifyMode::Offline).await;
}

#[tokio::test]
async fn online_api_down_is_503_and_nothing_applied() {
    api_down_is_503_and_nothing_applied(VerifyMode::Online).await;
}

#[tokio::test]
async fn hybrid_api_down_is_503_and_nothing_applied() {
    api_down_is_503_and_nothing_applied(VerifyMode::Hybrid).await;
}

/// A revoked session stays in the set until its `expires_at` plus the leeway, then leaves.
#[tokio::test]
async fn entries_leave_the_set_once_their_session_would_have_expired() {
    for mode in MODES {
        let clock = ManualClock::new();
        let realm = FakeRealm::builder()
            .clock(clock.clone())
            .session_ttl(Duration::from_secs(600))
            .start()
            .await;
        let leeway = Duration::from_secs(5);
        let verifier = builder(&realm, mode)
            .clock(clock.clone())
            .leeway(leeway)
            .build()
            .unwrap();
        let app = App::serve(realm, verifier).await;
        let logins: Vec<Login> = (0..10)
            .map(|i| app.realm.login(&format!("user{i}@example.com")))
            .collect();
        for login in &logins {
            app.realm.revoke(login);
        }
        app.realm.wait_for_deliveries(10).await;
        assert_eq!(app.verifier.revoked_sessions(), 10, "{mode:?}");

        clock.advance(Duration::from_secs(600) + leeway - Duration::from_secs(1));
        assert_eq!(app.verifier.revoked_sessions(), 10, "{mode:?}: not before");
        clock.advance(Duration::from_secs(1));
        assert_eq!(app.verifier.revoked_sessions(), 0, "{mode:?}: gone after");
    }
}

/// The programmatic way in: `revoke` and `revoke_session` act on every path at once,
/// including a session just served from the hot table.
#[tokio::test]
async fn the_hot_table_never_serves_a_revoked_session() {
    for mode in MODES {
        let realm = FakeRealm::start().await;
        let verifier = builder(&realm, mode).build().unwrap();
        let [a, b] = ["a", "b"].map(|_| realm.login("ann@example.com"));
        for _ in 0..256 {
            verifier.verify(&a.token).await.unwrap();
            verifier.verify(&b.token).await.unwrap();
        }
        let session = verifier.verify(&a.token).await.unwrap();
        assert!(verifier.revoke(&session));
        let err = verifier.verify(&a.token).await.unwrap_err();
        assert_eq!(err.code(), "revoked", "{mode:?}");

        let expires = std::time::UNIX_EPOCH + Duration::from_secs(b.expires_at as u64);
        verifier.revoke_session(&b.session_id, expires);
        let err = verifier.verify(&b.token).await.unwrap_err();
        assert_eq!(err.code(), "revoked", "{mode:?}");
        // The layer's fast path for tokens it has just seen too.
        let app = App::serve(realm, verifier).await;
        assert_eq!(app.me(&a).await.unwrap_err(), "revoked");
    }
}

/// A password change ends every session of the user; a deleted user's sessions end too.
#[tokio::test]
async fn a_password_change_or_a_deleted_user_ends_every_session() {
    let app = App::start(VerifyMode::Offline).await;
    let [a, b] = ["a", "b"].map(|_| app.realm.login("ann@example.com"));
    let bob = app.realm.login("bob@example.com");
    app.realm.change_password("ann@example.com");
    app.realm.wait_for_deliveries(2).await;
    assert_eq!(app.me(&a).await.unwrap_err(), "revoked");
    assert_eq!(app.me(&b).await.unwrap_err(), "revoked");
    assert!(app.me(&bob).await.is_ok());

    app.realm.delete_user("bob@example.com");
    let deliveries = app.realm.wait_for_deliveries(4).await;
    assert_eq!(deliveries[2].event_type, "session.deleted");
    assert_eq!(deliveries[3].event_type, "user.deleted");
    assert!(deliveries.iter().all(|d| d.status == Some(200)));
    assert_eq!(app.me(&bob).await.unwrap_err(), "revoked");
}

/// The shared secret, when configured: required, from the path or basic auth.
#[tokio::test]
async fn a_shared_secret_is_required_when_configured() {
    let realm = FakeRealm::start().await;
    let verifier = builder(&realm, VerifyMode::Offline)
        .events_secret("whsec_test_4711")
        .build()
        .unwrap();
    let router = Router::new()
        .route_service("/authrocket/events", EventReceiver::new(verifier.clone()))
        .route_service("/hooks/{secret}", EventReceiver::new(verifier.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    realm.deliver_events_to(format!("http://{addr}/authrocket/events"));
    realm.deliver_events_to(format!("http://{addr}/hooks/wrong"));
    realm.deliver_events_to(format!("http://{addr}/hooks/whsec_test_4711"));
    realm.deliver_events_to(format!("http://:whsec_test_4711@{addr}/authrocket/events"));

    let ann = realm.login("ann@example.com");
    realm.revoke(&ann);
    let statuses: Vec<Option<u16>> = realm
        .wait_for_deliveries(4)
        .await
        .iter()
        .map(|d| d.status)
        .collect();
    assert_eq!(statuses, [Some(401), Some(401), Some(200), Some(200)]);
    assert_eq!(verifier.revoked_sessions(), 1);
}

/// Bodies are bounded, and only `POST` is taken.
#[tokio::test]
async fn oversized_or_non_post_deliveries_are_refused() {
    let app = App::start(VerifyMode::Offline).await;
    let huge = format!("{{\"id\":\"ev_1\",\"pad\":\"{}\"}}", "x".repeat(128 * 1024));
    let before = app.realm.requests("/v2/events");
    assert_eq!(app.deliver(huge).await.0, 413);
    let res = app
        .client
        .get(format!("{}/authrocket/events", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()["allow"], "POST");
    assert_eq!(app.realm.requests("/v2/events"), before);
}

/// A verifier without the session API cannot confirm events: it says so (503) rather than
/// trust an unsigned delivery.
#[tokio::test]
async fn without_the_session_api_events_are_not_trusted() {
    let realm = FakeRealm::builder().hs256().start().await;
    let verifier = Verifier::builder()
        .jwt_key(realm.jwt_key())
        .build()
        .unwrap();
    assert!(!verifier.receives_events());
    let ann = realm.login("ann@example.com");
    let event = json!({"object": "event", "id": "ev_1", "event_type": "session.deleted",
                       "session_id": ann.session_id, "expires_at": ann.expires_at});
    let err = verifier
        .receive_event(event.to_string().as_bytes(), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "unavailable");
    assert_eq!(verifier.revoked_sessions(), 0);
    assert!(verifier.verify(&ann.token).await.is_ok());
}

/// Deliveries are unsigned: anyone can post them, and each costs an API call to confirm.
/// A flood of forged ones takes a quarter of the API budget at most, never the
/// verifications' share.
#[tokio::test]
async fn a_flood_of_forged_deliveries_never_starves_verifications() {
    let realm = FakeRealm::start().await;
    // On a manual clock the budget does not refill while the test runs, however slowly.
    let verifier = builder(&realm, VerifyMode::Online)
        .api_rate_limit(8)
        .clock(ManualClock::new())
        .build()
        .unwrap();
    let app = App::serve(realm, verifier).await;
    let mut statuses = Vec::new();
    for i in 0..20 {
        let forged = json!({"object": "event", "id": format!("ev_forged_{i}"),
                            "event_type": "session.deleted", "session_id": "kss_x"});
        statuses.push(app.deliver(forged.to_string()).await.0);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 404).count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 503).count(),
        18,
        "{statuses:?}"
    );
    // The verifications' share is untouched: six new sessions verified online.
    for i in 0..6 {
        let login = app.realm.login(&format!("user{i}@example.com"));
        assert_eq!(app.me(&login).await.unwrap(), login.session_id);
    }
    assert_eq!(app.realm.requests("/v2/events"), 2);
}

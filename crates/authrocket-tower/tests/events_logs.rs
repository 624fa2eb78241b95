//! Nothing secret in the receiver's log lines, answers or `Debug`: not the token of the
//! session an event ends, not the shared secret, not the API key. One process-wide subscriber
//! at TRACE level sees everything this binary logs (a scoped one would miss other threads).

use authrocket_testkit::{FakeRealm, Fault, WebhookFault};
use authrocket_tower::EventReceiver;
use authrocket_verify::{Verifier, VerifyMode};
use axum::Router;

#[tokio::test]
async fn no_token_secret_or_api_key_in_any_log_line_or_answer() {
    const SECRET: &str = "whsec_never_logged_8c1f";
    let captured = authrocket_testkit::capture_logs();
    for mode in [VerifyMode::Offline, VerifyMode::Online, VerifyMode::Hybrid] {
        let realm = FakeRealm::start().await;
        let verifier = Verifier::builder()
            .mode(mode)
            .loginrocket_url(realm.loginrocket_url())
            .authrocket_url(realm.api_url())
            .api_key(realm.api_key())
            .events_secret(SECRET)
            .build()
            .unwrap();
        let receiver = EventReceiver::new(verifier.clone());
        let debug = format!("{receiver:?}");
        assert!(
            !debug.contains(SECRET) && !debug.contains(&realm.api_key()),
            "{debug}"
        );
        let router = Router::new().route_service("/events/{secret}", receiver);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        realm.deliver_events_to(format!("http://{addr}/events/{SECRET}"));
        realm.deliver_events_to(format!("http://{addr}/events/{SECRET}x"));

        // Every outcome: applied, duplicate, unknown, unavailable, unauthorized.
        let mut tokens = Vec::new();
        let mut made = 0;
        for (fault, deliveries) in [
            (None, 2),
            (Some(WebhookFault::Duplicate), 4),
            (Some(WebhookFault::Unknown), 2),
            (None, 2),
        ] {
            let login = realm.login("ann@example.com");
            verifier.verify(&login.token).await.unwrap();
            if let Some(fault) = fault {
                realm.fail_next_delivery(fault);
            }
            if tokens.len() == 3 {
                realm.fail_always_on("/v2/events", Fault::Status(500));
            }
            realm.revoke(&login);
            made += deliveries;
            realm.wait_for_deliveries(made).await;
            tokens.push(login.token);
        }
        let deliveries = realm.deliveries();
        let statuses: Vec<u16> = deliveries.iter().filter_map(|d| d.status).collect();
        for expected in [200, 401, 404, 503] {
            assert!(statuses.contains(&expected), "{mode:?}: {statuses:?}");
        }
        // The answers themselves.
        let client = reqwest::Client::new();
        for url in [
            format!("http://{addr}/events/{SECRET}"),
            format!("http://{addr}/events/x"),
        ] {
            let body = format!("{{\"id\":\"ev_x\",\"token\":\"{}\"}}", tokens[0]);
            let answer = client
                .post(url)
                .body(body)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(
                !answer.contains(&tokens[0]) && !answer.contains(SECRET),
                "{answer}"
            );
        }

        let text = captured.text();
        for outcome in [
            "applied",
            "duplicate",
            "code=\"unknown_event\"",
            "code=\"unavailable\"",
            "code=\"unauthorized\"",
        ] {
            assert!(
                text.contains(outcome),
                "the receiver logs {outcome}: {text}"
            );
        }
        for secret in tokens
            .iter()
            .map(String::as_str)
            .chain([SECRET, &realm.api_key()])
        {
            assert!(
                !text.contains(secret),
                "{mode:?}: a secret in the logs:\n{text}"
            );
        }
    }
}

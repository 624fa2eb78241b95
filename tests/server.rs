//! The reference server as a black box: started as a process with `PORT=0` and no AuthRocket
//! settings, driven over HTTP.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::server::{Server, server_binary, start, start_with};

#[tokio::test]
async fn reference_server_with_the_embedded_realm() {
    let server = start();
    assert!(
        server.base.starts_with("http://127.0.0.1:") && !server.base.ends_with(":0"),
        "{}",
        server.base
    );
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{}{path}", server.base));

    let me = get("/me").bearer_auth(&server.token).send().await.unwrap();
    assert_eq!(me.status(), reqwest::StatusCode::OK);
    let body: serde_json::Value = serde_json::from_str(&me.text().await.unwrap()).unwrap();
    assert!(body["id"].as_str().unwrap().starts_with("usr_"), "{body}");
    assert_eq!(body["email"], "demo@example.com");
    assert_eq!(body["name"], "Demo Example");
    assert!(body["session_id"].as_str().unwrap().starts_with("kss_"));
    assert_eq!(body["memberships"][0]["org"]["name"], "Example Corp");

    let anonymous = get("/me").send().await.unwrap();
    assert_eq!(anonymous.status(), reqwest::StatusCode::UNAUTHORIZED);
    assert!(
        anonymous.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );

    let forged = get("/me")
        .bearer_auth(format!("{}x", server.token))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), reqwest::StatusCode::UNAUTHORIZED);

    assert_eq!(
        get("/healthz").send().await.unwrap().status(),
        reqwest::StatusCode::OK
    );
    assert_eq!(
        get("/").send().await.unwrap().status(),
        reqwest::StatusCode::OK
    );
}

/// The demo token verifies offline; the printed LoginRocket logout link ends its session at
/// the embedded realm, whose `session.deleted` webhook reaches the server's
/// `/authrocket/events`: the same token is refused from then on.
#[tokio::test]
async fn a_logout_at_the_embedded_realm_reaches_the_server_at_once() {
    let server = start();
    let client = reqwest::Client::new();
    let me = || {
        client
            .get(format!("{}/me", server.base))
            .bearer_auth(&server.token)
            .send()
    };
    assert_eq!(me().await.unwrap().status(), reqwest::StatusCode::OK);

    let out = client.get(&server.logout).send().await.unwrap();
    assert!(out.status().is_success(), "{}", out.status());

    // The webhook is delivered between two processes: wait for its effect, bounded.
    let deadline = Instant::now() + Duration::from_secs(10);
    let refused = loop {
        let res = me().await.unwrap();
        if res.status() == reqwest::StatusCode::UNAUTHORIZED {
            break res;
        }
        assert_eq!(res.status(), reqwest::StatusCode::OK);
        assert!(
            Instant::now() < deadline,
            "the logout never reached the server"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("revoked"), "{challenge}");
}

#[test]
fn misconfiguration_fails_at_start_up_naming_the_variable() {
    let out = Command::new(server_binary())
        .env("PORT", "0")
        .env("AUTHROCKET_JWT_KEY", "")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("AUTHROCKET_JWT_KEY"), "{stderr}");

    let out = Command::new(server_binary())
        .env("PORT", "eighty")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("PORT"));
}

#[tokio::test]
async fn a_closed_stdout_does_not_stop_the_server() {
    // Nobody reads the server's output: every line it prints meets a closed pipe.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = Command::new(server_binary());
    for var in authrocket::verify::ENV_VARS {
        cmd.env_remove(var);
    }
    let child = cmd
        .env("PORT", port.to_string())
        .stdout(writer)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        token: String::new(),
        logout: String::new(),
        loginrocket: String::new(),
        demo_login: Default::default(),
    };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(
            server.child.try_wait().unwrap().is_none(),
            "the server exited when its stdout was closed"
        );
        if let Ok(res) = client.get(format!("{}/healthz", server.base)).send().await {
            assert_eq!(res.status(), reqwest::StatusCode::OK);
            break;
        }
        assert!(Instant::now() < deadline, "the server never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // It prints its banner before it serves: into the closed pipe, and it still serves.
    assert!(server.child.try_wait().unwrap().is_none());
    let res = client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::OK);
}

/// Three servers configured like a fleet (one realm, one Redis, online): a logout delivered
/// to the first is refused by all three, and a token verified by one costs the others no
/// session-API call.
#[tokio::test]
async fn three_servers_sharing_redis_refuse_a_logout_delivered_to_one() {
    let redis = authrocket_testkit::RedisServer::start();
    let realm = authrocket_testkit::FakeRealm::start().await;
    let mut settings = realm.env();
    settings.push(("AUTHROCKET_REDIS_URL", redis.url()));
    settings.push(("AUTHROCKET_VERIFY_MODE", "online".to_owned()));
    let fleet: Vec<Server> = (0..3).map(|_| start_with(&settings)).collect();
    realm.deliver_events_to(format!("{}/authrocket/events", fleet[0].base));
    let ann = realm.login("ann@example.com");
    let client = reqwest::Client::new();
    let me = |server: &Server| {
        client
            .get(format!("{}/me", server.base))
            .bearer_auth(&ann.token)
            .send()
    };
    for server in &fleet {
        assert_eq!(me(server).await.unwrap().status(), reqwest::StatusCode::OK);
    }
    assert_eq!(
        realm.requests("/v2/sessions"),
        1,
        "one API call for three servers"
    );

    realm.revoke(&ann);
    let deadline = Instant::now() + Duration::from_secs(10);
    for server in &fleet {
        while me(server).await.unwrap().status() != reqwest::StatusCode::UNAUTHORIZED {
            assert!(
                Instant::now() < deadline,
                "{} kept the session",
                server.base
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let delivered = realm.deliveries();
    assert_eq!(
        delivered.len(),
        1,
        "the event went to the first server only"
    );
}

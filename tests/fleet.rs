//! The fleet tier against a real `redis-server` each test starts on a free loopback port
//! (stopped by its PID), several verifiers sharing it, and the test kit's realm over HTTP.

use std::future::Future;
use std::time::{Duration, Instant};

use authrocket_testkit::{FakeRealm, Login, RedisServer, SlowProxy, capture_logs};
use authrocket_verify::{FleetStats, Verifier, VerifierBuilder, VerifyMode};
use redis::Commands;

fn online(realm: &FakeRealm, redis_url: &str) -> VerifierBuilder {
    Verifier::builder()
        .mode(VerifyMode::Online)
        .authrocket_url(realm.api_url())
        .api_key(realm.api_key())
        .realm(realm.realm_id())
        .redis_url(redis_url)
}

fn stats(v: &Verifier) -> FleetStats {
    v.fleet_stats().expect("a fleet tier")
}

/// Wait (a few milliseconds at a time, at most 10 s) until `check` holds: announcements and
/// background writes travel over real sockets.
async fn eventually<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Wait until `v` has subscribed and loaded the stored revocations.
async fn ready(v: &Verifier) {
    eventually("the instance loaded the stored revocations", || async {
        stats(v).reloads >= 1
    })
    .await;
}

/// `N` online instances sharing `redis`, each subscribed and loaded.
async fn instances<const N: usize>(realm: &FakeRealm, redis: &RedisServer) -> [Verifier; N] {
    let fleet = std::array::from_fn(|_| online(realm, &redis.url()).build().unwrap());
    for v in &fleet {
        ready(v).await;
    }
    fleet
}

async fn refused(v: &Verifier, login: &Login) -> bool {
    v.verify(&login.token).await.is_err()
}

fn redis_client(redis: &RedisServer) -> redis::Connection {
    redis::Client::open(redis.url())
        .unwrap()
        .get_connection()
        .unwrap()
}

/// The verdict key of `token`, as the fleet module documents it.
fn verdict_key(realm: &FakeRealm, token: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("authrocket:{}:session:{hex}", realm.realm_id())
}

#[tokio::test]
async fn a_logout_on_one_instance_is_refused_by_every_other() {
    let redis = RedisServer::start();
    let realm = FakeRealm::start().await;
    let fleet: [Verifier; 3] = instances(&realm, &redis).await;
    let ann = realm.login("ann@example.com");
    for v in &fleet {
        v.verify(&ann.token).await.unwrap();
    }
    // An AuthRocket event to instance 0 (here through `receive_event`; the tower and axum
    // receivers call it), or the app's own logout: both travel.
    let event = realm.send_event(
        "session.deleted",
        serde_json::json!({"session_id": ann.session_id, "user_id": ann.user.id,
                           "expires_at": ann.expires_at}),
    );
    let body = serde_json::json!({"object": "event", "id": event, "event_type": "session.deleted",
                                  "session_id": ann.session_id});
    fleet[0]
        .receive_event(body.to_string().as_bytes(), None)
        .await
        .unwrap();
    assert!(refused(&fleet[0], &ann).await);
    for v in &fleet[1..] {
        eventually("the others refuse the session", || refused(v, &ann)).await;
        assert_eq!(v.revoked_sessions(), 1);
        assert_eq!(stats(v).received, 1);
    }
    assert_eq!(stats(&fleet[0]).published, 1);

    let bob = realm.login("bob@example.com");
    let session = fleet[2].verify(&bob.token).await.unwrap();
    assert!(fleet[2].revoke(&session));
    for v in &fleet[..2] {
        eventually("Verifier::revoke travels too", || refused(v, &bob)).await;
    }
}

#[tokio::test]
async fn a_deleted_user_is_forgotten_by_every_instance() {
    let redis = RedisServer::start();
    let realm = FakeRealm::start().await;
    let [a, b] = instances(&realm, &redis).await;
    let ann = realm.login("ann@example.com");
    a.verify(&ann.token).await.unwrap();
    b.verify(&ann.token).await.unwrap();
    assert_eq!(stats(&b).hits, 1, "b had it from Redis");

    realm.delete_user("ann@example.com");
    let event = realm
        .events()
        .into_iter()
        .rfind(|e| e["event_type"] == "user.deleted")
        .unwrap();
    a.receive_event(event.to_string().as_bytes(), None)
        .await
        .unwrap();
    assert!(refused(&a, &ann).await);
    // b drops its cached copy, and refuses the copy in Redis, stored before the deletion.
    eventually("b forgets ann", || refused(&b, &ann)).await;
    assert_eq!(stats(&b).hits, 1);
    // So does an instance started afterwards, which never heard the announcement.
    let c = online(&realm, &redis.url()).build().unwrap();
    ready(&c).await;
    assert!(refused(&c, &ann).await);
    assert_eq!((stats(&c).lookups, stats(&c).hits), (1, 0));
}

#[tokio::test]
async fn an_instance_that_starts_later_loads_revocations_it_never_saw_announced() {
    let redis = RedisServer::start();
    let realm = FakeRealm::start().await;
    let first = online(&realm, &redis.url()).build().unwrap();
    ready(&first).await;
    let ann = realm.login("ann@example.com");
    let session = first.verify(&ann.token).await.unwrap();
    first.revoke(&session);
    eventually("stored", || async { stats(&first).published == 1 }).await;

    let later = online(&realm, &redis.url()).build().unwrap();
    ready(&later).await;
    assert_eq!(later.revoked_sessions(), 1, "loaded, not announced");
    assert_eq!(stats(&later).received, 0);
    let err = later.verify(&ann.token).await.unwrap_err();
    assert_eq!(err.code(), "revoked");
}

#[tokio::test]
async fn a_session_verified_by_one_instance_costs_the_others_no_api_call() {
    let redis = RedisServer::start();
    let realm = FakeRealm::start().await;
    let [a, b] = instances(&realm, &redis).await;
    let ann = realm.login("ann@example.com");
    let from_api = a.verify(&ann.token).await.unwrap();
    assert_eq!(realm.requests("/v2/sessions"), 1);
    eventually("shared", || async { stats(&a).shared == 1 }).await;

    let from_redis = b.verify(&ann.token).await.unwrap();
    assert_eq!(from_redis, from_api, "the same session, every field");
    assert_eq!(realm.requests("/v2/sessions"), 1, "no second API call");
    assert_eq!((stats(&b).lookups, stats(&b).hits), (1, 1));

    // The in-process tier answers first: Redis is not asked again.
    for _ in 0..5 {
        b.verify(&ann.token).await.unwrap();
        a.verify(&ann.token).await.unwrap();
    }
    assert_eq!(stats(&b).lookups, 1);
    assert_eq!(stats(&a).lookups, 1, "only its first miss");
    assert_eq!(realm.requests("/v2/sessions"), 1);

    // The shared copy lives no longer than the API's answer may be reused.
    let mut conn = redis_client(&redis);
    let ttl: i64 = conn.pttl(verdict_key(&realm, &ann.token)).unwrap();
    assert!((1..=300_000).contains(&ttl), "{ttl} ms");
}

#[tokio::test]
async fn a_new_token_arriving_at_three_instances_at_once_costs_one_api_call() {
    let redis = RedisServer::start();
    let realm = FakeRealm::start().await;
    let fleet: [Verifier; 3] = instances(&realm, &redis).await;
    for i in 0..20 {
        let login = realm.login(&format!("user{i}@example.com"));
        let all = fleet.iter().map(|v| v.verify(&login.token));
        for session in futures_util::future::join_all(all).await {
            assert_eq!(session.unwrap().user_id(), login.user.id);
        }
        assert_eq!(realm.requests("/v2/sessions"), i + 1, "token {i}");
    }
    let waited: u64 = fleet.iter().map(|v| stats(v).waited).sum();
    assert!(waited >= 1, "some waited for another's answer");

    // A token the API refuses: the one that asked lets the others go on at once, and they
    // ask themselves (a refusal is not shared).
    let gone = realm.login("gone@example.com");
    realm.revoke(&gone);
    let all = fleet.iter().map(|v| v.verify(&gone.token));
    for verdict in futures_util::future::join_all(all).await {
        assert_eq!(verdict.unwrap_err().code(), "revoked");
    }
}

#[tokio::test]
async fn hybrid_instances_share_sessions_but_never_a_forgery() {
    let redis = RedisServer::start();
    let realm = FakeRealm::start().await;
    let hybrid = || {
        Verifier::builder()
            .mode(VerifyMode::Hybrid)
            .loginrocket_url(realm.loginrocket_url())
            .authrocket_url(realm.api_url())
            .api_key(realm.api_key())
            .realm(realm.realm_id())
            .redis_url(redis.url())
            .build()
            .unwrap()
    };
    let (a, b) = (hybrid(), hybrid());
    ready(&a).await;
    ready(&b).await;
    let ann = realm.login("ann@example.com");
    assert_eq!(a.verify(&ann.token).await.unwrap().user_id(), ann.user.id);
    assert_eq!(b.verify(&ann.token).await.unwrap().user_id(), ann.user.id);
    assert_eq!(realm.requests("/v2/sessions"), 1);
    assert_eq!(stats(&b).hits, 1);
    // A forgery never reaches Redis or the API: the offline check comes first.
    let forged = authrocket_testkit::bad::wrong_key(&realm.signing_key());
    assert!(b.verify(&forged).await.is_err());
    assert_eq!((stats(&b).lookups, realm.requests("/v2/sessions")), (1, 1));
}

#[tokio::test]
async fn a_session_written_to_redis_by_anyone_else_is_refused() {
    let redis = RedisServer::start();
    let realm = FakeRealm::start().await;
    let v = online(&realm, &redis.url()).build().unwrap();
    let mut conn = redis_client(&redis);

    // A genuine sealed session, moved under the key of a token the realm never issued.
    let ann = realm.login("ann@example.com");
    v.verify(&ann.token).await.unwrap();
    eventually("shared", || async { stats(&v).shared == 1 }).await;
    let genuine: Vec<u8> = conn.get(verdict_key(&realm, &ann.token)).unwrap();
    let forged_token = format!("{}x", ann.token);
    let _: () = conn
        .set(verdict_key(&realm, &forged_token), &genuine)
        .unwrap();
    let fresh = online(&realm, &redis.url()).build().unwrap();
    let err = fresh.verify(&forged_token).await.unwrap_err();
    assert_eq!(stats(&fresh).refused, 1, "the tag names another token");
    assert_ne!(err.code(), "unavailable");

    // A value sealed under another key (another deployment, or a guess), and plain junk.
    let other = Verifier::builder()
        .mode(VerifyMode::Online)
        .authrocket_url(realm.api_url())
        .api_key(realm.api_key())
        .realm(realm.realm_id())
        .redis_url(redis.url())
        .redis_secret("a-different-secret-of-at-least-32-characters")
        .build()
        .unwrap();
    let bob = realm.login("bob@example.com");
    other.verify(&bob.token).await.unwrap();
    eventually("shared", || async { stats(&other).shared == 1 }).await;
    realm.revoke(&bob);
    let err = fresh.verify(&bob.token).await.unwrap_err();
    assert_eq!(err.code(), "revoked", "the API was asked, and said so");
    assert_eq!(stats(&fresh).refused, 2);

    let cat = realm.login("cat@example.com");
    let _: () = conn
        .set(verdict_key(&realm, &cat.token), b"ar1 not a sealed session")
        .unwrap();
    realm.revoke(&cat);
    assert!(fresh.verify(&cat.token).await.is_err());
    assert_eq!(stats(&fresh).refused, 3);
    assert_eq!(stats(&fresh).hits, 0);
}

#[tokio::test]
async fn with_redis_down_each_instance_carries_on_alone_and_catches_up_when_it_is_back() {
    let mut redis = RedisServer::start();
    let realm = FakeRealm::start().await;
    let [a, b] = instances(&realm, &redis).await;
    let ann = realm.login("ann@example.com");
    a.verify(&ann.token).await.unwrap();
    b.verify(&ann.token).await.unwrap();

    redis.stop();
    // Cached sessions keep working; new ones go to the API; nothing fails because of Redis.
    for _ in 0..10 {
        a.verify(&ann.token).await.unwrap();
    }
    let calls = realm.requests("/v2/sessions");
    for i in 0..10 {
        let login = realm.login(&format!("new{i}@example.com"));
        a.verify(&login.token).await.unwrap();
    }
    assert_eq!(realm.requests("/v2/sessions"), calls + 10);
    let s = stats(&a);
    assert!(!s.connected, "{s:?}");
    assert!(
        s.skipped >= 1,
        "stopped asking once the connection was lost: {s:?}"
    );

    // A logout received while Redis is down is kept, and shared once it is back.
    let session = a.verify(&ann.token).await.unwrap();
    a.revoke(&session);
    assert!(refused(&a, &ann).await);
    assert!(!refused(&b, &ann).await, "b cannot know yet");
    eventually("a keeps it for later", || async { stats(&a).pending == 1 }).await;

    redis.restart();
    eventually("b sees the logout made during the outage", || {
        refused(&b, &ann)
    })
    .await;
    eventually("both reconnected and reloaded", || async {
        let (sa, sb) = (stats(&a), stats(&b));
        sa.connected && sb.connected && sa.reloads >= 2 && sb.reloads >= 2 && sa.pending == 0
    })
    .await;
    // Both subscribed again: the next logout is announced, not only stored.
    for (from, to) in [(&a, &b), (&b, &a)] {
        let login = realm.login("again@example.com");
        let session = from.verify(&login.token).await.unwrap();
        to.verify(&login.token).await.unwrap();
        let received = stats(to).received;
        from.revoke(&session);
        eventually("announced", || refused(to, &login)).await;
        assert_eq!(stats(to).received, received + 1);
    }
}

#[tokio::test]
async fn the_first_logout_after_redis_restarts_is_not_lost() {
    let mut redis = RedisServer::start();
    let realm = FakeRealm::start().await;
    let [a, b] = instances(&realm, &redis).await;
    let ann = realm.login("ann@example.com");
    let session = a.verify(&ann.token).await.unwrap();
    b.verify(&ann.token).await.unwrap();

    // Restarted between two requests: the connections it had are dead, and the first
    // command on one fails before it reconnects.
    redis.restart();
    a.revoke(&session);
    eventually("b refuses", || refused(&b, &ann)).await;
    assert_eq!(b.revoked_sessions(), 1);
    eventually("a stored it", || async { stats(&a).published == 1 }).await;
}

#[tokio::test]
async fn a_slow_redis_is_a_miss_and_the_api_answers() {
    let redis = RedisServer::start();
    let proxy = SlowProxy::start(([127, 0, 0, 1], redis.port()).into()).await;
    let realm = FakeRealm::start().await;
    let url = format!("redis://{}/0", proxy.addr());
    let fast = online(&realm, &redis.url()).build().unwrap();
    let slow = online(&realm, &url).build().unwrap();
    ready(&slow).await;
    let ann = realm.login("ann@example.com");
    fast.verify(&ann.token).await.unwrap();
    eventually("shared", || async { stats(&fast).shared == 1 }).await;

    proxy.set_delay(Duration::from_millis(300));
    let calls = realm.requests("/v2/sessions");
    let session = slow.verify(&ann.token).await.unwrap();
    assert_eq!(session.user_id(), ann.user.id);
    assert_eq!(
        realm.requests("/v2/sessions"),
        calls + 1,
        "past the deadline: the API"
    );
    let s = stats(&slow);
    assert_eq!((s.hits, s.shared), (0, 0), "{s:?}");
    assert_eq!(
        s.errors, 2,
        "the lookup and the write each missed the deadline: {s:?}"
    );

    proxy.set_delay(Duration::ZERO);
    // The instance pings Redis in the background until it answers in time again.
    eventually("healthy again", || async { stats(&slow).connected }).await;
    let bob = realm.login("bob@example.com");
    fast.verify(&bob.token).await.unwrap();
    eventually("shared", || async { stats(&fast).shared == 2 }).await;
    let calls = realm.requests("/v2/sessions");
    slow.verify(&bob.token).await.unwrap();
    assert_eq!(stats(&slow).hits, 1);
    assert_eq!(realm.requests("/v2/sessions"), calls);
}

#[tokio::test]
async fn no_token_or_secret_reaches_redis_or_the_logs() {
    let logs = capture_logs();
    let password = "redis-password-never-printed-4711";
    let redis = RedisServer::start_with_password(password);
    let realm = FakeRealm::start().await;
    let secret = "fleet-seal-secret-never-printed-0123456789";
    let v = online(&realm, &redis.url())
        .redis_secret(secret)
        .build()
        .unwrap();
    ready(&v).await;
    let ann = realm.login("ann@example.com");
    let session = v.verify(&ann.token).await.unwrap();
    eventually("shared", || async { stats(&v).shared == 1 }).await;
    v.revoke(&session);
    eventually("stored", || async { stats(&v).published == 1 }).await;

    let mut conn = redis_client(&redis);
    let keys: Vec<String> = conn.keys("*").unwrap();
    assert_eq!(keys.len(), 2, "{keys:?}");
    let mut stored = keys.join("\n").into_bytes();
    for key in &keys {
        let kind: String = redis::cmd("TYPE").arg(key).query(&mut conn).unwrap();
        if kind == "zset" {
            let members: Vec<String> = conn.zrange(key, 0, -1).unwrap();
            assert_eq!(members, std::slice::from_ref(&ann.session_id));
            stored.extend(members.join("\n").into_bytes());
        } else {
            let value: Vec<u8> = conn.get(key).unwrap();
            stored.extend(value);
        }
    }
    let stored = String::from_utf8_lossy(&stored).into_owned();
    let signature = ann.token.rsplit('.').next().unwrap();
    let debug = format!(
        "{v:?} {:?}",
        online(&realm, &redis.url()).redis_secret(secret)
    );
    for (text, place) in [
        (&stored, "Redis"),
        (&logs.text(), "the logs"),
        (&debug, "Debug"),
    ] {
        for needle in [
            ann.token.as_str(),
            signature,
            &realm.api_key(),
            secret,
            password,
        ] {
            assert!(!text.contains(needle), "a secret in {place}");
        }
    }
    assert!(
        stored.contains(&ann.user.id),
        "the verdict is there, the token is not"
    );
}

#[tokio::test]
async fn redis_settings_are_checked_at_start() {
    let vars = |pairs: &[(&str, &str)]| {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .chain([
                (
                    "AUTHROCKET_URL".into(),
                    "https://example.authrocket.com/v2".into(),
                ),
                ("AUTHROCKET_API_KEY".into(), "ks_example".into()),
            ])
            .collect();
        VerifierBuilder::from_env_with(move |k| {
            pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
        .and_then(VerifierBuilder::build)
    };
    let err = vars(&[("AUTHROCKET_REDIS_URL", "http://:hunter2@example.com")]).unwrap_err();
    assert_eq!(err.variable(), Some("AUTHROCKET_REDIS_URL"));
    assert!(!err.to_string().contains("hunter2"));
    let err = vars(&[
        ("AUTHROCKET_REDIS_URL", "redis://127.0.0.1:1/0"),
        ("AUTHROCKET_REDIS_SECRET", "short"),
    ])
    .unwrap_err();
    assert_eq!(err.variable(), Some("AUTHROCKET_REDIS_SECRET"));
    let err = vars(&[
        ("AUTHROCKET_REDIS_URL", "redis://127.0.0.1:1/0"),
        ("AUTHROCKET_REDIS_TIMEOUT_MS", "0"),
    ])
    .unwrap_err();
    assert_eq!(err.variable(), Some("AUTHROCKET_REDIS_TIMEOUT_MS"));
    // Nothing listens on port 1: built anyway, and it verifies alone.
    let v = vars(&[("AUTHROCKET_REDIS_URL", "redis://127.0.0.1:1/0")]).unwrap();
    assert!(v.fleet_stats().is_some());
}

#[test]
fn redis_needs_a_tokio_runtime_and_says_so() {
    let err = Verifier::builder()
        .jwt_key("jsk_example")
        .redis_url("redis://127.0.0.1:1/0")
        .build()
        .unwrap_err();
    assert_eq!(err.variable(), Some("AUTHROCKET_REDIS_URL"));
    assert!(err.to_string().contains("Tokio runtime"), "{err}");
}

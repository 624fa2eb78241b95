//! What a session-API answer must say before it confirms a token: it must be about this token,
//! and in hybrid mode about the session and the user the token's verified claims name.
//! Against the testkit's fake realm over HTTP, with answers shaped by `Fault::Respond`.

use authrocket_testkit::{FakeRealm, Fault, Login};
use authrocket_verify::{Mode, Verifier, VerifierBuilder};
use serde_json::{Value, json};

fn hybrid(realm: &FakeRealm) -> VerifierBuilder {
    Verifier::builder()
        .mode(Mode::Hybrid)
        .loginrocket_url(realm.loginrocket_url())
        .authrocket_url(realm.api_url())
        .api_key(realm.api_key())
        .realm(realm.realm_id())
}

/// The session object AuthRocket answers for `login`, as the fake realm builds it.
fn session_of(login: &Login) -> Value {
    json!({
        "object": "session",
        "id": login.session_id,
        "user_id": login.user.id,
        "created_at": 1_735_689_600.5,
        "expires_at": login.expires_at,
        "token": login.token,
    })
}

fn without(mut v: Value, field: &str) -> Value {
    v.as_object_mut().unwrap().remove(field);
    v
}

fn with(mut v: Value, field: &str, value: Value) -> Value {
    v[field] = value;
    v
}

#[tokio::test]
async fn hybrid_confirmation_must_be_about_this_token_session_and_user() {
    let realm = FakeRealm::start().await;
    let frank = realm.login("frank@example.com");
    let own = session_of(&frank);
    // What a genuine answer looks like passes (with and without the token echoed back).
    for body in [own.clone(), without(own.clone(), "token")] {
        let v = hybrid(&realm).build().unwrap();
        realm.fail_next_on("/v2/sessions", 1, Fault::Respond { status: 200, body });
        let s = v.verify(&frank.token).await.unwrap();
        assert_eq!(s.user_id(), frank.user.id);
    }
    let cases = [
        (
            "another user",
            with(own.clone(), "user_id", json!("usr_someone_else")),
        ),
        ("no user id", without(own.clone(), "user_id")),
        ("no session id", without(own.clone(), "id")),
        (
            "bare object with only the user",
            json!({"object": "session", "user_id": frank.user.id}),
        ),
        (
            "another session",
            with(own.clone(), "id", json!("kss_other")),
        ),
        ("another token", with(own.clone(), "token", json!("a.b.c"))),
        (
            "an array filled by position",
            json!(["session", frank.session_id, frank.user.id]),
        ),
    ];
    for (what, body) in cases {
        let v = hybrid(&realm).build().unwrap();
        realm.fail_next_on("/v2/sessions", 1, Fault::Respond { status: 200, body });
        let err = v.verify(&frank.token).await.expect_err(what);
        assert!(err.is_unavailable(), "{what}: {err:?}");
        assert_eq!(err.code(), "unavailable", "{what}");
    }
}

#[tokio::test]
async fn session_api_org_data_lands_where_the_sdks_put_it() {
    let realm = FakeRealm::start().await;
    let v = Verifier::builder()
        .mode(Mode::Online)
        .authrocket_url(realm.api_url())
        .api_key(realm.api_key())
        .build()
        .unwrap();
    let frank = realm.login("frank@example.com");
    let body = with(
        session_of(&frank),
        "user",
        json!({
            "object": "user", "id": frank.user.id, "name": "Frank",
            "memberships": [{
                "id": "mb_1", "org_id": "org_1", "permissions": ["ar:admin"],
                "custom": {"seat": 7},
                "org": {"id": "org_1", "name": "Acme", "reference": "acme-1", "custom": {"plan": "gold"}}
            }]
        }),
    );
    realm.fail_next_on("/v2/sessions", 1, Fault::Respond { status: 200, body });
    let s = v.verify(&frank.token).await.unwrap();
    let m = s.current_membership().unwrap();
    assert_eq!(m.id, Some("mb_1"));
    assert_eq!(m.custom, Some(&json!({"seat": 7})));
    assert_eq!(m.org.id, Some("org_1"));
    assert_eq!(m.org.name, Some("Acme"));
    assert_eq!(m.org.reference, Some("acme-1"));
    assert_eq!(m.org.custom, Some(&json!({"plan": "gold"})));
}

//! AuthRocket 1 and 2 tokens round-trip through HS256 and RS256 (PEM and bare-base64 keys),
//! mapped field for field per SPEC's claim table.

use authrocket_testkit::{SigningKey, TokenBuilder, now};
use authrocket_verify::{ErrorKind, Generation, Verifier};
use serde_json::json;

const REALM: &str = "rl_0vWkPT9i8gUOiXVCiuKrG2";

fn verifier(jwt_key: &str) -> Verifier {
    Verifier::builder()
        .jwt_key(jwt_key)
        .realm(REALM)
        .build()
        .expect("valid config")
}

fn full_v2() -> TokenBuilder {
    TokenBuilder::v2("usr_0vWkPT9i8gUOiXVCiuKrG2")
        .claim("sid", "kss_0vWkQG1ZqeX3SCamTFtLGm")
        .claim("rid", REALM)
        .claim("name", "Frank Example")
        .claim("given_name", "Frank")
        .claim("family_name", "Example")
        .claim("preferred_username", "frank")
        .claim("email", "frank@example.com")
        .claim("email_verified", true)
        .claim("ref", "app-user-42")
        .claim("cs", json!({"plan": "gold"}))
        .claim("iat", 1_735_689_600_i64)
        .claim("exp", now() + 600)
        .claim(
            "orgs",
            json!([
                {"mid": "mb_1", "oid": "org_1", "name": "First Org", "ref": "o-1",
                 "cs": {"tier": 1}, "perm": ["billing:read"], "selected": false},
                {"mid": "mb_2", "oid": "org_2", "name": "Second Org",
                 "perm": ["ar:admin", "reports:write"], "selected": true}
            ]),
        )
}

fn full_v1() -> TokenBuilder {
    TokenBuilder::v1("usr_v1user")
        .claim("tk", "kss_v1session")
        .claim("aud", REALM)
        .claim("n", "Vera One")
        .claim("fn", "Vera")
        .claim("ln", "One")
        .claim("un", "vera")
        .claim("cs", json!({"legacy": true}))
        .claim(
            "m",
            json!([{"oid": "org_a", "o": "Alpha", "p": ["ar:owner"], "cs": {"seat": 3}, "ocs": {"region": "eu"}}]),
        )
}

async fn assert_v2_mapping(verifier: &Verifier, token: &str) {
    let s = verifier.verify(token).await.expect("valid v2 token");
    assert_eq!(s.generation(), Generation::V2);
    let u = s.user();
    assert_eq!(u.id, "usr_0vWkPT9i8gUOiXVCiuKrG2");
    assert_eq!(s.user_id(), "usr_0vWkPT9i8gUOiXVCiuKrG2");
    assert_eq!(u.name, Some("Frank Example"));
    assert_eq!(u.first_name, Some("Frank"));
    assert_eq!(u.last_name, Some("Example"));
    assert_eq!(u.username, Some("frank"));
    assert_eq!(u.email, Some("frank@example.com"));
    assert_eq!(u.email_verified, Some(true));
    assert_eq!(u.reference, Some("app-user-42"));
    assert_eq!(u.custom, Some(&json!({"plan": "gold"})));
    assert_eq!(s.session_id(), Some("kss_0vWkQG1ZqeX3SCamTFtLGm"));
    assert_eq!(s.realm_id(), Some(REALM));
    assert_eq!(s.issued_at(), Some(1_735_689_600));
    assert!(s.expires_at().unwrap() > now());
    assert_eq!(s.memberships().len(), 2);
    let first = s.memberships().next().unwrap();
    assert_eq!(first.id, Some("mb_1"));
    assert_eq!(first.org.id, Some("org_1"));
    assert_eq!(first.org.name, Some("First Org"));
    // `orgs[].ref` and `orgs[].cs` are the org's, as `membership.org` in the official SDKs.
    assert_eq!(first.org.reference, Some("o-1"));
    assert_eq!(first.org.custom, Some(&json!({"tier": 1})));
    assert_eq!(
        first.custom, None,
        "AuthRocket 2 memberships have no custom of their own"
    );
    assert_eq!(
        first.permissions.iter().collect::<Vec<_>>(),
        vec!["billing:read"]
    );
    assert!(!first.selected);
    // The current membership is the selected one, not the first.
    let current = s.current_membership().expect("a membership");
    assert_eq!(current.org.id, Some("org_2"));
    assert!(s.has_permission("ar:admin"));
    assert!(
        !s.has_permission("billing:read"),
        "only the current membership counts"
    );
    assert!(!s.has_permission("ar:ad"), "permissions match exactly");
}

async fn assert_v1_mapping(verifier: &Verifier, token: &str) {
    let s = verifier.verify(token).await.expect("valid v1 token");
    assert_eq!(s.generation(), Generation::V1);
    let u = s.user();
    assert_eq!(u.id, "usr_v1user");
    assert_eq!(u.name, Some("Vera One"));
    assert_eq!(u.first_name, Some("Vera"));
    assert_eq!(u.last_name, Some("One"));
    assert_eq!(u.username, Some("vera"));
    assert_eq!(u.email, None);
    assert_eq!(u.custom, Some(&json!({"legacy": true})));
    assert_eq!(s.session_id(), Some("kss_v1session"));
    assert_eq!(s.realm_id(), Some(REALM));
    let m = s
        .current_membership()
        .expect("first membership is current when none is selected");
    assert_eq!(m.org.id, Some("org_a"));
    assert_eq!(m.org.name, Some("Alpha"));
    assert_eq!(m.permissions.iter().collect::<Vec<_>>(), vec!["ar:owner"]);
    assert_eq!(
        m.custom,
        Some(&json!({"seat": 3})),
        "AuthRocket 1 m[].cs is the membership's"
    );
    assert_eq!(m.org.custom, Some(&json!({"region": "eu"})));
    assert_eq!(m.org.reference, None);
    assert!(s.has_permission("ar:owner"));
}

#[tokio::test]
async fn hs256_v2_and_v1_round_trip() {
    let key = SigningKey::hs256("jsk_SbJ7oZJNmnLQ5wNq9NgAc3VExSPtGdYH");
    let v = verifier(&key.jwt_key());
    assert_v2_mapping(&v, &full_v2().sign(&key)).await;
    // AuthRocket 1 tokens carry no `iss`: the issuer check must be disabled for them.
    let v1 = Verifier::builder()
        .jwt_key(key.jwt_key())
        .realm(REALM)
        .issuer("")
        .build()
        .unwrap();
    assert_v1_mapping(&v1, &full_v1().sign(&key)).await;
}

#[tokio::test]
async fn hs256_secret_is_the_whole_trimmed_string() {
    let key = SigningKey::hs256("jsk_whole_string_is_the_key");
    let token = TokenBuilder::v2("usr_1").sign(&key);
    let padded = Verifier::builder()
        .jwt_key("  jsk_whole_string_is_the_key \n")
        .build()
        .unwrap();
    assert!(
        padded.verify(&token).await.is_ok(),
        "surrounding whitespace is trimmed"
    );
    let without_prefix = Verifier::builder()
        .jwt_key("whole_string_is_the_key")
        .build()
        .unwrap();
    assert_eq!(
        without_prefix.verify(&token).await.unwrap_err().code(),
        "bad_signature"
    );
}

#[tokio::test]
async fn rs256_with_bare_base64_key() {
    let key = SigningKey::generate_rs256();
    let bare = key.public_key_base64().unwrap();
    assert!(bare.len() > 256 && !bare.contains("BEGIN"));
    let v = verifier(&bare);
    assert_v2_mapping(&v, &full_v2().sign(&key)).await;
    let v1 = Verifier::builder()
        .jwt_key(bare)
        .realm(REALM)
        .issuer("")
        .build()
        .unwrap();
    assert_v1_mapping(&v1, &full_v1().sign(&key)).await;
}

#[tokio::test]
async fn rs256_with_pem_key() {
    let key = SigningKey::generate_rs256();
    let v = verifier(&key.public_key_pem().unwrap());
    assert_v2_mapping(&v, &full_v2().sign(&key)).await;
    let v1 = Verifier::builder()
        .jwt_key(key.public_key_pem().unwrap())
        .realm(REALM)
        .issuer("")
        .build()
        .unwrap();
    assert_v1_mapping(&v1, &full_v1().sign(&key)).await;
}

#[tokio::test]
async fn tokens_minted_by_jsonwebtoken_verify() {
    // Interoperability: a token from an independent implementation verifies too.
    let secret = "jsk_interop_secret_value";
    let claims = json!({"iss": "https://authrocket.com", "sub": "usr_interop", "exp": now() + 60});
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    let s = Verifier::builder()
        .jwt_key(secret)
        .build()
        .unwrap()
        .verify(&token)
        .await
        .unwrap();
    assert_eq!(s.user_id(), "usr_interop");
}

#[tokio::test]
async fn session_serializes_for_apis() {
    let key = SigningKey::hs256("jsk_serialize");
    let s = verifier(&key.jwt_key())
        .verify(&full_v2().sign(&key))
        .await
        .unwrap();
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["user"]["id"], "usr_0vWkPT9i8gUOiXVCiuKrG2");
    assert_eq!(v["session_id"], "kss_0vWkQG1ZqeX3SCamTFtLGm");
    assert_eq!(v["memberships"][1]["permissions"][0], "ar:admin");
    assert_eq!(v["memberships"][0]["org"]["name"], "First Org");
    assert_eq!(v["memberships"][0]["org"]["reference"], "o-1");
    assert_eq!(v["memberships"][0]["org"]["custom"], json!({"tier": 1}));
    assert_eq!(v["memberships"][0]["custom"], json!(null));
    assert_eq!(v["generation"], "v2");
}

#[tokio::test]
async fn sessions_are_cheap_shared_clones() {
    let key = SigningKey::hs256("jsk_clone");
    let s = verifier(&key.jwt_key())
        .verify(&full_v2().sign(&key))
        .await
        .unwrap();
    let c = s.clone();
    assert_eq!(s, c);
    assert!(
        std::ptr::eq(s.user_id(), c.user_id()),
        "clones share one allocation"
    );
}

#[tokio::test]
async fn missing_token_is_its_own_error() {
    let v = verifier("jsk_x");
    let err = v.verify("").await.unwrap_err();
    assert_eq!(
        (err.code(), err.kind()),
        ("missing_token", ErrorKind::Missing)
    );
}

/// A token over exactly `payload` (raw bytes, not re-serialized), HS256-signed with `key`.
fn sign_payload(key: &SigningKey, payload: &[u8]) -> String {
    use authrocket_testkit::b64url;
    let input = format!("{}.{}", b64url(r#"{"alg":"HS256"}"#), b64url(payload));
    let signature = b64url(key.sign_raw(input.as_bytes()));
    format!("{input}.{signature}")
}

#[tokio::test]
async fn escaped_json_strings_are_decoded() {
    let key = SigningKey::hs256("jsk_escapes");
    let payload = format!(
        r#"{{"iss":"https://authrocket.com","sub":"usr_\u0031","exp":{},"name":"Fr\u00e4nk \"the\" Ex\\ample","orgs":[{{"oid":"org\/1","perm":["a\tb","plain"],"selected":true}}]}}"#,
        now() + 600
    );
    let s = verifier("jsk_escapes")
        .verify(&sign_payload(&key, payload.as_bytes()))
        .await
        .expect("valid token");
    assert_eq!(s.user_id(), "usr_1");
    assert_eq!(s.user().name, Some("Fränk \"the\" Ex\\ample"));
    let m = s.current_membership().expect("a membership");
    assert_eq!(m.org.id, Some("org/1"));
    assert_eq!(m.permissions.iter().collect::<Vec<_>>(), ["a\tb", "plain"]);
}

#[tokio::test]
async fn payloads_that_are_not_utf8_are_malformed() {
    let key = SigningKey::hs256("jsk_escapes");
    let v = verifier("jsk_escapes");
    let exp = now() + 600;
    let raw_byte = [
        &br#"{"iss":"https://authrocket.com","sub":"usr_"#[..],
        &[0xff, 0xfe][..],
        format!(r#"","exp":{exp}}}"#).as_bytes(),
    ]
    .concat();
    let lone_surrogate =
        format!(r#"{{"iss":"https://authrocket.com","sub":"usr_\ud800","exp":{exp}}}"#);
    let fine = format!(r#"{{"iss":"https://authrocket.com","sub":"usr_ok","exp":{exp}}}"#);
    assert!(v.verify(&sign_payload(&key, fine.as_bytes())).await.is_ok());
    for payload in [raw_byte, lone_surrogate.into_bytes()] {
        let err = v.verify(&sign_payload(&key, &payload)).await.unwrap_err();
        assert_eq!(err.code(), "malformed", "{err}");
    }
}

//! One test per attack class of SPEC §3, each asserting the error code.

use authrocket_testkit::{ManualClock, SigningKey, TokenBuilder, b64url, bad, now};
use authrocket_verify::{ErrorKind, Verifier};
use base64::Engine;
use serde_json::json;

const SECRET: &str = "jsk_attack_suite_realm_secret";

fn hs_key() -> SigningKey {
    SigningKey::hs256(SECRET)
}

fn hs_verifier() -> Verifier {
    Verifier::builder().jwt_key(SECRET).build().unwrap()
}

async fn code(v: &Verifier, token: &str) -> &'static str {
    let err = v.verify(token).await.expect_err("token must be rejected");
    assert_eq!(
        err.kind(),
        ErrorKind::Invalid,
        "{err:?} must be a 401-kind error"
    );
    err.code()
}

/// Replace one segment of a token.
fn with_segment(token: &str, index: usize, segment: &str) -> String {
    let mut parts: Vec<&str> = token.split('.').collect();
    parts[index] = segment;
    parts.join(".")
}

#[tokio::test]
async fn alg_none_in_every_spelling_is_refused() {
    let v = hs_verifier();
    for spelling in ["none", "None", "NONE", "nOnE"] {
        for sig in ["", "AAAA"] {
            let token = TokenBuilder::v2("usr_x").unsigned(spelling, sig);
            let expected = if sig.is_empty() {
                "malformed"
            } else {
                "unsupported_algorithm"
            };
            assert_eq!(
                code(&v, &token).await,
                expected,
                "alg {spelling:?} sig {sig:?}"
            );
        }
    }
    assert_eq!(code(&v, &bad::alg_none()).await, "malformed");
}

#[tokio::test]
async fn other_algorithms_are_refused_even_with_a_valid_mac() {
    let v = hs_verifier();
    // Correct HS256 MAC, but the header claims another algorithm: the key pins HS256.
    for alg in [
        "HS384", "HS512", "RS256", "ES256", "PS256", "hs256", "HS256 ",
    ] {
        let token = TokenBuilder::v2("usr_x").header("alg", alg).sign(&hs_key());
        assert_eq!(code(&v, &token).await, "unsupported_algorithm", "alg {alg}");
    }
    let token = TokenBuilder::v2("usr_x")
        .header("alg", json!(null))
        .sign(&hs_key());
    assert_eq!(code(&v, &token).await, "malformed");
}

#[tokio::test]
async fn hs256_signed_with_the_rsa_public_key_is_refused() {
    // The classic key-confusion attack: the attacker knows the RSA public key and uses it as
    // an HMAC secret, in every form the key could be written down.
    let rsa = SigningKey::generate_rs256();
    let v = Verifier::builder()
        .jwt_key(rsa.public_key_pem().unwrap())
        .build()
        .unwrap();
    let pem = rsa.public_key_pem().unwrap();
    let forms: Vec<Vec<u8>> = vec![
        pem.clone().into_bytes(),
        pem.trim().as_bytes().to_vec(),
        rsa.public_key_der().unwrap(),
        rsa.public_key_base64().unwrap().into_bytes(),
    ];
    for form in forms {
        let token = TokenBuilder::v2("usr_x").sign(&SigningKey::hs256_bytes(form));
        assert_eq!(code(&v, &token).await, "unsupported_algorithm");
    }
    // A genuine RS256 token still passes.
    assert!(
        v.verify(&TokenBuilder::v2("usr_ok").sign(&rsa))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn stripped_and_tampered_signatures_are_refused() {
    let v = hs_verifier();
    let good = TokenBuilder::v2("usr_x").sign(&hs_key());
    let stripped = format!("{}.", good.rsplit_once('.').unwrap().0);
    assert_eq!(code(&v, &stripped).await, "malformed");
    let two_segments = good.rsplit_once('.').unwrap().0.to_owned();
    assert_eq!(code(&v, &two_segments).await, "malformed");
    assert_eq!(
        code(&v, &bad::tampered_signature(&hs_key())).await,
        "bad_signature"
    );
    // A valid signature over other claims.
    let other = TokenBuilder::v2("usr_admin").sign(&hs_key());
    let spliced = with_segment(&good, 1, other.split('.').nth(1).unwrap());
    assert_eq!(code(&v, &spliced).await, "bad_signature");
    // Truncated signature.
    let sig = good.rsplit_once('.').unwrap().1;
    assert_eq!(
        code(&v, &with_segment(&good, 2, &sig[..20])).await,
        "bad_signature"
    );
    assert_eq!(code(&v, &bad::wrong_key(&hs_key())).await, "bad_signature");

    let rsa = SigningKey::generate_rs256();
    let rv = Verifier::builder()
        .jwt_key(rsa.public_key_base64().unwrap())
        .build()
        .unwrap();
    assert_eq!(
        code(&rv, &bad::tampered_signature(&rsa)).await,
        "bad_signature"
    );
    assert_eq!(code(&rv, &bad::wrong_key(&rsa)).await, "bad_signature");
}

#[tokio::test]
async fn crit_header_is_refused() {
    let v = hs_verifier();
    for crit in [json!(["exp"]), json!([]), json!(null), json!("b64")] {
        let token = TokenBuilder::v2("usr_x")
            .header("crit", crit.clone())
            .sign(&hs_key());
        assert_eq!(code(&v, &token).await, "unsupported_header", "crit {crit}");
    }
}

#[tokio::test]
async fn jku_x5u_jwk_x5c_headers_are_never_used() {
    // A server that would hand out the attacker's key: it must never be asked.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((_sock, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let attacker = SigningKey::generate_rs256();
    let realm = SigningKey::generate_rs256();
    let v = Verifier::builder()
        .jwt_key(realm.public_key_base64().unwrap())
        .build()
        .unwrap();
    let url = format!("http://{addr}/jwks");
    let headers = [
        ("jku", json!(url)),
        ("x5u", json!(url)),
        ("jwk", attacker.jwk().unwrap()),
        ("x5c", json!([attacker.public_key_base64().unwrap()])),
    ];
    for (name, value) in &headers {
        // Signed by the attacker, pointing at the attacker's key: refused.
        let forged = TokenBuilder::v2("usr_x")
            .header(name, value.clone())
            .sign(&attacker);
        assert_eq!(code(&v, &forged).await, "bad_signature", "{name}");
        // Signed by the realm, with the header present: the header is simply ignored.
        let genuine = TokenBuilder::v2("usr_ok")
            .header(name, value.clone())
            .sign(&realm);
        assert_eq!(
            v.verify(&genuine).await.unwrap().user_id(),
            "usr_ok",
            "{name}"
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no key URL was ever fetched"
    );
}

#[tokio::test]
async fn non_canonical_base64_is_malformed() {
    let v = hs_verifier();
    let good = TokenBuilder::v2("usr_x").sign(&hs_key());
    let parts: Vec<&str> = good.split('.').collect();
    let std_engine = base64::engine::general_purpose::STANDARD;
    // Padded segments.
    let header_json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[0])
        .unwrap();
    let padded_header = base64::engine::general_purpose::URL_SAFE.encode(&header_json);
    if padded_header.ends_with('=') {
        assert_eq!(
            code(&v, &with_segment(&good, 0, &padded_header)).await,
            "malformed"
        );
    }
    let padded_sig = format!("{}=", parts[2]);
    assert_eq!(
        code(&v, &with_segment(&good, 2, &padded_sig)).await,
        "malformed"
    );
    // `+` and `/` (standard alphabet) instead of `-` and `_`.
    let claims = json!({"iss": "https://authrocket.com", "sub": "usr_>>>???", "exp": now() + 60, "x": "~~~~"});
    let payload_std = std_engine
        .encode(claims.to_string())
        .trim_end_matches('=')
        .to_owned();
    assert!(payload_std.contains('+') || payload_std.contains('/'));
    let token = format!("{}.{}.{}", parts[0], payload_std, parts[2]);
    assert_eq!(code(&v, &token).await, "malformed");
    // Non-zero trailing bits: the same bytes written two ways must not both be accepted.
    let sig = parts[2];
    let last = sig.chars().last().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let idx = alphabet.find(last).unwrap();
    let twin = alphabet.chars().nth(idx | 1).unwrap(); // same high bits, a low bit set
    if twin != last {
        let mut bent = sig[..sig.len() - 1].to_owned();
        bent.push(twin);
        assert_eq!(code(&v, &with_segment(&good, 2, &bent)).await, "malformed");
    }
    // Whitespace and other junk.
    assert_eq!(code(&v, &format!(" {good}")).await, "malformed");
    assert_eq!(code(&v, &format!("{good}\n")).await, "malformed");
    assert_eq!(code(&v, &bad::garbage()).await, "malformed");
    assert_eq!(code(&v, "a.b.c.d").await, "malformed");
    assert_eq!(code(&v, "..").await, "malformed");
}

#[tokio::test]
async fn oversized_and_deeply_nested_tokens_are_refused() {
    let v = hs_verifier();
    let big = TokenBuilder::v2("usr_x")
        .claim("padding", "x".repeat(9000))
        .sign(&hs_key());
    assert!(big.len() > 8192);
    assert_eq!(code(&v, &big).await, "too_large");
    // The cap is configurable.
    let roomy = Verifier::builder()
        .jwt_key(SECRET)
        .max_token_len(64 * 1024)
        .build()
        .unwrap();
    assert!(roomy.verify(&big).await.is_ok());

    // Deep nesting in a signed token stays within 8 KiB and must not blow the stack.
    let deep = format!("{}1{}", "[".repeat(3000), "]".repeat(3000));
    let claims = format!(
        r#"{{"iss":"https://authrocket.com","sub":"usr_x","exp":{},"cs":{deep}}}"#,
        now() + 60
    );
    let header = b64url(r#"{"alg":"HS256","typ":"JWT"}"#);
    let input = format!("{header}.{}", b64url(&claims));
    let sig = b64url(hs_key().sign_raw(input.as_bytes()));
    let token = format!("{input}.{sig}");
    assert!(token.len() <= 8192 || code(&v, &token).await == "too_large");
    let roomy_deep = roomy.verify(&token).await.unwrap_err();
    assert_eq!(roomy_deep.code(), "malformed");
    // Deep nesting in a header parameter we read is malformed...
    let nested = "[".repeat(2000) + &"]".repeat(2000);
    let claims = format!(
        r#"{{"iss":"https://authrocket.com","sub":"usr_x","exp":{}}}"#,
        now() + 60
    );
    let header = b64url(format!(r#"{{"alg":"HS256","kid":{nested}}}"#));
    let input = format!("{header}.{}", b64url(&claims));
    let sig = b64url(hs_key().sign_raw(input.as_bytes()));
    assert_eq!(code(&roomy, &format!("{input}.{sig}")).await, "malformed");
    // ...and so it is in one we never read: nesting beyond 128 levels is refused wherever it
    // is (it used to be skipped unread; issue 9 asks for the limit everywhere).
    let header = b64url(format!(r#"{{"alg":"HS256","x":{nested}}}"#));
    let input = format!("{header}.{}", b64url(&claims));
    let sig = b64url(hs_key().sign_raw(input.as_bytes()));
    assert_eq!(code(&roomy, &format!("{input}.{sig}")).await, "malformed");
}

/// A token with exactly this header and payload text, validly signed with the suite's key.
fn signed_raw(header: &str, payload: &str) -> String {
    let input = format!("{}.{}", b64url(header), b64url(payload));
    format!("{input}.{}", b64url(hs_key().sign_raw(input.as_bytes())))
}

#[tokio::test]
async fn arrays_never_fill_fields_by_position() {
    let v = hs_verifier();
    let exp = now() + 60;
    let claims = format!(r#"{{"iss":"https://authrocket.com","sub":"usr_x","exp":{exp}}}"#);
    assert!(
        v.verify(&signed_raw(r#"{"alg":"HS256"}"#, &claims))
            .await
            .is_ok()
    );
    // The header as an array.
    let token = signed_raw(r#"["HS256"]"#, &claims);
    assert_eq!(code(&v, &token).await, "malformed", "header array");
    // The claim set as an array, in the order of the fields a parser knows: iss, exp, nbf,
    // iat, aud, sub.
    let positional = format!(r#"["https://authrocket.com",{exp},0,0,null,"usr_attacker"]"#);
    let token = signed_raw(r#"{"alg":"HS256"}"#, &positional);
    assert_eq!(code(&v, &token).await, "malformed", "claims array");
    // An AuthRocket 2 membership as an array: mid, oid, name, ref, cs, perm, selected.
    let orgs = format!(
        r#"{{"iss":"https://authrocket.com","sub":"usr_x","exp":{exp},
            "orgs":[["mb_1","org_1","Org",null,null,["ar:owner"],true]]}}"#
    );
    let token = signed_raw(r#"{"alg":"HS256"}"#, &orgs);
    assert_eq!(code(&v, &token).await, "malformed", "orgs element array");
    // An AuthRocket 1 membership as an array: oid, o, p.
    let v1 = Verifier::builder()
        .jwt_key(SECRET)
        .issuer("")
        .build()
        .unwrap();
    let m = format!(r#"{{"uid":"usr_x","exp":{exp},"m":[["org_1","Org",["ar:owner"]]]}}"#);
    let token = signed_raw(r#"{"alg":"HS256"}"#, &m);
    assert_eq!(code(&v1, &token).await, "malformed", "m element array");
    // As objects, the same memberships are fine.
    let m = format!(r#"{{"uid":"usr_x","exp":{exp},"m":[{{"oid":"org_1","p":["ar:owner"]}}]}}"#);
    let session = v1
        .verify(&signed_raw(r#"{"alg":"HS256"}"#, &m))
        .await
        .unwrap();
    assert!(session.has_permission("ar:owner"));
}

#[tokio::test]
async fn nesting_is_limited_to_128_levels_even_with_a_valid_signature() {
    let v = hs_verifier();
    let exp = now() + 60;
    // The claim set is level 1; `x` adds `levels - 1` arrays.
    let token = |levels: usize| {
        let deep = format!("{}1{}", "[".repeat(levels - 1), "]".repeat(levels - 1));
        let claims =
            format!(r#"{{"iss":"https://authrocket.com","sub":"usr_x","exp":{exp},"x":{deep}}}"#);
        signed_raw(r#"{"alg":"HS256"}"#, &claims)
    };
    assert!(v.verify(&token(128)).await.is_ok());
    assert_eq!(code(&v, &token(129)).await, "malformed");
    assert_eq!(code(&v, &token(1000)).await, "malformed");
}

#[tokio::test]
async fn fractional_times_never_round_toward_acceptance() {
    let clock = ManualClock::new();
    let v = Verifier::builder()
        .jwt_key(SECRET)
        .leeway(std::time::Duration::from_secs(5))
        .clock(clock.clone())
        .build()
        .unwrap();
    let now = clock.now_unix() as f64;
    let with = |claim: &str, value: f64| {
        TokenBuilder::v2("usr_x")
            .claim("iat", now)
            .claim("exp", now + 60.0)
            .claim(claim, value)
            .sign(&hs_key())
    };
    // Half a second past the leeway: the next whole second, so not valid yet.
    assert_eq!(code(&v, &with("nbf", now + 5.5)).await, "not_yet_valid");
    assert_eq!(code(&v, &with("iat", now + 5.5)).await, "not_yet_valid");
    assert!(v.verify(&with("nbf", now + 5.0)).await.is_ok());
    assert!(v.verify(&with("iat", now + 5.0)).await.is_ok());
    // `exp` half a second before the leeway ends: the whole second before, so expired.
    assert_eq!(code(&v, &with("exp", now - 5.5)).await, "expired");
    assert!(v.verify(&with("exp", now - 5.0)).await.is_ok());
}

#[tokio::test]
async fn time_claims_must_be_numbers_in_range() {
    let v = hs_verifier();
    let cases = [
        ("exp", json!("9999999999")),
        ("exp", json!(true)),
        ("exp", json!(null)),
        ("exp", json!([1])),
        ("exp", json!({"t": 1})),
        ("exp", json!(-1)),
        ("exp", json!(1e300)),
        ("exp", json!(u64::MAX)),
        ("exp", json!(253_402_300_800_i64)),
        ("nbf", json!("0")),
        ("nbf", json!(1e20)),
        ("iat", json!("now")),
        ("iat", json!(-5.5)),
    ];
    for (claim, value) in cases {
        let token = TokenBuilder::v2("usr_x")
            .claim(claim, value.clone())
            .sign(&hs_key());
        assert_eq!(
            code(&v, &token).await,
            "invalid_claims",
            "{claim} = {value}"
        );
    }
    // Fractional but in range is a number like any other.
    let token = TokenBuilder::v2("usr_x")
        .claim("exp", (now() + 60) as f64 + 0.5)
        .sign(&hs_key());
    assert!(v.verify(&token).await.is_ok());
    // Numbers JSON cannot represent are not JSON: malformed.
    let claims = r#"{"iss":"https://authrocket.com","sub":"usr_x","exp":1e400}"#;
    let input = format!("{}.{}", b64url(r#"{"alg":"HS256"}"#), b64url(claims));
    let token = format!("{input}.{}", b64url(hs_key().sign_raw(input.as_bytes())));
    assert_eq!(code(&v, &token).await, "malformed");
}

#[tokio::test]
async fn missing_exp_is_refused_unless_allowed() {
    let token = TokenBuilder::v2("usr_x").without("exp").sign(&hs_key());
    assert_eq!(code(&hs_verifier(), &token).await, "invalid_claims");
    let legacy = Verifier::builder()
        .jwt_key(SECRET)
        .require_exp(false)
        .build()
        .unwrap();
    assert_eq!(legacy.verify(&token).await.unwrap().expires_at(), None);
}

#[tokio::test]
async fn leeway_edges() {
    // Default leeway 5 s. Tokens are minted 2 s inside / outside the edge so the test does
    // not depend on the second it runs in.
    let v = hs_verifier();
    let n = now();
    let sign = |b: TokenBuilder| b.sign(&hs_key());
    assert!(
        v.verify(&sign(TokenBuilder::v2("u").claim("exp", n - 3)))
            .await
            .is_ok()
    );
    assert_eq!(
        code(&v, &sign(TokenBuilder::v2("u").claim("exp", n - 7))).await,
        "expired"
    );
    assert!(
        v.verify(&sign(TokenBuilder::v2("u").claim("nbf", n + 3)))
            .await
            .is_ok()
    );
    assert_eq!(
        code(&v, &sign(TokenBuilder::v2("u").claim("nbf", n + 8))).await,
        "not_yet_valid"
    );
    assert!(
        v.verify(&sign(TokenBuilder::v2("u").claim("iat", n + 3)))
            .await
            .is_ok()
    );
    assert_eq!(
        code(&v, &sign(TokenBuilder::v2("u").claim("iat", n + 8))).await,
        "not_yet_valid"
    );
    // Leeway is configurable, including zero.
    let strict = Verifier::builder()
        .jwt_key(SECRET)
        .leeway(std::time::Duration::ZERO)
        .build()
        .unwrap();
    assert_eq!(
        code(&strict, &sign(TokenBuilder::v2("u").claim("exp", n - 3))).await,
        "expired"
    );
    let lenient = Verifier::builder()
        .jwt_key(SECRET)
        .leeway(std::time::Duration::from_secs(60))
        .build()
        .unwrap();
    assert!(
        lenient
            .verify(&sign(TokenBuilder::v2("u").claim("exp", n - 30)))
            .await
            .is_ok()
    );
    assert_eq!(code(&v, &bad::expired(&hs_key())).await, "expired");
}

#[tokio::test]
async fn foreign_or_missing_issuer_is_refused() {
    let v = hs_verifier();
    assert_eq!(
        code(&v, &bad::foreign_issuer(&hs_key())).await,
        "wrong_issuer"
    );
    let no_iss = TokenBuilder::v2("usr_x").without("iss").sign(&hs_key());
    assert_eq!(code(&v, &no_iss).await, "wrong_issuer");
    let almost = TokenBuilder::v2("usr_x")
        .claim("iss", "https://authrocket.com/")
        .sign(&hs_key());
    assert_eq!(code(&v, &almost).await, "wrong_issuer", "exact match only");
    // A custom issuer, and the empty string disabling the check.
    let custom = Verifier::builder()
        .jwt_key(SECRET)
        .issuer("https://auth.example.com")
        .build()
        .unwrap();
    let t = TokenBuilder::v2("usr_x")
        .claim("iss", "https://auth.example.com")
        .sign(&hs_key());
    assert!(custom.verify(&t).await.is_ok());
    let off = Verifier::builder()
        .jwt_key(SECRET)
        .issuer("")
        .build()
        .unwrap();
    assert!(off.verify(&no_iss).await.is_ok());
}

#[tokio::test]
async fn the_realm_and_aud_rules() {
    let realm = "rl_mine";
    let with_realm = Verifier::builder()
        .jwt_key(SECRET)
        .realm(realm)
        .issuer("")
        .build()
        .unwrap();
    let no_realm = Verifier::builder()
        .jwt_key(SECRET)
        .issuer("")
        .build()
        .unwrap();
    let sign = |b: TokenBuilder| b.sign(&hs_key());

    // v2 `rid`: must match when a realm is configured; not checked otherwise.
    assert!(
        with_realm
            .verify(&sign(TokenBuilder::v2("u").claim("rid", realm)))
            .await
            .is_ok()
    );
    assert_eq!(
        code(&with_realm, &bad::foreign_realm(&hs_key())).await,
        "wrong_realm"
    );
    assert!(
        no_realm
            .verify(&sign(TokenBuilder::v2("u").claim("rid", "rl_any")))
            .await
            .is_ok()
    );
    // Absent `rid` is fine.
    assert!(
        with_realm
            .verify(&sign(TokenBuilder::v2("u")))
            .await
            .is_ok()
    );

    // `aud` (v1 puts the realm there): must equal the configured realm...
    assert!(
        with_realm
            .verify(&sign(TokenBuilder::v1("u").claim("aud", realm)))
            .await
            .is_ok()
    );
    assert_eq!(
        code(
            &with_realm,
            &sign(TokenBuilder::v1("u").claim("aud", "rl_other"))
        )
        .await,
        "wrong_realm"
    );
    assert_eq!(
        code(
            &with_realm,
            &sign(TokenBuilder::v2("u").claim("aud", "some-api"))
        )
        .await,
        "wrong_realm"
    );
    // ...and without a configured realm any `aud` is refused. The hint to set
    // AUTHROCKET_REALM is for the operator: it goes to the log (operator_logs.rs), never to
    // the client.
    let err = no_realm
        .verify(&sign(TokenBuilder::v1("u").claim("aud", realm)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "wrong_realm");
    assert!(!err.to_string().contains("AUTHROCKET_REALM"), "{err}");
}

#[tokio::test]
async fn the_user_id_must_be_a_non_empty_string() {
    let v = hs_verifier();
    let sign = |b: TokenBuilder| b.sign(&hs_key());
    assert_eq!(
        code(&v, &sign(TokenBuilder::v2("").without("sid"))).await,
        "invalid_claims"
    );
    assert_eq!(
        code(&v, &sign(TokenBuilder::v2("x").without("sub"))).await,
        "invalid_claims"
    );
    assert_eq!(
        code(&v, &sign(TokenBuilder::v2("x").claim("sub", 42))).await,
        "malformed"
    );
    assert_eq!(
        code(&v, &sign(TokenBuilder::v2("x").claim("sub", json!(null)))).await,
        "invalid_claims"
    );
    let v1 = Verifier::builder()
        .jwt_key(SECRET)
        .issuer("")
        .build()
        .unwrap();
    assert_eq!(
        code(&v1, &sign(TokenBuilder::v1(""))).await,
        "invalid_claims"
    );
}

#[tokio::test]
async fn duplicate_claims_and_non_object_payloads_are_malformed() {
    let v = hs_verifier();
    let exp = now() + 60;
    for payload in [
        format!(r#"{{"iss":"https://authrocket.com","sub":"usr_a","sub":"usr_b","exp":{exp}}}"#),
        "[1,2,3]".to_owned(),
        "\"usr_x\"".to_owned(),
        "not json".to_owned(),
    ] {
        let input = format!("{}.{}", b64url(r#"{"alg":"HS256"}"#), b64url(&payload));
        let token = format!("{input}.{}", b64url(hs_key().sign_raw(input.as_bytes())));
        assert_eq!(code(&v, &token).await, "malformed", "{payload}");
    }
}

#[tokio::test]
async fn a_remembered_header_does_not_help_a_forgery() {
    // No cache, so every token is checked from scratch; the header of a verified token is
    // remembered so it need not be parsed again — and that must change nothing else.
    let v = Verifier::builder()
        .jwt_key(SECRET)
        .cache_ttl(std::time::Duration::ZERO)
        .build()
        .unwrap();
    let good = TokenBuilder::v2("usr_victim").sign(&hs_key());
    assert!(v.verify(&good).await.is_ok());
    let header = good.split('.').next().unwrap();
    let claims = json!({"iss": "https://authrocket.com", "sub": "usr_attacker", "exp": now() + 60});
    // The same header with a made-up signature, with a signature from another key, and with
    // the genuine signature of another payload: all refused.
    let forged = format!(
        "{header}.{}.{}",
        b64url(claims.to_string()),
        b64url([7u8; 32])
    );
    assert_eq!(code(&v, &forged).await, "bad_signature");
    let other_key = TokenBuilder::from_claims(claims.clone()).sign(&SigningKey::hs256("jsk_other"));
    let reheadered = format!("{header}.{}", other_key.split_once('.').unwrap().1);
    assert_eq!(code(&v, &reheadered).await, "bad_signature");
    assert_eq!(code(&v, &bad::expired(&hs_key())).await, "expired");
    assert!(v.verify(&good).await.is_ok());
}

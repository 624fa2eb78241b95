//! Misconfiguration fails at build time with a message naming the variable to fix.

use std::collections::HashMap;
use std::time::Duration;

use authrocket_testkit::{SigningKey, TokenBuilder};
use authrocket_verify::{ConfigError, Verifier, VerifierBuilder, VerifyMode};

fn from(vars: &[(&str, &str)]) -> Result<Verifier, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    VerifierBuilder::from_env_with(|k| map.get(k).cloned())?.build()
}

fn err(vars: &[(&str, &str)]) -> ConfigError {
    from(vars).expect_err("configuration must be refused")
}

#[test]
fn no_key_source_names_every_option() {
    let e = err(&[]);
    assert_eq!(e.code(), "no_key_source");
    let msg = e.to_string();
    for var in [
        "AUTHROCKET_JWT_KEY",
        "LOGINROCKET_URL",
        "AUTHROCKET_URL",
        "AUTHROCKET_API_KEY",
    ] {
        assert!(msg.contains(var), "{msg} should name {var}");
    }
    // Settings that are not key sources do not count as one.
    assert_eq!(
        err(&[("AUTHROCKET_REALM", "rl_x"), ("AUTHROCKET_JWT_LEEWAY", "5")]).code(),
        "no_key_source"
    );
}

#[test]
fn empty_secret_is_refused() {
    let e = err(&[("AUTHROCKET_JWT_KEY", "   ")]);
    assert_eq!(e.variable(), Some("AUTHROCKET_JWT_KEY"));
    assert!(
        e.to_string()
            .contains("AUTHROCKET_JWT_KEY is invalid: it is empty"),
        "{e}"
    );
    let e = err(&[("AUTHROCKET_JWT_SECRET", "")]);
    assert_eq!(e.variable(), Some("AUTHROCKET_JWT_SECRET"));
}

#[test]
fn legacy_secret_variable_works() {
    let v = from(&[("AUTHROCKET_JWT_SECRET", "jsk_legacy")]).unwrap();
    assert_eq!(v.mode(), VerifyMode::Offline);
}

#[tokio::test]
async fn jwt_key_takes_precedence_over_the_legacy_name() {
    let key = SigningKey::hs256("jsk_new_name");
    let v = from(&[
        ("AUTHROCKET_JWT_KEY", "jsk_new_name"),
        ("AUTHROCKET_JWT_SECRET", "jsk_old"),
    ])
    .unwrap();
    assert!(
        v.verify(&TokenBuilder::v2("usr_1").sign(&key))
            .await
            .is_ok()
    );
}

#[test]
fn long_keys_that_are_not_rsa_public_keys_are_refused() {
    let long_garbage = "x".repeat(300);
    let e = err(&[("AUTHROCKET_JWT_KEY", &long_garbage)]);
    assert_eq!(e.variable(), Some("AUTHROCKET_JWT_KEY"));
    assert!(e.to_string().contains("RSA public key"), "{e}");

    let private = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n".repeat(4)
        + "-----END PRIVATE KEY-----\n";
    let e = err(&[("AUTHROCKET_JWT_KEY", &private)]);
    assert!(e.to_string().contains("private key"), "{e}");
    assert!(
        !e.to_string().contains("MIIEvQIBADAN"),
        "the key itself is never echoed"
    );

    let cert = "-----BEGIN CERTIFICATE-----\n".to_owned()
        + &"A".repeat(300)
        + "\n-----END CERTIFICATE-----\n";
    assert!(
        err(&[("AUTHROCKET_JWT_KEY", &cert)])
            .to_string()
            .contains("certificate")
    );

    // A PEM that parses but is not RSA (an EC P-256 public key), padded past 256 characters
    // and, shorter than that, still never mistaken for an HS256 secret.
    let ec = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9\nq9UU8I5mEovUf86QZ7kOBIjJwqnzD1omageEHWwHdBO6B+dFabmdT9POxg==\n-----END PUBLIC KEY-----\n".to_owned()
        + &" ".repeat(100);
    assert_eq!(
        err(&[("AUTHROCKET_JWT_KEY", &ec)]).variable(),
        Some("AUTHROCKET_JWT_KEY")
    );
    assert!(ec.trim().len() < 256);
    assert_eq!(
        err(&[("AUTHROCKET_JWT_KEY", ec.trim())]).variable(),
        Some("AUTHROCKET_JWT_KEY")
    );
}

#[test]
fn numbers_urls_and_modes_are_validated_with_the_variable_named() {
    let cases: &[(&str, &str)] = &[
        ("AUTHROCKET_JWT_LEEWAY", "five"),
        ("AUTHROCKET_JWT_LEEWAY", "-1"),
        ("AUTHROCKET_CACHE_TTL", "5m"),
        ("AUTHROCKET_CACHE_NEGATIVE_TTL", "1.5"),
        ("AUTHROCKET_CACHE_CAPACITY", "lots"),
        ("AUTHROCKET_API_TIMEOUT", "3s"),
        ("AUTHROCKET_VERIFY_MODE", "paranoid"),
        ("LOGINROCKET_URL", "sample.e2.loginrocket.com"),
        ("LOGINROCKET_URL", "ftp://sample.e2.loginrocket.com/"),
    ];
    for (var, value) in cases {
        let e = err(&[("AUTHROCKET_JWT_KEY", "jsk_x"), (var, value)]);
        assert_eq!(e.variable(), Some(*var), "{var}={value}: {e}");
        assert!(e.to_string().starts_with(var), "{e}");
    }
}

#[test]
fn defaults_and_mode_selection() {
    let v = from(&[("AUTHROCKET_JWT_KEY", "jsk_x")]).unwrap();
    assert_eq!(v.mode(), VerifyMode::Offline);
    let v = from(&[("LOGINROCKET_URL", "https://sample.e2.loginrocket.com/")]).unwrap();
    assert_eq!(v.mode(), VerifyMode::Offline);
    assert_eq!(
        v.loginrocket_url().unwrap(),
        "https://sample.e2.loginrocket.com/"
    );
    let v = from(&[
        ("AUTHROCKET_JWT_KEY", "jsk_x"),
        ("AUTHROCKET_VERIFY_MODE", " Offline "),
    ])
    .unwrap();
    assert_eq!(v.mode(), VerifyMode::Offline);
    assert_eq!("hybrid".parse::<VerifyMode>().unwrap(), VerifyMode::Hybrid);
    assert_eq!(VerifyMode::Online.to_string(), "online");
}

#[test]
fn builder_debug_never_shows_secrets() {
    let b = Verifier::builder()
        .jwt_key("jsk_super_secret_value")
        .api_key("ks_super_secret_api_key")
        .realm("rl_visible")
        .leeway(Duration::from_secs(7));
    let dbg = format!("{b:?}");
    assert!(
        !dbg.contains("jsk_super_secret_value") && !dbg.contains("ks_super_secret_api_key"),
        "{dbg}"
    );
    assert!(
        dbg.contains("rl_visible") && dbg.contains("[redacted]"),
        "{dbg}"
    );
}

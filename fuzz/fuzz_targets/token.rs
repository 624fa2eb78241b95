//! The token parser and validator, through `Verifier::verify` with a static HS256 key: the
//! input is either a token as sent (`0` first byte) or a header and claims (split at the
//! first `0xFF`) that this target signs with the key, so the claims' parser and rules are
//! reached past the signature.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use authrocket_verify::Verifier;
use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::FutureExt;
use libfuzzer_sys::fuzz_target;

const KEY: &str = "jsk_fuzzing_secret_of_the_realm";

fn verifier() -> &'static Verifier {
    static V: OnceLock<Verifier> = OnceLock::new();
    V.get_or_init(|| {
        Verifier::builder()
            .jwt_key(KEY)
            .issuer("")
            .cache_ttl(Duration::ZERO)
            .build()
            .expect("a valid fuzzing setup")
    })
}

fn signed(header: &[u8], claims: &[u8]) -> String {
    let signing = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let key = hmac::Key::new(hmac::HMAC_SHA256, KEY.as_bytes());
    let tag = hmac::sign(&key, signing.as_bytes());
    format!("{signing}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

fuzz_target!(|data: &[u8]| {
    let token = match data.split_first() {
        Some((0, raw)) => String::from_utf8_lossy(raw).into_owned(),
        _ => match data.iter().position(|b| *b == 0xFF) {
            Some(at) => signed(&data[..at], &data[at + 1..]),
            None => signed(br#"{"alg":"HS256","typ":"JWT"}"#, data),
        },
    };
    // A static key never waits: the verification is done when first polled.
    let verdict = verifier()
        .verify(&token)
        .now_or_never()
        .expect("no await with a static key");
    if let Ok(session) = verdict {
        assert!(!session.user_id().is_empty(), "a session names its user");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let exp = session.expires_at().expect("exp is required");
        assert!(
            exp + 6 > now,
            "an accepted token has not expired (leeway 5 s)"
        );
    }
});

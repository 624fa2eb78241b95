//! Minting AuthRocket 1 and 2 login tokens with any claims, and ready-made bad ones.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::SigningKey;

/// The `iss` AuthRocket puts in its tokens.
pub const ISSUER: &str = "https://authrocket.com";

/// Seconds since the Unix epoch, now.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// base64url without padding, as JWS uses it.
pub fn b64url(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Builds a token: a JSON header and a JSON claim set, signed by a [`SigningKey`].
///
/// [`v2`](TokenBuilder::v2) and [`v1`](TokenBuilder::v1) start from the claims AuthRocket
/// issues (valid for an hour); everything can then be added, replaced or removed, including
/// in the header, so tests can build any attack.
///
/// ```
/// use authrocket_testkit::{SigningKey, TokenBuilder};
///
/// let key = SigningKey::hs256("jsk_test_secret");
/// let token = TokenBuilder::v2("usr_123")
///     .claim("name", "Frank Example")
///     .claim("email", "frank@example.com")
///     .expires_in(600)
///     .sign(&key);
/// assert_eq!(token.split('.').count(), 3);
/// ```
#[derive(Debug, Clone)]
pub struct TokenBuilder {
    header: Map<String, Value>,
    claims: Map<String, Value>,
}

impl TokenBuilder {
    /// An AuthRocket 2 token for `user_id`: `iss`, `sub`, `sid`, `iat`, `exp` (+1 h).
    pub fn v2(user_id: impl Into<String>) -> Self {
        let now = now();
        Self::from_claims(json!({
            "iss": ISSUER,
            "sub": user_id.into(),
            "sid": crate::random_id("kss_"),
            "iat": now,
            "exp": now + 3600,
        }))
    }

    /// An AuthRocket 1 token for `user_id`: `uid`, `tk`, `iat`, `exp` (+1 h); no `iss`.
    pub fn v1(user_id: impl Into<String>) -> Self {
        let now = now();
        Self::from_claims(json!({
            "uid": user_id.into(),
            "tk": crate::random_id("kss_"),
            "iat": now,
            "exp": now + 3600,
        }))
    }

    /// A realistic AuthRocket 2 token, about the size real ones are: names, email, realm,
    /// and one selected membership with permissions.
    pub fn typical_v2(realm_id: &str) -> Self {
        Self::v2(crate::random_id("usr_"))
            .claim("rid", realm_id)
            .claim("name", "Frank Example")
            .claim("given_name", "Frank")
            .claim("family_name", "Example")
            .claim("preferred_username", "frank")
            .claim("email", "frank@example.com")
            .claim("email_verified", true)
            .claim(
                "orgs",
                json!([{
                    "mid": crate::random_id("mb_"),
                    "oid": crate::random_id("org_"),
                    "name": "Example Corp",
                    "perm": ["ar:admin", "billing:read"],
                    "selected": true
                }]),
            )
    }

    /// Start from an arbitrary claim set (an empty header but for what signing adds).
    pub fn from_claims(claims: Value) -> Self {
        let Value::Object(claims) = claims else {
            panic!("claims must be a JSON object")
        };
        let mut header = Map::new();
        header.insert("typ".into(), "JWT".into());
        Self { header, claims }
    }

    /// Set a claim (any JSON value, e.g. a string for `exp` to build an attack).
    pub fn claim(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.claims.insert(name.to_owned(), value.into());
        self
    }

    /// The [`Session`](authrocket_verify::Session) a verifier would make of these claims —
    /// without a token or a signature, for unit tests of handlers that take a session.
    ///
    /// ```
    /// use authrocket_testkit::TokenBuilder;
    ///
    /// let session = TokenBuilder::v2("usr_frank").claim("name", "Frank").session();
    /// assert_eq!(session.user().name, Some("Frank"));
    /// ```
    ///
    /// # Panics
    ///
    /// When the claims could not come from a valid token (no user id, a time claim that is
    /// not a number, …): a test's mistake.
    pub fn session(&self) -> authrocket_verify::Session {
        authrocket_verify::Session::from_claims_unverified(&Value::Object(self.claims.clone()))
            .unwrap_or_else(|e| panic!("these claims make no session: {e}"))
    }

    /// Remove a claim.
    pub fn without(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    /// Set a header parameter (`kid`, `jku`, `crit`, even `alg` to lie about the algorithm).
    pub fn header(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.header.insert(name.to_owned(), value.into());
        self
    }

    /// Set `exp` to now + `seconds` (negative for the past).
    pub fn expires_in(self, seconds: i64) -> Self {
        self.claim("exp", now() + seconds)
    }

    /// The claims as they stand.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// Sign with `key`. The header gets `alg` from the key and `kid` from the key when it has
    /// one — unless the builder set them explicitly.
    pub fn sign(&self, key: &SigningKey) -> String {
        let mut header = self.header.clone();
        header.entry("alg").or_insert_with(|| key.alg().into());
        if let Some(kid) = key.kid() {
            header.entry("kid").or_insert_with(|| kid.into());
        }
        let signing_input = format!(
            "{}.{}",
            b64url(Value::Object(header).to_string()),
            b64url(Value::Object(self.claims.clone()).to_string())
        );
        let signature = b64url(key.sign_raw(signing_input.as_bytes()));
        format!("{signing_input}.{signature}")
    }

    /// An unsigned token with header `alg` set to `alg_spelling` (e.g. `none`, `None`,
    /// `NONE`) and an empty or junk signature segment, as attackers send them.
    pub fn unsigned(&self, alg_spelling: &str, signature: &str) -> String {
        let mut header = self.header.clone();
        header.insert("alg".into(), alg_spelling.into());
        format!(
            "{}.{}.{signature}",
            b64url(Value::Object(header).to_string()),
            b64url(Value::Object(self.claims.clone()).to_string())
        )
    }
}

/// Ready-made bad tokens, each for a user `usr_bad` and otherwise valid.
pub mod bad {
    use super::*;

    /// Expired an hour ago.
    pub fn expired(key: &SigningKey) -> String {
        TokenBuilder::v2("usr_bad")
            .claim("iat", now() - 7200)
            .expires_in(-3600)
            .sign(key)
    }

    /// Issued by someone other than AuthRocket.
    pub fn foreign_issuer(key: &SigningKey) -> String {
        TokenBuilder::v2("usr_bad")
            .claim("iss", "https://evil.example")
            .sign(key)
    }

    /// From another realm (`rid`).
    pub fn foreign_realm(key: &SigningKey) -> String {
        TokenBuilder::v2("usr_bad")
            .claim("rid", "rl_someone_else")
            .sign(key)
    }

    /// Signed by a key nobody configured (same algorithm as `like`).
    pub fn wrong_key(like: &SigningKey) -> String {
        let other = match like.alg() {
            "RS256" => SigningKey::generate_rs256(),
            _ => SigningKey::random_hs256(),
        };
        let other = match like.kid() {
            Some(kid) => other.with_kid(kid),
            None => other,
        };
        TokenBuilder::v2("usr_bad").sign(&other)
    }

    /// `alg: none`, no signature.
    pub fn alg_none() -> String {
        TokenBuilder::v2("usr_bad").unsigned("none", "")
    }

    /// A valid token with its last signature character changed.
    pub fn tampered_signature(key: &SigningKey) -> String {
        let mut token = TokenBuilder::v2("usr_bad").sign(key);
        let last = token.pop().expect("non-empty");
        token.push(if last == 'A' { 'Q' } else { 'A' });
        token
    }

    /// Not a JWT at all.
    pub fn garbage() -> String {
        "this-is-not-a-token".to_owned()
    }
}

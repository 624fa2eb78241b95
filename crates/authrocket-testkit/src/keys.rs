//! Signing keys for minting tokens: an HS256 realm secret (`jsk_…`) or an RS256 key pair.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use aws_lc_rs::{hmac, rand};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::random_id;

#[derive(Clone)]
enum Material {
    Hs256(Arc<[u8]>),
    Rs256(Arc<RsaKeyPair>),
}

/// A key that signs tokens the way an AuthRocket realm does.
///
/// ```
/// use authrocket_testkit::SigningKey;
///
/// let hs = SigningKey::hs256("jsk_my_realm_secret");
/// assert_eq!(hs.jwt_key(), "jsk_my_realm_secret");
///
/// let rs = SigningKey::generate_rs256().with_kid("k1");
/// assert!(rs.jwt_key().len() > 256); // what AUTHROCKET_JWT_KEY holds for RS256 realms
/// assert!(rs.public_key_pem().unwrap().starts_with("-----BEGIN PUBLIC KEY-----"));
/// ```
#[derive(Clone)]
pub struct SigningKey {
    material: Material,
    kid: Option<String>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg())
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// An HS256 key: `secret` is the realm's JWT key exactly as AuthRocket shows it
    /// (`jsk_…`), used whole as the HMAC key.
    pub fn hs256(secret: impl Into<String>) -> Self {
        Self::hs256_bytes(secret.into().into_bytes())
    }

    /// An HS256 key from arbitrary bytes (e.g. to forge a token "signed" with a public key).
    pub fn hs256_bytes(secret: impl Into<Vec<u8>>) -> Self {
        Self {
            material: Material::Hs256(secret.into().into()),
            kid: None,
        }
    }

    /// A fresh random HS256 realm secret (`jsk_` + 32 random characters).
    pub fn random_hs256() -> Self {
        Self::hs256(random_id("jsk_"))
    }

    /// A freshly generated 2048-bit RSA key pair for RS256.
    pub fn generate_rs256() -> Self {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA key generation");
        Self {
            material: Material::Rs256(Arc::new(pair)),
            kid: None,
        }
    }

    /// The same key, announcing `kid` in the tokens it signs and in its JWK.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The `kid` this key puts into token headers, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// `"HS256"` or `"RS256"`.
    pub fn alg(&self) -> &'static str {
        match self.material {
            Material::Hs256(_) => "HS256",
            Material::Rs256(_) => "RS256",
        }
    }

    /// The value for `AUTHROCKET_JWT_KEY`: the secret (HS256), or the public key as bare
    /// base64 SPKI, as AuthRocket's console shows it (RS256).
    pub fn jwt_key(&self) -> String {
        match &self.material {
            Material::Hs256(secret) => String::from_utf8_lossy(secret).into_owned(),
            Material::Rs256(_) => self.public_key_base64().expect("RSA"),
        }
    }

    /// The RSA public key as SubjectPublicKeyInfo DER (RS256 only).
    pub fn public_key_der(&self) -> Option<Vec<u8>> {
        match &self.material {
            Material::Rs256(pair) => Some(
                pair.public_key()
                    .as_der()
                    .expect("public key DER")
                    .as_ref()
                    .to_vec(),
            ),
            Material::Hs256(_) => None,
        }
    }

    /// The RSA public key as bare base64 SPKI, no PEM armour (RS256 only).
    pub fn public_key_base64(&self) -> Option<String> {
        self.public_key_der().map(|der| STANDARD.encode(der))
    }

    /// The RSA public key as a `-----BEGIN PUBLIC KEY-----` PEM block (RS256 only).
    pub fn public_key_pem(&self) -> Option<String> {
        let body = self.public_key_base64()?;
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
            .collect();
        Some(format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            lines.join("\n")
        ))
    }

    /// The key as AuthRocket publishes it in `/connect/jwks` (RS256 only): `x5c[0]` holds the
    /// bare base64 SPKI, and `n`/`e` are present too.
    pub fn jwk(&self) -> Option<Value> {
        let Material::Rs256(pair) = &self.material else {
            return None;
        };
        let public = pair.public_key();
        let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
        let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
        Some(json!({
            "kid": self.kid,
            "alg": "RS256",
            "kty": "RSA",
            "use": "sig",
            "x5c": [self.public_key_base64()?],
            "n": n,
            "e": e,
        }))
    }

    /// The signature of `message` under this key, raw bytes.
    pub fn sign_raw(&self, message: &[u8]) -> Vec<u8> {
        match &self.material {
            Material::Hs256(secret) => {
                hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), message)
                    .as_ref()
                    .to_vec()
            }
            Material::Rs256(pair) => {
                let mut sig = vec![0; pair.public_modulus_len()];
                pair.sign(
                    &RSA_PKCS1_SHA256,
                    &rand::SystemRandom::new(),
                    message,
                    &mut sig,
                )
                .expect("RSA signing");
                sig
            }
        }
    }
}

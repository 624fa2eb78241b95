//! Verification keys, parsed once and pinned to one algorithm each.
//!
//! A key decides its algorithm; a token never does. HS256 keys are prepared `aws-lc-rs`
//! HMAC keys (the inner/outer pads are computed once, not per token), RS256 keys are parsed
//! `aws-lc-rs` public keys (the DER is decoded once, not per token).

use std::fmt;

use aws_lc_rs::{hmac, signature};

use crate::error::ConfigError;

/// Above this many characters, `AUTHROCKET_JWT_KEY` is an RSA public key (the SDKs' rule).
pub(crate) const RSA_KEY_MIN_CHARS: usize = 256;

/// The only algorithms AuthRocket issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Algorithm {
    Hs256,
    Rs256,
}

impl Algorithm {
    /// The exact `alg` header value a token must carry for a key of this algorithm.
    pub(crate) fn header_name(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::Rs256 => "RS256",
        }
    }
}

// The HMAC key holds its precomputed pads inline (~1.2 KiB). Keys live behind an `Arc` and
// are never moved after start-up, so boxing it would only add a pointer chase per token.
#[allow(clippy::large_enum_variant)]
enum Inner {
    Hmac(hmac::Key),
    Rsa(signature::ParsedPublicKey),
}

/// A key that verifies signatures for exactly one algorithm.
pub(crate) struct VerifyingKey {
    inner: Inner,
}

impl VerifyingKey {
    /// An HS256 key from the raw secret bytes.
    pub(crate) fn hs256(secret: &[u8]) -> Self {
        Self {
            inner: Inner::Hmac(hmac::Key::new(hmac::HMAC_SHA256, secret)),
        }
    }

    /// An RS256 key from DER: SubjectPublicKeyInfo or PKCS#1 `RSAPublicKey`.
    pub(crate) fn rs256_from_der(der: &[u8]) -> Result<Self, &'static str> {
        let key = signature::ParsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, der)
            .map_err(|_| "not an RSA public key of 2048 to 8192 bits")?;
        Ok(Self {
            inner: Inner::Rsa(key),
        })
    }

    #[cfg(feature = "http")]
    /// An RS256 key from its big-endian modulus and exponent.
    pub(crate) fn rs256_from_components(n: &[u8], e: &[u8]) -> Result<Self, &'static str> {
        let key = aws_lc_rs::rsa::PublicKeyComponents { n, e }
            .to_parsed_public_key(&signature::RSA_PKCS1_2048_8192_SHA256)
            .map_err(|_| "not an RSA public key of 2048 to 8192 bits")?;
        Ok(Self {
            inner: Inner::Rsa(key),
        })
    }

    pub(crate) fn algorithm(&self) -> Algorithm {
        match self.inner {
            Inner::Hmac(_) => Algorithm::Hs256,
            Inner::Rsa(_) => Algorithm::Rs256,
        }
    }

    /// Verify `signature` over `message`. HMAC comparison is aws-lc's constant-time verify.
    pub(crate) fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        match &self.inner {
            Inner::Hmac(key) => hmac::verify(key, message, sig).is_ok(),
            Inner::Rsa(key) => key.verify_sig(message, sig).is_ok(),
        }
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("algorithm", &self.algorithm())
            .field("material", &"[redacted]")
            .finish()
    }
}

/// Parse a static realm key the SDKs' way: longer than 256 characters (or PEM-armoured) ⇒ RSA
/// public key (PEM, or bare base64 SPKI); otherwise the whole trimmed string is an HS256
/// secret.
pub(crate) fn parse_static_key(
    variable: &'static str,
    raw: &str,
) -> Result<VerifyingKey, ConfigError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(ConfigError::invalid(variable, "it is empty"));
    }
    // A PEM block is never a secret, whatever its length: a short (e.g. EC) PEM must fail
    // loudly rather than quietly become an HMAC key.
    if value.chars().count() > RSA_KEY_MIN_CHARS || value.contains("-----BEGIN") {
        parse_rsa_public_key(variable, value)
    } else {
        Ok(VerifyingKey::hs256(value.as_bytes()))
    }
}

/// Parse an RSA public key given as PEM, or as the bare base64 body of a
/// `-----BEGIN PUBLIC KEY-----` block (how AuthRocket shows it).
pub(crate) fn parse_rsa_public_key(
    variable: &'static str,
    value: &str,
) -> Result<VerifyingKey, ConfigError> {
    let pem = if value.contains("-----BEGIN") {
        if value.contains("PRIVATE KEY-----") {
            return Err(ConfigError::invalid(
                variable,
                "it holds a private key; give the realm's RSA *public* key",
            ));
        }
        if value.contains("CERTIFICATE-----") {
            return Err(ConfigError::invalid(
                variable,
                "it holds a certificate; give the realm's RSA public key (BEGIN PUBLIC KEY)",
            ));
        }
        value.to_owned()
    } else {
        let body: String = value.split_whitespace().collect();
        format!("-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n")
    };
    let not_rsa = || {
        ConfigError::invalid(
            variable,
            "it is longer than 256 characters, so it must be an RSA public key (PEM or bare \
             base64), and it does not parse as one",
        )
    };
    let decoded = jsonwebtoken::DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| not_rsa())?;
    let jsonwebtoken::DecodingKeyKind::SecretOrDer(der) = decoded.kind() else {
        return Err(not_rsa());
    };
    VerifyingKey::rs256_from_der(der).map_err(|why| ConfigError::invalid(variable, why))
}

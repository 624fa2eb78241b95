//! Offline verification: the JWT's signature with the realm's key, then its claims.

use std::borrow::Cow;
use std::sync::Arc;

use crate::claims::{ClaimRules, RawClaims};
use crate::error::VerifyError;
#[cfg(feature = "http")]
use crate::jwks::Jwks;
use crate::jwt::{Compact, Header, HeaderMemo};
use crate::keys::{Algorithm, VerifyingKey};
use crate::session::SessionData;

/// Where signature keys come from.
#[derive(Debug)]
pub(crate) enum Keys {
    /// `AUTHROCKET_JWT_KEY` / `AUTHROCKET_JWT_SECRET`, parsed once.
    Static(Arc<VerifyingKey>),
    /// `<LOGINROCKET_URL>/connect/jwks`.
    #[cfg(feature = "http")]
    Jwks(Jwks),
}

/// Signature and claims, with keys fixed at start-up.
#[derive(Debug)]
pub(crate) struct Offline {
    pub(crate) keys: Keys,
    pub(crate) rules: ClaimRules,
    /// Header segments of tokens that verified, so the realm's identical header is not
    /// decoded again for every token.
    headers: HeaderMemo,
}

/// A header that passed the rules, with its `kid`.
struct CheckedHeader<'v> {
    /// Borrowed from the memo when the header was remembered; owned (rare) when new.
    kid: Option<Cow<'v, str>>,
    /// Whether the memo already holds this header segment.
    remembered: bool,
}

impl Offline {
    pub(crate) fn new(keys: Keys, rules: ClaimRules) -> Self {
        Self {
            keys,
            rules,
            headers: HeaderMemo::default(),
        }
    }

    /// The key (static, or from the JWKS by `kid`), then the synchronous checks. Only a
    /// JWKS refetch awaits, so the decode buffers live on the stack of
    /// [`verify_with_key`](Self::verify_with_key), never in this future.
    pub(crate) async fn verify(
        &self,
        compact: Compact<'_>,
        now: i64,
    ) -> Result<SessionData, VerifyError> {
        match &self.keys {
            Keys::Static(key) => {
                let header = self.check_header(compact, key.algorithm())?;
                self.verify_with_key(compact, &header, key, now)
            }
            #[cfg(feature = "http")]
            Keys::Jwks(jwks) => {
                let header = self.check_header(compact, Algorithm::Rs256)?;
                let kid = header
                    .kid
                    .as_deref()
                    .filter(|k| !k.is_empty())
                    .ok_or(VerifyError::UNKNOWN_KEY)?;
                let key = jwks.key(kid).await?;
                self.verify_with_key(compact, &header, &key, now)
            }
        }
    }

    /// The header rules for a key of algorithm `expected`: answered from the memo of headers
    /// seen on verified tokens, or decoded, parsed and checked.
    fn check_header(
        &self,
        compact: Compact<'_>,
        expected: Algorithm,
    ) -> Result<CheckedHeader<'_>, VerifyError> {
        if let Some(kid) = self.headers.get(compact.header_segment()) {
            return Ok(CheckedHeader {
                kid: kid.map(Cow::Borrowed),
                remembered: true,
            });
        }
        let (mut buf, mut spill) = ([0u8; 256], Vec::new());
        let parsed = Header::parse(compact.header_bytes(&mut buf, &mut spill)?)?;
        parsed.check(expected)?;
        Ok(CheckedHeader {
            kid: parsed.kid.as_deref().map(|k| Cow::Owned(k.to_owned())),
            remembered: false,
        })
    }

    /// Signature, claims and rules with `key`, for a token whose header passed.
    fn verify_with_key(
        &self,
        compact: Compact<'_>,
        header: &CheckedHeader<'_>,
        key: &VerifyingKey,
        now: i64,
    ) -> Result<SessionData, VerifyError> {
        // Decoding checks the payload is canonical base64url (malformed otherwise); it is
        // parsed only once the signature has been verified.
        let (mut payload_buf, mut payload_spill) = ([0u8; 1024], Vec::new());
        let payload = compact.payload_bytes(&mut payload_buf, &mut payload_spill)?;
        compact.verify_signature(key)?;
        let claims = RawClaims::parse(payload)?;
        let generation = claims.validate(&self.rules, now)?;
        if !header.remembered {
            self.headers
                .remember(compact.header_segment(), header.kid.as_deref());
        }
        claims.to_session(generation)
    }
}

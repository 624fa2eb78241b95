//! Compact JWS handling: strict splitting, canonical base64url, the header
//! rules, and signature verification with a key that pins the algorithm.
//!
//! Nothing here trusts the token to choose anything: `alg` must equal the key's algorithm,
//! `jku`/`x5u`/`jwk`/`x5c` are never read, and `kid` is only returned to the caller so it can
//! select among keys the realm itself published.

use std::borrow::Cow;

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::Deserialize;

use crate::claims::Str;
use crate::error::VerifyError;
use crate::json;
use crate::keys::{Algorithm, VerifyingKey};

/// base64url as JWS requires it: no padding, no `+`/`/`, no non-zero trailing bits.
pub(crate) const B64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// The default maximum token length: 8 KiB.
pub(crate) const DEFAULT_MAX_TOKEN_LEN: usize = 8 * 1024;

/// Largest signature we accept: RSA-8192.
const MAX_SIGNATURE_LEN: usize = 1024;

/// A token split into its three segments, checked for shape but not yet verified.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Compact<'t> {
    /// `header.payload`: the bytes the signature covers.
    signing_input: &'t str,
    header: &'t str,
    payload: &'t str,
    signature: &'t str,
}

/// The header parameters we read. Everything else (`typ`, `jku`, `x5u`, `jwk`, `x5c`, …) is
/// skipped unread.
#[derive(Debug, Deserialize)]
pub(crate) struct Header<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) kid: Option<Str<'a>>,
    #[serde(default, deserialize_with = "present")]
    crit: bool,
}

/// `true` whenever the field is present at all, whatever its value.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(d).map(|_| true)
}

#[cfg(feature = "http")]
fn is_b64url_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Decode a segment into `buf` when it fits (headers and typical payloads: no allocation),
/// else into `spill`.
fn decode<'b>(
    segment: &str,
    buf: &'b mut [u8],
    spill: &'b mut Vec<u8>,
    what: &'static str,
) -> Result<&'b [u8], VerifyError> {
    if base64::decoded_len_estimate(segment.len()) <= buf.len() {
        let len = B64URL
            .decode_slice(segment, buf)
            .map_err(|_| VerifyError::malformed(what))?;
        Ok(&buf[..len])
    } else {
        *spill = B64URL
            .decode(segment)
            .map_err(|_| VerifyError::malformed(what))?;
        Ok(spill)
    }
}

impl<'t> Compact<'t> {
    /// Split a token: exactly three non-empty segments, within `max_len` bytes. The segments'
    /// characters are checked when they are decoded (or by [`check_charset`](Self::check_charset)
    /// when they are not).
    pub(crate) fn split(token: &'t str, max_len: usize) -> Result<Self, VerifyError> {
        if token.is_empty() {
            return Err(VerifyError::MISSING_TOKEN);
        }
        if token.len() > max_len {
            return Err(VerifyError::too_large(max_len));
        }
        let (header, rest) = token
            .split_once('.')
            .ok_or(VerifyError::malformed("not three segments"))?;
        let (payload, signature) = rest
            .split_once('.')
            .ok_or(VerifyError::malformed("not three segments"))?;
        if signature.contains('.') {
            return Err(VerifyError::malformed("not three segments"));
        }
        if header.is_empty() || payload.is_empty() || signature.is_empty() {
            return Err(VerifyError::malformed("empty segment"));
        }
        let signing_input = &token[..header.len() + 1 + payload.len()];
        Ok(Self {
            signing_input,
            header,
            payload,
            signature,
        })
    }

    /// The header segment, as sent.
    pub(crate) fn header_segment(&self) -> &'t str {
        self.header
    }

    #[cfg(feature = "http")]
    /// Check every character is base64url, for tokens that are sent on without being
    /// decoded (online mode).
    pub(crate) fn check_charset(&self) -> Result<(), VerifyError> {
        let all = [self.header, self.payload, self.signature];
        if all.iter().all(|s| s.bytes().all(is_b64url_char)) {
            Ok(())
        } else {
            Err(VerifyError::malformed("not base64url"))
        }
    }

    /// Decode the header segment into `buf` (or `spill` when it does not fit).
    pub(crate) fn header_bytes<'b>(
        &self,
        buf: &'b mut [u8],
        spill: &'b mut Vec<u8>,
    ) -> Result<&'b [u8], VerifyError> {
        decode(self.header, buf, spill, "header is not base64url")
    }

    /// Decode the payload segment into `buf` (or `spill` when it does not fit).
    pub(crate) fn payload_bytes<'b>(
        &self,
        buf: &'b mut [u8],
        spill: &'b mut Vec<u8>,
    ) -> Result<&'b [u8], VerifyError> {
        decode(self.payload, buf, spill, "payload is not base64url")
    }

    /// Verify the signature with `key`. The header must already have been checked against the
    /// key's algorithm ([`Header::check`]).
    pub(crate) fn verify_signature(&self, key: &VerifyingKey) -> Result<(), VerifyError> {
        let mut buf = [0u8; MAX_SIGNATURE_LEN + 4];
        let len = B64URL
            .decode_slice(self.signature, &mut buf)
            .map_err(|_| VerifyError::malformed("signature is not base64url"))?;
        if key.verify(self.signing_input.as_bytes(), &buf[..len]) {
            Ok(())
        } else {
            Err(VerifyError::BAD_SIGNATURE)
        }
    }
}

/// Header segments that already passed the header rules, with their `kid`. A realm signs
/// every token with the same header (per key), so decoding and parsing it again for every
/// token is wasted work. Keyed by the exact segment text (same bytes, same verdict), filled
/// only by tokens that verified completely (so a forger cannot fill it), at most 8 entries.
#[derive(Debug, Default)]
pub(crate) struct HeaderMemo {
    slots: [std::sync::OnceLock<KnownHeader>; 8],
}

/// A header segment that passed, and its `kid`.
type KnownHeader = (Box<str>, Option<Box<str>>);

impl HeaderMemo {
    /// `Some(kid)` when `segment` passed before.
    pub(crate) fn get(&self, segment: &str) -> Option<Option<&str>> {
        for slot in &self.slots {
            match slot.get() {
                Some((seen, kid)) if **seen == *segment => return Some(kid.as_deref()),
                Some(_) => continue,
                None => return None,
            }
        }
        None
    }

    /// Remember that `segment` (with `kid`) belongs to a token that verified.
    pub(crate) fn remember(&self, segment: &str, kid: Option<&str>) {
        for slot in &self.slots {
            if slot.get().is_some_and(|(seen, _)| **seen == *segment) {
                return;
            }
            if slot.set((segment.into(), kid.map(Into::into))).is_ok() {
                return;
            }
        }
    }
}

impl<'a> Header<'a> {
    /// Parse a decoded header: a JSON object nested at most 128 levels deep.
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<Self, VerifyError> {
        let invalid = VerifyError::malformed("header is not valid");
        let text = std::str::from_utf8(bytes).map_err(|_| invalid.clone())?;
        json::parse_object(text).ok_or(invalid)
    }

    /// Apply the header rules for a key of algorithm `expected`: `alg` must be exactly the
    /// key's algorithm (so `none`, `HS256` against an RSA key, … fail) and `crit` is refused.
    pub(crate) fn check(&self, expected: Algorithm) -> Result<(), VerifyError> {
        if self.alg != expected.header_name() {
            return Err(VerifyError::UNSUPPORTED_ALGORITHM);
        }
        if self.crit {
            return Err(VerifyError::UNSUPPORTED_HEADER);
        }
        Ok(())
    }
}

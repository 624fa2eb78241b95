//! Errors: [`VerifyError`] for a token that cannot be accepted, [`ConfigError`] for a
//! configuration that cannot work.
//!
//! Neither type ever carries a token, a secret or an API key: messages name the rule
//! that failed, never the value that failed it.

use std::time::Duration;

/// Why a token was not accepted.
///
/// Every variant has a stable machine-readable [`code`](VerifyError::code) and belongs to
/// one of three [kinds](VerifyError::kind): the token itself is not acceptable
/// ([`ErrorKind::Invalid`], answer 401), it cannot be checked right now
/// ([`ErrorKind::Unavailable`], answer 503 and let the client retry), or the request does
/// not say unambiguously which token it presents ([`ErrorKind::InvalidRequest`], answer 400;
/// raised by middleware that reads the request, never by [`Verifier::verify`](crate::Verifier::verify)).
///
/// ```
/// use authrocket_verify::{ErrorKind, VerifyError};
///
/// let err = VerifyError::Expired;
/// assert_eq!(err.code(), "expired");
/// assert_eq!(err.kind(), ErrorKind::Invalid);
/// assert_eq!(err.to_string(), "token has expired");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No token was presented.
    #[error("no token was presented")]
    MissingToken,
    /// The token is not a well-formed compact JWS / AuthRocket token.
    #[error("token is malformed: {reason}")]
    Malformed {
        /// Which structural rule failed (never the token's content).
        reason: &'static str,
    },
    /// The token is longer than the configured maximum.
    #[error("token is longer than the allowed {max} bytes")]
    TooLarge {
        /// The configured maximum length in bytes.
        max: usize,
    },
    /// The header names an algorithm other than the one pinned by the key (including `none`).
    #[error("token algorithm is not accepted for this key")]
    UnsupportedAlgorithm,
    /// The header carries a parameter this verifier refuses to process (`crit`).
    #[error("token header has an unsupported critical parameter")]
    UnsupportedHeader,
    /// The signature does not match.
    #[error("token signature is invalid")]
    BadSignature,
    /// The token's `kid` is absent or not among the realm's published keys.
    #[error("token was signed by an unknown key")]
    UnknownKey,
    /// `exp` has passed (beyond the configured leeway).
    #[error("token has expired")]
    Expired,
    /// `nbf` or `iat` lies in the future (beyond the configured leeway).
    #[error("token is not valid yet")]
    NotYetValid,
    /// A claim is missing, empty or of the wrong type.
    #[error("token claims are invalid: {reason}")]
    InvalidClaims {
        /// Which claim rule failed.
        reason: &'static str,
    },
    /// `iss` is not the configured issuer.
    #[error("token was issued by an unexpected issuer")]
    WrongIssuer,
    /// The token belongs to another realm (`rid` / `aud`).
    #[error("token belongs to another realm{hint}")]
    WrongRealm {
        /// Extra guidance for the operator (e.g. to set `AUTHROCKET_REALM`).
        hint: &'static str,
    },
    /// The session API says the session does not exist (logged out, revoked, never existed).
    #[error("session has been revoked or does not exist")]
    Revoked,
    /// The token cannot be checked right now (session API or JWKS unreachable, rate limited,
    /// misbehaving). The caller should answer 503.
    #[error("token cannot be verified right now: {reason}")]
    Unavailable {
        /// What went wrong upstream (never a URL with a token in it).
        reason: &'static str,
        /// How long the client should wait before retrying, when known.
        retry_after: Option<Duration>,
    },
    /// The session API refused *our* credentials (401/402/403): an operator error.
    /// The user's token was not the problem, so the caller answers 503, not 401.
    #[error("the session API rejected this server's API credentials")]
    ApiCredentials,
    /// The request's credentials are ambiguous or unreadable: two `Authorization` fields,
    /// several token cookies with different values, an `Authorization` field that cannot be
    /// read. Answer 400 (`invalid_request`); never pick one.
    #[error("the request's credentials are ambiguous or unreadable: {reason}")]
    InvalidRequest {
        /// What is wrong with the request (never a token).
        reason: &'static str,
    },
}

/// The two families of [`VerifyError`]: what a caller should answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The token is missing or not acceptable: answer 401.
    Invalid,
    /// The token cannot be checked right now: answer 503 with `Retry-After`.
    Unavailable,
    /// The request does not say unambiguously which token it presents: answer 400.
    InvalidRequest,
}

impl VerifyError {
    /// A stable, machine-readable code for this error, suitable for logs, metrics and
    /// response bodies. Codes never change meaning between versions.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingToken => "missing_token",
            Self::Malformed { .. } => "malformed",
            Self::TooLarge { .. } => "too_large",
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::UnsupportedHeader => "unsupported_header",
            Self::BadSignature => "bad_signature",
            Self::UnknownKey => "unknown_key",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::InvalidClaims { .. } => "invalid_claims",
            Self::WrongIssuer => "wrong_issuer",
            Self::WrongRealm { .. } => "wrong_realm",
            Self::Revoked => "revoked",
            Self::Unavailable { .. } => "unavailable",
            Self::ApiCredentials => "api_credentials",
            Self::InvalidRequest { .. } => "invalid_request",
        }
    }

    /// Whether the token is bad ([`ErrorKind::Invalid`]), could not be checked
    /// ([`ErrorKind::Unavailable`]), or the request is ambiguous
    /// ([`ErrorKind::InvalidRequest`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Unavailable { .. } | Self::ApiCredentials => ErrorKind::Unavailable,
            Self::InvalidRequest { .. } => ErrorKind::InvalidRequest,
            _ => ErrorKind::Invalid,
        }
    }

    /// `true` when the caller should answer 503 rather than 401.
    pub fn is_unavailable(&self) -> bool {
        self.kind() == ErrorKind::Unavailable
    }

    /// For [`ErrorKind::Unavailable`] errors: how long the client should wait, when known.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Unavailable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub(crate) const fn malformed(reason: &'static str) -> Self {
        Self::Malformed { reason }
    }

    pub(crate) const fn invalid_claims(reason: &'static str) -> Self {
        Self::InvalidClaims { reason }
    }

    pub(crate) const fn unavailable(reason: &'static str) -> Self {
        Self::Unavailable {
            reason,
            retry_after: None,
        }
    }
}

/// A configuration that cannot work, found when the [`Verifier`](crate::Verifier) is built.
///
/// The message always names the environment variable (or the builder method) to fix, and
/// never repeats a secret value.
///
/// ```
/// use authrocket_verify::Verifier;
///
/// let err = Verifier::builder().build().unwrap_err();
/// assert_eq!(err.code(), "no_key_source");
/// assert!(err.to_string().contains("AUTHROCKET_JWT_KEY"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Nothing to verify tokens with.
    #[error(
        "no way to verify AuthRocket tokens: set AUTHROCKET_JWT_KEY (or AUTHROCKET_JWT_SECRET), \
         LOGINROCKET_URL (for the realm's JWKS), or AUTHROCKET_URL with AUTHROCKET_API_KEY \
         (for the session API)"
    )]
    NoKeySource,
    /// A variable holds a value that cannot be used.
    #[error("{variable} is invalid: {reason}")]
    Invalid {
        /// The environment variable (or builder setting) to fix.
        variable: &'static str,
        /// What is wrong with it (never the value itself).
        reason: String,
    },
    /// A mode was asked for whose prerequisites are not configured.
    #[error("{variable}={mode} needs {needs}")]
    ModeNeeds {
        /// The variable that chose the mode.
        variable: &'static str,
        /// The mode asked for.
        mode: &'static str,
        /// What must be configured as well.
        needs: &'static str,
    },
}

impl ConfigError {
    /// A stable, machine-readable code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoKeySource => "no_key_source",
            Self::Invalid { .. } => "invalid_setting",
            Self::ModeNeeds { .. } => "mode_prerequisite",
        }
    }

    /// The environment variable this error is about, when it is about one.
    pub fn variable(&self) -> Option<&'static str> {
        match self {
            Self::NoKeySource => None,
            Self::Invalid { variable, .. } | Self::ModeNeeds { variable, .. } => Some(variable),
        }
    }

    pub(crate) fn invalid(variable: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            variable,
            reason: reason.into(),
        }
    }
}

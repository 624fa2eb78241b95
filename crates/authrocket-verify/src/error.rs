//! Errors: [`VerifyError`] for a token that cannot be accepted, [`ConfigError`] for a
//! configuration that cannot work.
//!
//! Neither type ever carries a token, a secret or an API key: messages name the rule
//! that failed, never the value that failed it.

use std::time::Duration;

/// Why a token was not accepted.
///
/// Opaque, so causes can be added without breaking anyone: ask it through methods. Every
/// cause has a stable machine-readable [`code`](VerifyError::code) and belongs to one
/// [kind](VerifyError::kind) that says what to answer: no token ([`ErrorKind::Missing`],
/// 401), a token that is not acceptable ([`ErrorKind::Invalid`], 401), one that cannot be
/// checked right now ([`ErrorKind::Unavailable`], 503, let the client retry), or a request
/// that does not say unambiguously which token it presents ([`ErrorKind::InvalidRequest`],
/// 400; raised by middleware that reads the request, never by
/// [`Verifier::verify`](crate::Verifier::verify)).
///
/// Its `Display` is for the client: it names the rule that failed, never a token, a secret,
/// or a hint meant for the operator (those go to the logs).
///
/// ```
/// use authrocket_verify::{ErrorKind, VerifyError};
///
/// let err = VerifyError::missing_token();
/// assert_eq!(err.code(), "missing_token");
/// assert_eq!(err.kind(), ErrorKind::Missing);
/// assert_eq!(err.to_string(), "no token was presented");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{cause}")]
pub struct VerifyError {
    cause: Cause,
}

/// The causes, private so they can grow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum Cause {
    #[error("no token was presented")]
    MissingToken,
    #[error("token is malformed: {0}")]
    Malformed(&'static str),
    #[error("token is longer than the allowed {0} bytes")]
    TooLarge(usize),
    #[error("token algorithm is not accepted for this key")]
    UnsupportedAlgorithm,
    #[error("token header has an unsupported critical parameter")]
    UnsupportedHeader,
    #[error("token signature is invalid")]
    BadSignature,
    #[error("token was signed by an unknown key")]
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    UnknownKey,
    #[error("token has expired")]
    Expired,
    #[error("token is not valid yet")]
    NotYetValid,
    #[error("token claims are invalid: {0}")]
    InvalidClaims(&'static str),
    #[error("token was issued by an unexpected issuer")]
    WrongIssuer,
    /// `unconfigured`: the token names a realm and none is configured (an operator hint).
    #[error("token belongs to another realm")]
    WrongRealm { unconfigured: bool },
    #[error("session has been revoked or does not exist")]
    Revoked,
    #[error("token cannot be verified right now: {reason}")]
    Unavailable {
        reason: &'static str,
        retry_after: Option<Duration>,
    },
    /// Our own API credentials were refused: said to the client only as "unavailable".
    #[error("token cannot be verified right now")]
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    ApiCredentials,
    #[error("the request's credentials are ambiguous or unreadable: {0}")]
    InvalidRequest(&'static str),
}

/// What a caller should answer for a [`VerifyError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No token was presented: answer 401 with a bare `WWW-Authenticate` challenge.
    Missing,
    /// The token is not acceptable: answer 401.
    Invalid,
    /// The token cannot be checked right now: answer 503 with `Retry-After`.
    Unavailable,
    /// The request does not say unambiguously which token it presents: answer 400.
    InvalidRequest,
}

impl VerifyError {
    pub(crate) const MISSING_TOKEN: Self = Self::of(Cause::MissingToken);
    pub(crate) const UNSUPPORTED_ALGORITHM: Self = Self::of(Cause::UnsupportedAlgorithm);
    pub(crate) const UNSUPPORTED_HEADER: Self = Self::of(Cause::UnsupportedHeader);
    pub(crate) const BAD_SIGNATURE: Self = Self::of(Cause::BadSignature);
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) const UNKNOWN_KEY: Self = Self::of(Cause::UnknownKey);
    pub(crate) const EXPIRED: Self = Self::of(Cause::Expired);
    pub(crate) const NOT_YET_VALID: Self = Self::of(Cause::NotYetValid);
    pub(crate) const WRONG_ISSUER: Self = Self::of(Cause::WrongIssuer);
    pub(crate) const REVOKED: Self = Self::of(Cause::Revoked);
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) const API_CREDENTIALS: Self = Self::of(Cause::ApiCredentials);

    const fn of(cause: Cause) -> Self {
        Self { cause }
    }

    /// No token was presented — for middleware that finds none in a request.
    ///
    /// ```
    /// assert_eq!(authrocket_verify::VerifyError::missing_token().code(), "missing_token");
    /// ```
    pub const fn missing_token() -> Self {
        Self::MISSING_TOKEN
    }

    /// The request's credentials are ambiguous or unreadable (`reason` says how; it must
    /// never contain a token) — for middleware that reads them.
    ///
    /// ```
    /// let err = authrocket_verify::VerifyError::invalid_request("two Authorization fields");
    /// assert_eq!(err.code(), "invalid_request");
    /// ```
    pub const fn invalid_request(reason: &'static str) -> Self {
        Self::of(Cause::InvalidRequest(reason))
    }

    pub(crate) const fn malformed(reason: &'static str) -> Self {
        Self::of(Cause::Malformed(reason))
    }

    pub(crate) const fn too_large(max: usize) -> Self {
        Self::of(Cause::TooLarge(max))
    }

    pub(crate) const fn invalid_claims(reason: &'static str) -> Self {
        Self::of(Cause::InvalidClaims(reason))
    }

    /// Another realm's token; `unconfigured` when no realm is configured and the token
    /// names one (the operator should set `AUTHROCKET_REALM`).
    pub(crate) const fn wrong_realm(unconfigured: bool) -> Self {
        Self::of(Cause::WrongRealm { unconfigured })
    }

    pub(crate) const fn unavailable(reason: &'static str) -> Self {
        Self::unavailable_for(reason, None)
    }

    pub(crate) const fn unavailable_for(
        reason: &'static str,
        retry_after: Option<Duration>,
    ) -> Self {
        Self::of(Cause::Unavailable {
            reason,
            retry_after,
        })
    }

    /// A stable, machine-readable code for this error, suitable for logs, metrics and
    /// response bodies. Codes never change meaning between versions.
    ///
    /// `missing_token`, `malformed`, `too_large`, `unsupported_algorithm`,
    /// `unsupported_header`, `bad_signature`, `unknown_key`, `expired`, `not_yet_valid`,
    /// `invalid_claims`, `wrong_issuer`, `wrong_realm`, `revoked`, `unavailable`,
    /// `api_credentials` (this server's API key was refused: an operator error, reported to
    /// clients as `unavailable`), `invalid_request`.
    pub fn code(&self) -> &'static str {
        match self.cause {
            Cause::MissingToken => "missing_token",
            Cause::Malformed(_) => "malformed",
            Cause::TooLarge(_) => "too_large",
            Cause::UnsupportedAlgorithm => "unsupported_algorithm",
            Cause::UnsupportedHeader => "unsupported_header",
            Cause::BadSignature => "bad_signature",
            Cause::UnknownKey => "unknown_key",
            Cause::Expired => "expired",
            Cause::NotYetValid => "not_yet_valid",
            Cause::InvalidClaims(_) => "invalid_claims",
            Cause::WrongIssuer => "wrong_issuer",
            Cause::WrongRealm { .. } => "wrong_realm",
            Cause::Revoked => "revoked",
            Cause::Unavailable { .. } => "unavailable",
            Cause::ApiCredentials => "api_credentials",
            Cause::InvalidRequest(_) => "invalid_request",
        }
    }

    /// What a caller should answer: see [`ErrorKind`].
    pub fn kind(&self) -> ErrorKind {
        match self.cause {
            Cause::MissingToken => ErrorKind::Missing,
            Cause::Unavailable { .. } | Cause::ApiCredentials => ErrorKind::Unavailable,
            Cause::InvalidRequest(_) => ErrorKind::InvalidRequest,
            _ => ErrorKind::Invalid,
        }
    }

    /// `true` when the caller should answer 503 rather than 401.
    pub fn is_unavailable(&self) -> bool {
        self.kind() == ErrorKind::Unavailable
    }

    /// For [`ErrorKind::Unavailable`] errors: how long the client should wait, when known.
    pub fn retry_after(&self) -> Option<Duration> {
        match self.cause {
            Cause::Unavailable { retry_after, .. } => retry_after,
            _ => None,
        }
    }

    /// Log this rejection at `debug` (never louder: a flood of bad tokens must not flood the
    /// logs), with what an operator should know that the client is not told.
    pub(crate) fn log_rejection(&self) {
        let hint = match self.cause {
            Cause::WrongRealm { unconfigured: true } => {
                "the token carries an aud claim: set AUTHROCKET_REALM to accept it"
            }
            Cause::ApiCredentials => {
                "the session API refused this server's credentials: check AUTHROCKET_API_KEY, \
                 AUTHROCKET_REALM and AUTHROCKET_URL"
            }
            _ => "",
        };
        tracing::debug!(code = self.code(), reason = %self, hint, "authrocket: token rejected");
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
#[error("{problem}")]
pub struct ConfigError {
    problem: Problem,
}

/// The problems, private so they can grow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum Problem {
    #[error(
        "no way to verify AuthRocket tokens: set AUTHROCKET_JWT_KEY (or AUTHROCKET_JWT_SECRET), \
         LOGINROCKET_URL (for the realm's JWKS), or AUTHROCKET_URL with AUTHROCKET_API_KEY \
         (for the session API)"
    )]
    NoKeySource,
    #[error("{variable} is invalid: {reason}")]
    Invalid {
        variable: &'static str,
        reason: String,
    },
    #[error("the HTTP client (rustls) for the JWKS and the session API could not be built")]
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    HttpClient,
    #[error("{variable}={mode} needs {needs}")]
    ModeNeeds {
        variable: &'static str,
        mode: &'static str,
        needs: &'static str,
    },
}

impl ConfigError {
    /// Nothing to verify tokens with.
    pub(crate) const NO_KEY_SOURCE: Self = Self::of(Problem::NoKeySource);
    /// The HTTP client could not be built (its TLS set-up failed): the machine's problem,
    /// not a setting's.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) const HTTP_CLIENT: Self = Self::of(Problem::HttpClient);

    const fn of(problem: Problem) -> Self {
        Self { problem }
    }

    /// `variable` asked for `mode`, which needs what is `needs`.
    pub(crate) const fn mode_needs(
        variable: &'static str,
        mode: &'static str,
        needs: &'static str,
    ) -> Self {
        Self::of(Problem::ModeNeeds {
            variable,
            mode,
            needs,
        })
    }

    /// A stable, machine-readable code for this error: `no_key_source`, `invalid_setting`,
    /// `mode_prerequisite`, `http_client`.
    pub fn code(&self) -> &'static str {
        match self.problem {
            Problem::NoKeySource => "no_key_source",
            Problem::HttpClient => "http_client",
            Problem::Invalid { .. } => "invalid_setting",
            Problem::ModeNeeds { .. } => "mode_prerequisite",
        }
    }

    /// The environment variable (or builder setting) to fix, when the error is about one.
    pub fn variable(&self) -> Option<&'static str> {
        match self.problem {
            Problem::NoKeySource | Problem::HttpClient => None,
            Problem::Invalid { variable, .. } | Problem::ModeNeeds { variable, .. } => {
                Some(variable)
            }
        }
    }

    pub(crate) fn invalid(variable: &'static str, reason: impl Into<String>) -> Self {
        Self::of(Problem::Invalid {
            variable,
            reason: reason.into(),
        })
    }
}

//! What a verifier fetches over HTTP — the realm's JWKS, the session API (online and hybrid
//! modes, events) — built when the settings ask for it. Without the `http` cargo feature,
//! asking for it is a start-up error that names the setting.

#[cfg(feature = "http")]
use std::sync::Arc;

use crate::clock::Now;
use crate::config::{VerifierBuilder, VerifyMode};
use crate::error::ConfigError;
use crate::events::Api;
use crate::strategy::{Keys, Offline, Strategy};

/// The HTTP client and the session API, when configured.
pub(super) struct Remote {
    #[cfg(feature = "http")]
    client: Option<reqwest::Client>,
    /// One client of the session API (one budget for the key) for verifications and events.
    pub(super) api: Option<Api>,
}

#[cfg(feature = "http")]
impl Remote {
    /// The client when the JWKS (`needs_jwks`) or the session API (`needs_api`) will be
    /// fetched, and the session API when needed.
    pub(super) fn new(
        b: &VerifierBuilder,
        needs_jwks: bool,
        needs_api: bool,
        now: &Now,
    ) -> Result<Self, ConfigError> {
        use crate::api_gate::ApiGate;
        use crate::session_api::{ApiSettings, SessionApi};

        let client = match needs_jwks || needs_api {
            true => Some(crate::http::client(b.api_timeout)?),
            false => None,
        };
        let api = match (needs_api, &client) {
            (true, Some(client)) => Some(Arc::new(SessionApi::new(
                ApiSettings {
                    url: b.authrocket_url.as_deref().unwrap_or_default(),
                    api_key: b.api_key.as_ref(),
                    realm: b.realm.as_deref(),
                    service: b.service.as_deref(),
                    account: b.account.as_deref(),
                },
                client.clone(),
                ApiGate::new(b.api_budget, now.clone()),
            )?)),
            _ => None,
        };
        Ok(Self { client, api })
    }

    /// The keys of `<base>/connect/jwks`.
    pub(super) fn jwks(
        &self,
        base: &url::Url,
        b: &VerifierBuilder,
        now: &Now,
    ) -> Result<Keys, ConfigError> {
        let client = self.client.clone().ok_or(ConfigError::NO_KEY_SOURCE)?;
        Ok(Keys::Jwks(crate::jwks::Jwks::new(
            crate::urls::join_path(base, &["connect", "jwks"]),
            client,
            b.jwks_refresh_interval,
            now.clone(),
        )))
    }

    /// The strategy of `mode`, with its offline part from `offline`.
    pub(super) fn strategy(
        &self,
        mode: VerifyMode,
        offline: impl FnOnce() -> Result<Offline, ConfigError>,
    ) -> Result<Strategy, ConfigError> {
        let api = || self.api.clone().ok_or(ConfigError::NO_KEY_SOURCE);
        Ok(match mode {
            VerifyMode::Offline => Strategy::Offline(offline()?),
            VerifyMode::Online => Strategy::Online(api()?),
            VerifyMode::Hybrid => Strategy::Hybrid(offline()?, api()?),
        })
    }
}

/// Why a setting cannot work in this build.
#[cfg(not(feature = "http"))]
fn needs_http(variable: &'static str, what: &str) -> ConfigError {
    ConfigError::invalid(
        variable,
        format!("{what} needs the `http` cargo feature of authrocket-verify (on by default)"),
    )
}

#[cfg(not(feature = "http"))]
impl Remote {
    /// Nothing can be fetched: asking for the session API is an error.
    pub(super) fn new(
        _: &VerifierBuilder,
        _needs_jwks: bool,
        needs_api: bool,
        _: &Now,
    ) -> Result<Self, ConfigError> {
        match needs_api {
            true => Err(needs_http(
                "AUTHROCKET_URL",
                "the session API (online and hybrid modes, events)",
            )),
            false => Ok(Self { api: None }),
        }
    }

    /// No JWKS without HTTP.
    pub(super) fn jwks(
        &self,
        _: &url::Url,
        _: &VerifierBuilder,
        _: &Now,
    ) -> Result<Keys, ConfigError> {
        Err(needs_http(
            "LOGINROCKET_URL",
            "fetching the realm's JWKS (set AUTHROCKET_JWT_KEY to verify with a static key)",
        ))
    }

    /// Offline only.
    pub(super) fn strategy(
        &self,
        mode: VerifyMode,
        offline: impl FnOnce() -> Result<Offline, ConfigError>,
    ) -> Result<Strategy, ConfigError> {
        match mode {
            VerifyMode::Offline => Ok(Strategy::Offline(offline()?)),
            mode => Err(ConfigError::mode_needs(
                "AUTHROCKET_VERIFY_MODE",
                mode.as_str(),
                "the `http` cargo feature",
            )),
        }
    }
}

/// Built without the `http` feature (`cargo test -p authrocket-verify --no-default-features
/// --lib`, which `.ci/run` runs): a static key works, anything that needs HTTP is refused at
/// start-up, naming the setting.
#[cfg(all(test, not(feature = "http")))]
mod tests {
    use crate::{Verifier, VerifyMode};

    #[test]
    fn without_http_a_static_key_works_and_the_rest_names_its_setting() {
        let ok = Verifier::builder().jwt_key("jsk_example_secret").build();
        assert!(ok.is_ok());
        let jwks = Verifier::builder()
            .loginrocket_url("https://example.loginrocket.com/")
            .build()
            .unwrap_err();
        assert_eq!(jwks.variable(), Some("LOGINROCKET_URL"));
        assert!(jwks.to_string().contains("`http` cargo feature"), "{jwks}");
        let online = Verifier::builder()
            .authrocket_url("https://example.authrocket.com/v2")
            .api_key("ks_example")
            .build()
            .unwrap_err();
        assert_eq!(online.variable(), Some("AUTHROCKET_URL"));
        let hybrid = Verifier::builder()
            .jwt_key("jsk_example_secret")
            .mode(VerifyMode::Hybrid)
            .authrocket_url("https://example.authrocket.com/v2")
            .api_key("ks_example")
            .build()
            .unwrap_err();
        assert!(matches!(
            hybrid.variable(),
            Some("AUTHROCKET_URL" | "AUTHROCKET_VERIFY_MODE")
        ));
        // Login redirects still know LoginRocket's URL with a static key.
        let v = Verifier::builder()
            .jwt_key("jsk_example_secret")
            .loginrocket_url("https://example.loginrocket.com/")
            .build()
            .unwrap();
        assert!(v.loginrocket_url().is_some());
    }
}

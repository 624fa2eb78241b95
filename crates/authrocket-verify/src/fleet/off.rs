//! The fleet tier when the `redis` feature is off: a type with no values, so the verifier's
//! code has one path and the compiler removes it.

use crate::cache::Digest;
use crate::session::Session;

use super::{FleetSettings, Listener, Shared};
use crate::error::ConfigError;

/// No fleet tier: never built.
#[derive(Debug)]
pub(crate) enum Fleet {}

impl Fleet {
    /// Redis was asked for, but this build cannot speak to it.
    pub(crate) fn new(_: FleetSettings<'_>) -> Result<Self, ConfigError> {
        Err(ConfigError::invalid(
            "AUTHROCKET_REDIS_URL",
            "this build has no Redis support: enable the `redis` cargo feature",
        ))
    }

    pub(crate) fn start(&self, _: std::sync::Weak<dyn Listener>) {
        match *self {}
    }

    pub(crate) async fn verdict(&self, _: &Digest) -> Shared {
        match *self {}
    }

    pub(crate) async fn settle(&self, _: &Digest, _: Option<(&Session, i64)>, _: bool) {
        match *self {}
    }

    pub(crate) fn revoked(&self, _: &str, _: i64) {
        match *self {}
    }

    pub(crate) fn forgotten(&self, _: &str) {
        match *self {}
    }

    pub(crate) fn stats(&self) -> super::FleetStats {
        match *self {}
    }
}

//! Helpers shared by the root package's integration tests (each test binary uses a part).
#![allow(dead_code)]

pub mod chromium;
pub mod server;

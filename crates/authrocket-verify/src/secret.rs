//! [`Secret`]: a string that must never be printed.

use std::fmt;

/// A secret value (a realm key, an API key): `Debug` shows `[redacted]`.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Secret(pub(crate) String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

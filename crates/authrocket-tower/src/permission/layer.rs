//! [`RequirePermissionLayer`].

use std::sync::Arc;

/// Makes [`RequirePermission`](super::RequirePermission) services requiring one permission.
/// See the [module docs](super).
#[derive(Debug, Clone)]
pub struct RequirePermissionLayer {
    pub(crate) permission: Arc<str>,
}

impl RequirePermissionLayer {
    /// Require `permission` (matched exactly).
    pub fn new(permission: impl Into<Arc<str>>) -> Self {
        Self {
            permission: permission.into(),
        }
    }
}

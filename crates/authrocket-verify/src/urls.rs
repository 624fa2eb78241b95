//! The URLs of the settings (`LOGINROCKET_URL`, `AUTHROCKET_URL`): checked once, joined with
//! path segments.

use crate::error::ConfigError;

/// `value` as an absolute http(s) URL without query or fragment, else an error naming
/// `variable`.
pub(crate) fn parse_url(variable: &'static str, value: &str) -> Result<url::Url, ConfigError> {
    let url = url::Url::parse(value.trim())
        .map_err(|_| ConfigError::invalid(variable, "not an absolute URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::invalid(
            variable,
            "the URL must use http or https",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::invalid(
            variable,
            "the URL must not have a query or fragment",
        ));
    }
    Ok(url)
}

#[cfg(feature = "http")]
/// `base` with `segments` appended as path segments (one `/` between, whatever `base` ends in).
pub(crate) fn join_path(base: &url::Url, segments: &[&str]) -> url::Url {
    let mut url = base.clone();
    {
        let mut path = url.path_segments_mut().expect("http(s) URLs have a path");
        path.pop_if_empty().extend(segments);
    }
    url
}

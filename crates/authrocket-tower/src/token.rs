//! Where the token comes from (SPEC §6): `Authorization: Bearer` (scheme case-insensitive),
//! then the `arToken` cookie — or a custom header. Query strings are never read here.

use http::HeaderMap;
use http::header::{AUTHORIZATION, COOKIE, HeaderName};

/// The cookie AuthRocket's frontends and the login helper use.
pub const DEFAULT_COOKIE: &str = "arToken";

/// Where a token was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenSource {
    /// `Authorization: Bearer …`
    Bearer,
    /// The configured cookie.
    Cookie,
    /// The configured custom header.
    Header,
}

/// Which token sources the layer reads, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenSources {
    pub(crate) bearer: bool,
    pub(crate) cookie: Option<String>,
    pub(crate) header: Option<HeaderName>,
}

impl Default for TokenSources {
    fn default() -> Self {
        Self {
            bearer: true,
            cookie: Some(DEFAULT_COOKIE.to_owned()),
            header: None,
        }
    }
}

/// The token of an `Authorization` value when its scheme is Bearer (any case).
/// `Some("")` for a Bearer header without a token.
pub(crate) fn bearer(value: &str) -> Option<&str> {
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim_matches(' '))
}

/// The value of cookie `name` in the request's `Cookie` header(s).
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim().trim_matches('"'))
}

impl TokenSources {
    /// The first token found, and where. An empty token counts as found (and will be
    /// rejected as malformed), so `Authorization: Bearer` alone is not "anonymous".
    pub(crate) fn find<'h>(&self, headers: &'h HeaderMap) -> Option<(&'h str, TokenSource)> {
        if self.bearer {
            let found = headers
                .get_all(AUTHORIZATION)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(bearer);
            if let Some(token) = found {
                return Some((token, TokenSource::Bearer));
            }
        }
        if let Some(name) = &self.header {
            if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok()) {
                return Some((bearer(v).unwrap_or(v.trim()), TokenSource::Header));
            }
        }
        if let Some(name) = &self.cookie {
            if let Some(v) = cookie(headers, name).filter(|v| !v.is_empty()) {
                return Some((v, TokenSource::Cookie));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        for v in ["Bearer abc", "bearer abc", "BEARER abc", "bEaReR   abc"] {
            assert_eq!(bearer(v), Some("abc"), "{v}");
        }
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer"), Some(""));
        assert_eq!(bearer("Bearerabc"), None);
    }

    #[test]
    fn bearer_wins_over_cookie_and_cookie_is_found_among_others() {
        let s = TokenSources::default();
        let h = headers(&[("authorization", "Bearer b"), ("cookie", "arToken=c")]);
        assert_eq!(s.find(&h), Some(("b", TokenSource::Bearer)));
        let h = headers(&[("cookie", "a=1; arToken=c; z=2")]);
        assert_eq!(s.find(&h), Some(("c", TokenSource::Cookie)));
        let h = headers(&[("cookie", "a=1"), ("cookie", "arToken=d")]);
        assert_eq!(s.find(&h), Some(("d", TokenSource::Cookie)));
        let h = headers(&[("authorization", "Basic xyz"), ("cookie", "arTokenX=1")]);
        assert_eq!(s.find(&h), None);
    }

    #[test]
    fn sources_can_be_turned_off_or_renamed() {
        let s = TokenSources {
            bearer: false,
            cookie: Some("session".into()),
            header: Some(HeaderName::from_static("x-token")),
        };
        let h = headers(&[
            ("authorization", "Bearer b"),
            ("cookie", "session=c"),
            ("x-token", "h"),
        ]);
        assert_eq!(s.find(&h), Some(("h", TokenSource::Header)));
        let h = headers(&[
            ("authorization", "Bearer b"),
            ("cookie", "arToken=x; session=c"),
        ]);
        assert_eq!(s.find(&h), Some(("c", TokenSource::Cookie)));
    }
}

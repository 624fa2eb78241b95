//! Where the token comes from: `Authorization: Bearer` (scheme case-insensitive),
//! then the `arToken` cookie — or a custom header. Query strings are never read here.

use http::HeaderMap;
use http::header::{AUTHORIZATION, COOKIE, HeaderName};

use crate::cookie::TokenCookie;

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
    pub(crate) cookie: Option<TokenCookie>,
    pub(crate) header: Option<HeaderName>,
}

impl Default for TokenSources {
    fn default() -> Self {
        Self {
            bearer: true,
            cookie: Some(TokenCookie::default()),
            header: None,
        }
    }
}

/// Why the request's credentials cannot be used: it is ambiguous or unreadable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unusable {
    pub(crate) reason: &'static str,
    pub(crate) source: TokenSource,
}

impl Unusable {
    fn new(reason: &'static str, source: TokenSource) -> Self {
        Self { reason, source }
    }
}

/// The token in an `Authorization` value: `Some` for `Bearer <token>` (scheme in any case,
/// one or more spaces), `None` for another scheme (not ours to judge), an error for a value
/// that is not readable: anything but visible ASCII and spaces (a tab for the space,
/// obs-text), or a Bearer credential that is empty or more than one token.
pub(crate) fn bearer(value: &[u8]) -> Result<Option<&str>, &'static str> {
    let trimmed = trim_spaces(value);
    if trimmed.is_empty() {
        return Err("the Authorization field is empty");
    }
    let (scheme, rest) = match trimmed.iter().position(|&b| b == b' ') {
        Some(i) => trimmed.split_at(i),
        None => (trimmed, &b""[..]),
    };
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        // Another scheme is not ours to judge, but it must be readable.
        return match all_in(value, b' '..=b'~') {
            true => Ok(None),
            false => Err("the Authorization field is not readable"),
        };
    }
    let token = trim_spaces(rest);
    // One token68: visible ASCII, no space, no tab.
    if token.is_empty() || !all_in(token, b'!'..=b'~') {
        return Err("the Bearer credential is empty, unreadable or not a single token");
    }
    std::str::from_utf8(token)
        .map(Some)
        .map_err(|_| "the Authorization field is not readable")
}

fn trim_spaces(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != b' ').unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| b != b' ')
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// Whether every byte is in `range`. No early exit, so the compiler vectorises it: this runs
/// on every request, over a token of about 700 bytes.
fn all_in(bytes: &[u8], range: std::ops::RangeInclusive<u8>) -> bool {
    let (lo, hi) = (*range.start(), *range.end());
    bytes.iter().fold(true, |ok, &b| ok & (lo <= b) & (b <= hi))
}

/// The one value of cookie `name` in the request's `Cookie` header(s): several cookies of
/// that name with different values are ambiguous. Other cookies may hold anything.
pub(crate) fn cookie<'h>(
    headers: &'h HeaderMap,
    name: &str,
) -> Result<Option<&'h str>, &'static str> {
    let mut found: Option<&'h [u8]> = None;
    for value in headers.get_all(COOKIE) {
        for pair in value.as_bytes().split(|&b| b == b';') {
            let Some(eq) = pair.iter().position(|&b| b == b'=') else {
                continue;
            };
            if pair[..eq].trim_ascii() != name.as_bytes() {
                continue;
            }
            let v = pair[eq + 1..].trim_ascii();
            let v = v
                .strip_prefix(b"\"")
                .and_then(|v| v.strip_suffix(b"\""))
                .unwrap_or(v);
            match found {
                _ if v.is_empty() => {}
                Some(seen) if seen != v => {
                    return Err("several token cookies with different values");
                }
                _ => found = Some(v),
            }
        }
    }
    found
        .map(|v| std::str::from_utf8(v).map_err(|_| "the token cookie is not readable"))
        .transpose()
}

/// The one field `name`, if present: a second field is ambiguous.
fn single<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Result<Option<&'h [u8]>, &'static str> {
    let mut all = headers.get_all(name).iter();
    match (all.next(), all.next()) {
        (Some(_), Some(_)) => Err("more than one field carries credentials"),
        (one, _) => Ok(one.map(|v| v.as_bytes())),
    }
}

impl TokenSources {
    /// The token the request presents, and where: `Authorization: Bearer` first, then the
    /// custom header, then the cookie. An `Authorization` field that is present but unreadable
    /// is an error, never a reason to look at the cookie; so are two `Authorization` fields
    /// and several token cookies with different values.
    pub(crate) fn find<'h>(
        &self,
        headers: &'h HeaderMap,
    ) -> Result<Option<(&'h str, TokenSource)>, Unusable> {
        if self.bearer {
            let field = single(headers, &AUTHORIZATION)
                .map_err(|r| Unusable::new(r, TokenSource::Bearer))?;
            if let Some(value) = field {
                let token = bearer(value).map_err(|r| Unusable::new(r, TokenSource::Bearer))?;
                if let Some(token) = token {
                    return Ok(Some((token, TokenSource::Bearer)));
                }
            }
        }
        if let Some(name) = &self.header {
            let unusable = |r| Unusable::new(r, TokenSource::Header);
            if let Some(value) = single(headers, name).map_err(unusable)? {
                let token = match bearer(value).map_err(unusable)? {
                    Some(token) => token,
                    None => std::str::from_utf8(value)
                        .map(str::trim)
                        .map_err(|_| unusable("the token header is not readable"))?,
                };
                return Ok(Some((token, TokenSource::Header)));
            }
        }
        if let Some(c) = &self.cookie {
            let found =
                cookie(headers, c.name()).map_err(|r| Unusable::new(r, TokenSource::Cookie))?;
            if let Some(v) = found {
                return Ok(Some((v, TokenSource::Cookie)));
            }
        }
        Ok(None)
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
            assert_eq!(bearer(v.as_bytes()), Ok(Some("abc")), "{v}");
        }
        assert_eq!(bearer(b"Basic abc"), Ok(None), "another scheme is not ours");
        assert_eq!(bearer(b"Bearerabc"), Ok(None));
    }

    #[test]
    fn unreadable_authorization_values_are_errors() {
        for v in [
            &b"Bearer"[..],
            b"Bearer ",
            b"Bearer\tabc",
            b"Bearer a b",
            b"",
            b"   ",
            b"Bearer \xe2\x82\xac",
        ] {
            assert!(bearer(v).is_err(), "{:?}", String::from_utf8_lossy(v));
        }
    }

    fn found<'h>(s: &TokenSources, h: &'h HeaderMap) -> Option<(&'h str, TokenSource)> {
        s.find(h).expect("unambiguous")
    }

    #[test]
    fn bearer_wins_over_cookie_and_cookie_is_found_among_others() {
        let s = TokenSources::default();
        let h = headers(&[("authorization", "Bearer b"), ("cookie", "arToken=c")]);
        assert_eq!(found(&s, &h), Some(("b", TokenSource::Bearer)));
        let h = headers(&[("cookie", "a=1; arToken=c; z=2")]);
        assert_eq!(found(&s, &h), Some(("c", TokenSource::Cookie)));
        let h = headers(&[("cookie", "a=1"), ("cookie", "arToken=d")]);
        assert_eq!(found(&s, &h), Some(("d", TokenSource::Cookie)));
        let h = headers(&[("authorization", "Basic xyz"), ("cookie", "arTokenX=1")]);
        assert_eq!(found(&s, &h), None);
        // The same value twice is not ambiguous; an empty one does not count.
        let h = headers(&[("cookie", "arToken=e; arToken=e"), ("cookie", "arToken=")]);
        assert_eq!(found(&s, &h), Some(("e", TokenSource::Cookie)));
    }

    #[test]
    fn ambiguous_or_unreadable_credentials_are_never_resolved_by_picking_one() {
        let s = TokenSources::default();
        let cases: [&[(&str, &str)]; 4] = [
            &[("authorization", "Bearer a"), ("authorization", "Bearer b")],
            &[("cookie", "arToken=a; arToken=b")],
            &[("cookie", "arToken=a"), ("cookie", "x=1; arToken=b")],
            // Unreadable Authorization: rejected, not skipped in favour of the cookie.
            &[("authorization", "Bearer\ta"), ("cookie", "arToken=c")],
        ];
        for pairs in cases {
            let h = headers(pairs);
            assert!(s.find(&h).is_err(), "{pairs:?}");
        }
        let mut h = headers(&[("cookie", "arToken=c")]);
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_bytes(b"Bearer \xff").unwrap(),
        );
        let err = s.find(&h).unwrap_err();
        assert_eq!(err.source, TokenSource::Bearer);
    }

    #[test]
    fn sources_can_be_turned_off_or_renamed() {
        let s = TokenSources {
            bearer: false,
            cookie: Some(TokenCookie::new("session")),
            header: Some(HeaderName::from_static("x-token")),
        };
        let h = headers(&[
            ("authorization", "Bearer b"),
            ("cookie", "session=c"),
            ("x-token", "h"),
        ]);
        assert_eq!(found(&s, &h), Some(("h", TokenSource::Header)));
        let h = headers(&[
            ("authorization", "Bearer b"),
            ("cookie", "arToken=x; session=c"),
        ]);
        assert_eq!(found(&s, &h), Some(("c", TokenSource::Cookie)));
        let h = headers(&[("x-token", "a"), ("x-token", "b")]);
        assert!(s.find(&h).is_err());
    }
}

//! URLs for a browser login: a `Location` that stays on the app, and the absolute
//! `redirect_uri`s handed to LoginRocket, built from the app's public origin — never from
//! what a request merely claims.
//!
//! The origin is the verifier's [`app_url`](authrocket_verify::Verifier::app_url)
//! (`AUTHROCKET_APP_URL`). Without one, a loopback `Host` (`localhost`, `*.localhost`,
//! `127.0.0.0/8`, `[::1]`) is believed, over http; `X-Forwarded-Proto` and `X-Forwarded-Host`
//! only when the connection comes from a [trusted
//! proxy](authrocket_verify::VerifierBuilder::trusted_proxies). Only `http` and `https` are
//! ever a scheme, and `token`, `account` and `session` never appear in a URL built here.
//!
//! ```
//! use authrocket_tower::redirect::{redirect_uri, same_origin_location};
//!
//! assert_eq!(same_origin_location("//evil.example/", "x=1"), "/evil.example/?x=1");
//! assert_eq!(
//!     redirect_uri("/?token=t&tab=2", Some("https://app.example.com")).as_deref(),
//!     Some("https://app.example.com/?tab=2")
//! );
//! assert_eq!(redirect_uri("javascript:alert(1)", Some("https://app.example.com")), None);
//! ```

use std::net::IpAddr;

use authrocket_verify::Verifier;
use http::header::HOST;
use http::request::Parts;
use http::uri::Authority;
use percent_encoding::percent_decode_str;

/// The query parameters LoginRocket adds; removed from every URL the helpers build.
const LOGIN_PARAMS: [&str; 3] = ["token", "account", "session"];

/// The `token` value of `query` (its first, when not empty), and the query without `token`,
/// `account` and `session` — the other parameters kept exactly as they were written.
pub(crate) fn split_login_params(query: &str) -> (Option<String>, String) {
    let mut token = None;
    let mut kept = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (raw_key, raw_value) = part.split_once('=').unwrap_or((part, ""));
        let key = percent_decode_str(raw_key).decode_utf8_lossy();
        if key == "token" && token.is_none() {
            token = Some(
                percent_decode_str(raw_value)
                    .decode_utf8_lossy()
                    .into_owned(),
            );
        }
        if !LOGIN_PARAMS.contains(&key.as_ref()) {
            kept.push(part);
        }
    }
    (token.filter(|t| !t.is_empty()), kept.join("&"))
}

/// `path?query` as a `Location` that stays on this origin, whatever the path: leading
/// slashes and backslashes collapse into one slash (so `//evil.example/` and
/// `/\evil.example/` stay paths instead of naming a host), a control character anywhere
/// gives `/`, and the result is checked with the WHATWG URL parser that browsers use.
pub fn same_origin_location(path: &str, query: &str) -> String {
    let rest = path.trim_start_matches(['/', '\\']);
    let location = match query {
        "" => format!("/{rest}"),
        q => format!("/{rest}?{q}"),
    };
    if location.bytes().any(|b| b.is_ascii_control()) {
        return "/".to_owned();
    }
    let base = url::Url::parse("http://app.invalid/").expect("a valid URL");
    match base.join(&location) {
        Ok(url) if url.origin() == base.origin() => location,
        _ => "/".to_owned(),
    }
}

/// Whether `host` (a `Host` value) names this machine: `localhost`, `*.localhost`, or a
/// loopback address.
fn is_loopback(host: &Authority) -> bool {
    let name = host.host().trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name.to_ascii_lowercase().ends_with(".localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The app's public origin (`scheme://host[:port]`) for a request (`parts`, from `peer`):
/// the configured [app URL](Verifier::app_url); else, from a trusted proxy, its
/// `X-Forwarded-Proto` and `X-Forwarded-Host`; else a loopback `Host` over http. `None` when
/// nothing trustworthy says where the app is: the helpers then leave `redirect_uri` out.
pub fn app_origin(verifier: &Verifier, parts: &Parts, peer: Option<IpAddr>) -> Option<String> {
    if let Some(origin) = verifier.app_url() {
        return Some(origin.to_owned());
    }
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            // A proxy chain appends: the first value is the client's.
            .and_then(|v| v.split(',').next())
            .map(str::trim)
    };
    let host = header(HOST.as_str())
        .map(str::to_owned)
        .or_else(|| parts.uri.authority().map(ToString::to_string))?;
    let from_proxy = peer.is_some_and(|peer| verifier.trusts_proxy(peer));
    let (scheme, host) = if from_proxy {
        let scheme = header("x-forwarded-proto").unwrap_or("http");
        let host = header("x-forwarded-host").map_or(host, str::to_owned);
        (scheme, host)
    } else {
        ("http", host)
    };
    let scheme = ["http", "https"]
        .into_iter()
        .find(|s| s.eq_ignore_ascii_case(scheme))?;
    let authority: Authority = host.parse().ok()?;
    if authority.as_str().contains('@') || (!from_proxy && !is_loopback(&authority)) {
        return None;
    }
    Some(format!(
        "{scheme}://{}",
        authority.as_str().to_ascii_lowercase()
    ))
}

/// This request's URL on the app's public origin (see [`app_origin`]), without `token`,
/// `account` and `session`: where LoginRocket should send the browser back to.
pub fn request_url(verifier: &Verifier, parts: &Parts, peer: Option<IpAddr>) -> Option<String> {
    let origin = app_origin(verifier, parts, peer)?;
    let (_, query) = split_login_params(parts.uri.query().unwrap_or(""));
    Some(format!(
        "{origin}{}",
        same_origin_location(parts.uri.path(), &query)
    ))
}

/// `uri` as a `redirect_uri`: a path is made absolute on the app's `origin` (or dropped
/// without one); an absolute http(s) URL is kept; anything else is dropped. Either way
/// without `token`, `account` and `session`.
pub fn redirect_uri(uri: &str, origin: Option<&str>) -> Option<String> {
    if uri.starts_with('/') {
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        let (_, query) = split_login_params(query);
        return Some(format!("{}{}", origin?, same_origin_location(path, &query)));
    }
    let mut url = url::Url::parse(uri).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let (_, query) = split_login_params(url.query().unwrap_or(""));
    url.set_query(Some(&query).filter(|q| !q.is_empty()).map(String::as_str));
    Some(url.into())
}

/// LoginRocket's `page` (`login`, `logout`) under the verifier's `LOGINROCKET_URL`, with
/// `query` pairs appended (encoded); `None` without `LOGINROCKET_URL`.
pub fn loginrocket_page(verifier: &Verifier, page: &str, query: &[(&str, &str)]) -> Option<String> {
    let mut url = url::Url::parse(verifier.loginrocket_url()?)
        .ok()?
        .join(page)
        .ok()?;
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    Some(url.into())
}

/// `uri` as a `Location` for the browser: a path stays a path on this app, an absolute
/// http(s) URL is kept, both without `token`, `account` and `session`; anything else is `/`.
pub fn location(uri: &str) -> String {
    // An empty origin leaves a path relative.
    redirect_uri(uri, Some(""))
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| "/".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_exactly_token_account_session() {
        let (t, rest) = split_login_params(
            "a=1&token=abc.def.ghi&account=org_1&session=kss_2&b=x%20y&tokens=keep",
        );
        assert_eq!(t.as_deref(), Some("abc.def.ghi"));
        assert_eq!(rest, "a=1&b=x%20y&tokens=keep");
        assert_eq!(
            split_login_params("token=t"),
            (Some("t".into()), String::new())
        );
        assert_eq!(split_login_params("a=1"), (None, "a=1".into()));
        assert_eq!(split_login_params("token="), (None, String::new()));
        assert_eq!(
            split_login_params("%74oken=t&x=1"),
            (Some("t".into()), "x=1".into()),
            "encoded key"
        );
    }

    #[test]
    fn locations_never_leave_the_origin() {
        let cases = [
            ("/dashboard", "a=1", "/dashboard?a=1"),
            ("//evil.example/", "", "/evil.example/"),
            ("/\\evil.example/", "", "/evil.example/"),
            ("/\\/evil.example", "x=1", "/evil.example?x=1"),
            ("///evil.example", "", "/evil.example"),
            ("\\\\evil.example", "", "/evil.example"),
            ("/ok/\\still/path", "", "/ok/\\still/path"),
            ("/\t/evil.example", "", "/"),
            ("", "", "/"),
        ];
        let base = url::Url::parse("https://app.example.com/").unwrap();
        for (path, query, expected) in cases {
            let location = same_origin_location(path, query);
            assert_eq!(location, expected, "{path:?}");
            assert_eq!(base.join(&location).unwrap().origin(), base.origin());
        }
    }

    #[test]
    fn redirect_uris_are_http_on_the_app_and_carry_no_login_params() {
        let origin = Some("http://app.test:8080");
        assert_eq!(
            redirect_uri("/?token=t&session=s&k=1", origin).as_deref(),
            Some("http://app.test:8080/?k=1")
        );
        assert_eq!(
            redirect_uri("//evil.example/", origin).as_deref(),
            Some("http://app.test:8080/evil.example/")
        );
        assert_eq!(redirect_uri("/", None), None);
        assert_eq!(
            redirect_uri("https://elsewhere.example/back?account=a&x=2", origin).as_deref(),
            Some("https://elsewhere.example/back?x=2")
        );
        assert_eq!(redirect_uri("javascript:alert(1)", origin), None);
        assert_eq!(redirect_uri("ftp://files.example/", origin), None);
    }
}

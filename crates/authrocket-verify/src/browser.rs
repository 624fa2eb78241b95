//! Where browsers reach the app: its public origin (`AUTHROCKET_APP_URL`) and the proxies
//! trusted to say so (`AUTHROCKET_TRUSTED_PROXIES`). The login and logout helpers build the
//! absolute URLs they hand to LoginRocket from these, never from what a request claims.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::error::ConfigError;

/// The app's public origin and trusted proxies, validated.
#[derive(Debug, Clone, Default)]
pub(crate) struct AppSite {
    /// `scheme://host[:port]`, no trailing slash.
    pub(crate) origin: Option<String>,
    pub(crate) proxies: Vec<IpNet>,
}

impl AppSite {
    pub(crate) fn new(app_url: Option<&str>, proxies: &[String]) -> Result<Self, ConfigError> {
        Ok(Self {
            origin: app_url.map(origin).transpose()?,
            proxies: proxies.iter().map(|p| proxy(p)).collect::<Result<_, _>>()?,
        })
    }

    pub(crate) fn trusts(&self, addr: IpAddr) -> bool {
        let addr = match addr {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
            v4 => v4,
        };
        self.proxies.iter().any(|net| net.contains(&addr))
    }
}

/// `https://app.example.com` from an app URL: http or https, a host, no path, query,
/// fragment or credentials.
fn origin(value: &str) -> Result<String, ConfigError> {
    const VAR: &str = "AUTHROCKET_APP_URL";
    let url = crate::urls::parse_url(VAR, value)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::invalid(
            VAR,
            "the URL must not carry credentials",
        ));
    }
    if url.path() != "/" {
        return Err(ConfigError::invalid(
            VAR,
            "expected the app's origin only, like https://app.example.com (no path)",
        ));
    }
    Ok(url.origin().ascii_serialization())
}

/// One trusted proxy: an IP address or a network in CIDR notation.
fn proxy(value: &str) -> Result<IpNet, ConfigError> {
    let value = value.trim();
    value
        .parse::<IpNet>()
        .or_else(|_| value.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| {
            ConfigError::invalid(
                "AUTHROCKET_TRUSTED_PROXIES",
                "expected IP addresses or CIDR networks, separated by commas",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_and_proxies() {
        let site = AppSite::new(
            Some("https://App.Example.com:8443/"),
            &["10.0.0.0/8".into(), " 127.0.0.1".into(), "::1".into()],
        )
        .unwrap();
        assert_eq!(site.origin.as_deref(), Some("https://app.example.com:8443"));
        assert!(site.trusts("10.1.2.3".parse().unwrap()));
        assert!(site.trusts("127.0.0.1".parse().unwrap()));
        assert!(site.trusts("::ffff:127.0.0.1".parse().unwrap()));
        assert!(site.trusts("::1".parse().unwrap()));
        assert!(!site.trusts("192.168.1.1".parse().unwrap()));
        for bad in [
            "https://app.example.com/app",
            "ftp://app.example.com",
            "https://user:pw@app.example.com",
            "https://app.example.com/?q=1",
            "app.example.com",
        ] {
            let err = AppSite::new(Some(bad), &[]).unwrap_err();
            assert_eq!(err.variable(), Some("AUTHROCKET_APP_URL"), "{bad}");
        }
        let err = AppSite::new(None, &["10.0.0.0/33".into()]).unwrap_err();
        assert_eq!(err.variable(), Some("AUTHROCKET_TRUSTED_PROXIES"));
    }
}

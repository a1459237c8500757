//! `[upstream]` decoded for a running poller: what `upstream.enabled` makes required is no
//! longer optional.
//!
//! [`UpstreamConfig`] is the section as written (file and environment, every key optional, so
//! it can be merged, masked and printed). [`UpstreamConfig::poller`] turns it into a
//! [`PollerConfig`] once: the base URL parsed and checked, the credentials present. The
//! poller and its upstream client take a `PollerConfig` and never unwrap an `Option`.
//! Validation at load uses the same checks, so a config that loads decodes.

use reqwest::Url;

use super::secret::Secret;
use super::upstream::UpstreamConfig;
use super::ConfigError;

/// `[upstream]` for a running poller.
#[derive(Debug, Clone)]
pub struct PollerConfig {
    /// `upstream.base_url`: `https://`, or `http://` for a loopback host or with
    /// `upstream.allow_insecure_http`.
    pub base_url: Url,
    /// `upstream.api_key` (inline, env or `_file`, already resolved).
    pub api_key: Secret,
    /// `upstream.api_secret`.
    pub api_secret: Secret,
    /// The rest of the section as configured: budget, timeouts, cadences.
    pub settings: UpstreamConfig,
}

impl UpstreamConfig {
    /// The section decoded for the poller; the error names the first missing or invalid key.
    pub fn poller(&self) -> Result<PollerConfig, ConfigError> {
        Ok(PollerConfig {
            base_url: base_url(self)?,
            api_key: required("upstream.api_key", &self.api_key)?,
            api_secret: required("upstream.api_secret", &self.api_secret)?,
            settings: self.clone(),
        })
    }
}

/// `upstream.base_url`, required, parsed and checked.
pub(super) fn base_url(u: &UpstreamConfig) -> Result<Url, ConfigError> {
    const KEY: &str = "upstream.base_url";
    let bad = |reason: &str| ConfigError::invalid(KEY, reason);
    let url = match u.base_url.as_deref() {
        None | Some("") => return Err(bad("required when upstream.enabled (or set it false)")),
        Some(url) => url,
    };
    let parsed = Url::parse(url).map_err(|_| bad("not a valid URL"))?;
    let Some(host) = parsed.host_str() else {
        return Err(bad("the URL names no host"));
    };
    let ip = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || ip
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if loopback || u.allow_insecure_http => Ok(parsed),
        "http" => Err(bad(
            "must be https:// (plain http:// only for a loopback host, or with upstream.allow_insecure_http)",
        )),
        _ => Err(bad("must be an https:// URL")),
    }
}

/// A credential that `upstream.enabled` requires.
pub(super) fn required(key: &str, value: &Option<Secret>) -> Result<Secret, ConfigError> {
    value
        .clone()
        .ok_or_else(|| ConfigError::invalid(key, "required when upstream.enabled"))
}

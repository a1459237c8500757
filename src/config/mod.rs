//! Configuration: defaults < TOML file < `ESIM_BRIDGE_*` environment, then typed validation.
//!
//! Every error names the offending key (`webhook.tolerance: ...`), so `main` can print it and
//! exit 64. Secrets are [`Secret`]s: strings whatever they look like, masked wherever the
//! config is printed, never echoed in an error (nor are URL credentials).

mod duration;
mod env;
mod error;
mod extract;
mod log_filter;
mod mask;
mod nats_url;
mod poller;
mod refuse;
mod report;
mod resolve;
mod secret;
mod sections;
mod signing;
mod source;
mod upstream;
mod validate;
mod validate_upstream;

use std::path::Path;

use serde::{Deserialize, Serialize};

use extract::Extracted;

pub use duration::{format_duration, MAX_DURATION};
pub use error::ConfigError;
pub use log_filter::{log_filter, LEVELS};
pub use mask::{mask_url, mask_urls};
pub use nats_url::check_servers;
pub use poller::PollerConfig;
pub use secret::is_secret_key;
pub use secret::{Secret, MASK};
pub use sections::{
    AdminConfig, LogConfig, LogFormat, NatsConfig, Scheme, TlsConfig, WebhookConfig,
};
pub use signing::{KeyError, SigningKey, MIN_STANDARD_KEY_BYTES};
pub use upstream::{CadenceConfig, UpstreamConfig};

/// A config file larger than this is refused (it is a few kilobytes).
pub const MAX_CONFIG_FILE_BYTES: u64 = 1024 * 1024;

/// Environment variable prefix; `__` separates nesting levels.
pub const ENV_PREFIX: &str = "ESIM_BRIDGE_";

/// The whole configuration of `serve`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub nats: NatsConfig,
    pub webhook: WebhookConfig,
    pub upstream: UpstreamConfig,
    pub admin: AdminConfig,
    pub log: LogConfig,
    /// On SIGINT/SIGTERM, how long in-flight work may take to finish.
    #[serde(with = "duration")]
    pub shutdown_grace: std::time::Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            nats: NatsConfig::default(),
            webhook: WebhookConfig::default(),
            upstream: UpstreamConfig::default(),
            admin: AdminConfig::default(),
            log: LogConfig::default(),
            shutdown_grace: std::time::Duration::from_secs(10),
        }
    }
}

impl Config {
    /// Loads from an optional TOML file and the process environment, then validates.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_with_env(file, std::env::vars())
    }

    /// Like [`Config::load`] with an explicit environment (for tests). Every problem is
    /// reported at once, each with where its value came from.
    pub fn load_with_env(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut loaded = Extracted::read(file, env)?;
        let resolved = resolve::every_secret(&mut loaded.config);
        loaded.check(resolved);
        let valid = validate::validate(&loaded.config);
        loaded.check(valid);
        loaded.finish()
    }

    /// Loads the same file and environment as [`Config::load`] for the operator tools
    /// (`replay`, `tail`, `status`): only `nats.*` is validated and only its secret files are
    /// read, so the tools never need the webhook or upstream secrets. Unknown keys stay errors.
    pub fn load_for_tools(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_for_tools_with_env(file, std::env::vars())
    }

    /// Like [`Config::load_for_tools`] with an explicit environment (for tests).
    pub fn load_for_tools_with_env(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut loaded = Extracted::read(file, env)?;
        Self::check_for_tools(&mut loaded);
        loaded.finish()
    }

    /// Loads the same file and environment for `audit`: `nats.*` as for the other tools, plus
    /// the provider's `upstream.*` (URL, credentials, timeouts), which are required whether or
    /// not this deployment runs the poller. The webhook secrets are never read.
    pub fn load_for_audit(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut loaded = Extracted::read(file, std::env::vars())?;
        Self::check_for_tools(&mut loaded);
        let resolved = resolve::upstream_secrets(&mut loaded.config);
        loaded.check(resolved);
        let valid = resolve::required_by_audit(&loaded.config);
        loaded.check(valid);
        loaded.finish()
    }

    /// What every operator tool needs: `nats.*`, its secret files read.
    fn check_for_tools(loaded: &mut Extracted) {
        let resolved = resolve::nats_secrets(&mut loaded.config);
        loaded.check(resolved);
        let valid = validate::nats(&loaded.config);
        loaded.check(valid);
    }

    /// Like [`Config::load_with_env`] with the file's text given, and without reading the
    /// `*_file`s it names: the whole loader minus I/O, for the `config_load` fuzz target.
    #[doc(hidden)]
    pub fn load_from_text(
        text: Option<&str>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let file = text.map(|t| (Path::new("(text)"), t));
        let mut loaded = Extracted::from_text(file, env)?;
        let valid = validate::validate(&loaded.config);
        loaded.check(valid);
        loaded.finish()
    }

    /// The effective configuration as TOML, secrets and URL credentials masked (for
    /// `check-config`).
    pub fn to_masked_toml(&self) -> String {
        let mut shown = self.clone();
        shown.nats.url = mask_urls(&shown.nats.url);
        shown.upstream.base_url = shown.upstream.base_url.as_deref().map(mask_url);
        // Every field serialises (secrets as `***`), so this cannot fail for this type;
        // should it ever, the error text is shown instead of a partial config.
        toml_string(&shown)
    }
}

fn toml_string(config: &Config) -> String {
    let value = match figment::value::Value::serialize(config) {
        Ok(v) => v,
        Err(e) => return format!("# cannot render config: {e}"),
    };
    let json = serde_json::to_value(&value).unwrap_or_default();
    render_toml(&json, "")
}

/// A small TOML renderer for the masked config: tables, strings, numbers, booleans, arrays.
fn render_toml(v: &serde_json::Value, table: &str) -> String {
    let serde_json::Value::Object(map) = v else {
        return String::new();
    };
    let mut out = String::new();
    let mut tables = Vec::new();
    for (k, v) in map {
        match v {
            serde_json::Value::Object(_) => tables.push((k, v)),
            serde_json::Value::Null => out.push_str(&format!("# {k} = (unset)\n")),
            other => out.push_str(&format!("{k} = {other}\n")),
        }
    }
    for (k, v) in tables {
        let name = if table.is_empty() {
            k.clone()
        } else {
            format!("{table}.{k}")
        };
        out.push_str(&format!("\n[{name}]\n{}", render_toml(v, &name)));
    }
    out
}

#[cfg(test)]
mod refusal_tests;
#[cfg(test)]
mod tests;

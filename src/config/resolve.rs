//! Reading the secrets a configuration names by file (`*_file`, `webhook.secrets_file`) into
//! the configuration, and what `audit` requires beyond the tools' `nats.*`: each step reports
//! every problem it finds, so a load can list them all at once.

use super::refuse::{bad, Refusals};
use super::secret::{self, Secret};
use super::{validate_upstream, Config, ConfigError};

/// Every secret: NATS, the provider's, the webhook's.
pub(super) fn every_secret(c: &mut Config) -> Result<(), ConfigError> {
    let mut r = Refusals::default();
    r.check(nats_secrets(c));
    r.check(upstream_secrets(c));
    if let Some(path) = &c.webhook.secrets_file {
        match secret::read_file("webhook.secrets_file", path) {
            Ok(text) => {
                let from_file = text.lines().map(str::trim).filter(|l| !l.is_empty());
                c.webhook.secrets.extend(from_file.map(Secret::new));
            }
            Err(e) => r.check(Err(e)),
        }
    }
    r.into_result()
}

/// `nats.password` and `nats.token`.
pub(super) fn nats_secrets(c: &mut Config) -> Result<(), ConfigError> {
    let mut r = Refusals::default();
    let n = &mut c.nats;
    r.check(secret::resolve(
        "nats.password",
        &mut n.password,
        &n.password_file,
    ));
    r.check(secret::resolve("nats.token", &mut n.token, &n.token_file));
    r.into_result()
}

/// `upstream.api_key` and `upstream.api_secret`.
pub(super) fn upstream_secrets(c: &mut Config) -> Result<(), ConfigError> {
    let mut r = Refusals::default();
    let u = &mut c.upstream;
    r.check(secret::resolve(
        "upstream.api_key",
        &mut u.api_key,
        &u.api_key_file,
    ));
    r.check(secret::resolve(
        "upstream.api_secret",
        &mut u.api_secret,
        &u.api_secret_file,
    ));
    r.into_result()
}

/// The provider's URL and credentials, and the rest of `[upstream]` as the poller checks it,
/// whether or not this deployment runs the poller: `audit` reads the provider.
pub(super) fn required_by_audit(c: &Config) -> Result<(), ConfigError> {
    let mut r = Refusals::default();
    let u = &c.upstream;
    for (key, missing) in [
        (
            "upstream.base_url",
            u.base_url.as_deref().is_none_or(str::is_empty),
        ),
        ("upstream.api_key", u.api_key.is_none()),
        ("upstream.api_secret", u.api_secret.is_none()),
    ] {
        if missing {
            r.check(bad(key, "required by audit (it reads the provider)"));
        }
    }
    let mut checked = c.clone();
    checked.upstream.enabled = true;
    r.check(validate_upstream::upstream(&checked));
    r.into_result()
}

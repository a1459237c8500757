//! Target `config_load`: a config file's text and an environment through the whole loader
//! (minus reading `*_file`s), then `check-config`'s listing.
//!
//! Input: TOML text, then optionally a NUL byte and `NAME=value` lines (`ESIM_BRIDGE_` is
//! prefixed when missing). Properties: no panic; every error names a key; and no secret —
//! a value at a secret key, or a URL password or token — appears in an error or in the
//! masked listing. To stay free of false alarms, a secret is only checked when it occurs in
//! exactly one value or key of the input (an operator may reuse the text elsewhere, where
//! echoing it is fine) and contains a character the loader's own messages never use.

use esim_bridge::config::{Config, ENV_PREFIX};

/// At most this many environment variables are taken from one input.
const MAX_VARS: usize = 32;
/// Characters that mark a checkable secret (none occurs in the loader's message templates).
const RARE: &[char] = &['!', '~', '^', '|', '%', '&', '$', '?'];

/// One fuzz input.
pub fn run(data: &[u8]) {
    let (text, env_part) = match data.iter().position(|b| *b == 0) {
        Some(at) => (&data[..at], Some(&data[at + 1..])),
        None => (data, None),
    };
    let text = String::from_utf8_lossy(text);
    let env = env_part.map(parse_env).unwrap_or_default();
    let result = Config::load_from_text(Some(&text), env.clone());
    let shown = match &result {
        Ok(c) => c.to_masked_toml(),
        Err(e) => {
            let named = e.key().is_some_and(|k| !k.is_empty()) || e.to_string().contains("TOML");
            assert!(named, "config error names no key: {e}");
            e.to_string()
        }
    };
    let mut input = Input::default();
    if let Ok(table) = text.parse::<toml::Table>() {
        for (k, v) in &table {
            input.toml(k, v);
        }
    }
    for (name, value) in &env {
        let key = name[ENV_PREFIX.len()..]
            .to_ascii_lowercase()
            .replace("__", ".");
        input.value(&key, value, true);
        input.texts.push(name.clone());
        input.texts.push(key);
    }
    for secret in input.checkable() {
        assert!(
            !shown.contains(secret.as_str()),
            "secret {secret:?} shown: {shown}"
        );
    }
}

/// `NAME=value` lines → the environment.
fn parse_env(bytes: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter_map(|line| line.split_once('='))
        .take(MAX_VARS)
        .map(|(name, value)| {
            let name = if name.starts_with(ENV_PREFIX) {
                name.to_owned()
            } else {
                format!("{ENV_PREFIX}{name}")
            };
            (name, value.to_owned())
        })
        .collect()
}

/// What the input says: every key and value as text, and the secrets among them.
#[derive(Default)]
struct Input {
    texts: Vec<String>,
    secrets: Vec<String>,
}

impl Input {
    fn toml(&mut self, path: &str, v: &toml::Value) {
        self.texts
            .push(path.rsplit('.').next().unwrap_or(path).to_owned());
        match v {
            toml::Value::String(s) => self.value(path, s, false),
            toml::Value::Integer(i) => self.value(path, &i.to_string(), false),
            toml::Value::Array(items) => items.iter().for_each(|i| self.toml(path, i)),
            toml::Value::Table(t) => t
                .iter()
                .for_each(|(k, i)| self.toml(&format!("{path}.{k}"), i)),
            _ => {}
        }
    }

    fn value(&mut self, key: &str, value: &str, from_env: bool) {
        self.texts.push(value.to_owned());
        if esim_bridge::config::is_secret_key(key) {
            self.secrets.push(value.to_owned());
            if from_env {
                let inner = value.trim().trim_start_matches('[').trim_end_matches(']');
                self.secrets
                    .extend(inner.split(',').map(|s| s.trim().to_owned()));
            }
        }
        if key == "nats.url" || key == "upstream.base_url" {
            self.secrets.extend(value.split(',').filter_map(url_secret));
        }
    }

    /// Secrets that must not be shown: distinctive, and given in one place only.
    fn checkable(&self) -> Vec<String> {
        let occurrences = |s: &str| {
            self.texts
                .iter()
                .map(|t| t.matches(s).count())
                .sum::<usize>()
        };
        self.secrets
            .iter()
            .filter(|s| s.chars().count() >= 6 && s.contains(RARE))
            .filter(|s| occurrences(s) == 1)
            .cloned()
            .collect()
    }
}

/// The password (or token) of one URL's userinfo, as [`esim_bridge::config::mask_url`] sees it.
fn url_secret(url: &str) -> Option<String> {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    Some(match userinfo.split_once(':') {
        Some((_, password)) => password.to_owned(),
        None => userinfo.to_owned(),
    })
}

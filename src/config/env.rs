//! The `ESIM_BRIDGE_*` environment layer: `ESIM_BRIDGE_NATS__URL=x` → `nats.url = x`.
//!
//! Values are parsed like figment's `Env` (numbers, booleans, `[a, b]` arrays), except secret
//! keys ([`super::secret::is_secret_key`]): their text is taken as is, so `918273645`, `007`,
//! `true` or `1.50` stay the exact string given. `webhook.secrets` may list several secrets as
//! `[a, b]` (split on commas, each trimmed, one pair of surrounding quotes removed); a secret
//! containing a comma goes in `webhook.secrets_file` instead.

use figment::providers::Serialized;
use figment::value::Value;
use figment::Figment;

use super::secret::is_secret_key;
use super::ENV_PREFIX;

/// The variable naming the config file, not a key.
const CONFIG_VAR: &str = "ESIM_BRIDGE_CONFIG";

/// Merges every `ESIM_BRIDGE_*` variable over `figment`, in name order.
pub(super) fn merge(
    mut figment: Figment,
    env: impl IntoIterator<Item = (String, String)>,
) -> Figment {
    let mut vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with(ENV_PREFIX) && k != CONFIG_VAR)
        .collect();
    vars.sort();
    for (name, raw) in vars {
        let key = key_of(&name);
        figment = figment.merge(Serialized::global(&key, value_of(&key, raw)));
    }
    figment
}

/// The variable among `names` that sets `key`, a table above it, or a key below it (the
/// configuration variable itself sets no key).
pub(super) fn variable_for<'a>(names: &[&'a str], key: &str) -> Option<&'a str> {
    names.iter().copied().find(|name| {
        name.starts_with(ENV_PREFIX) && *name != CONFIG_VAR && {
            let set = key_of(name);
            set == key || key.starts_with(&format!("{set}.")) || set.starts_with(&format!("{key}."))
        }
    })
}

/// `ESIM_BRIDGE_UPSTREAM__API_KEY` → `upstream.api_key`.
pub(super) fn key_of(name: &str) -> String {
    name[ENV_PREFIX.len()..]
        .to_ascii_lowercase()
        .replace("__", ".")
}

/// The figment value for one variable: raw text for secrets, parsed otherwise.
fn value_of(key: &str, raw: String) -> Value {
    if !is_secret_key(key) {
        // figment 0.10.19 unescapes a quoted value by char index used as a byte index
        // (value/escape.rs) and panics on a non-ASCII character before a backslash; such a
        // value stays text instead (found by the config_load fuzz target).
        if !raw.is_ascii() && raw.contains('\\') {
            return Value::from(raw);
        }
        return match raw.parse() {
            Ok(v) => v,
            Err(never) => match never {},
        };
    }
    if key.rsplit('.').next() == Some("secrets") {
        if let Some(list) = secret_list(&raw) {
            return Value::from(list);
        }
    }
    Value::from(raw)
}

/// `[a, "b", 'c']` → `a`, `b`, `c`; `None` if `raw` is not bracketed.
fn secret_list(raw: &str) -> Option<Vec<String>> {
    let inner = raw.trim().strip_prefix('[')?.strip_suffix(']')?;
    if inner.trim().is_empty() {
        return Some(Vec::new());
    }
    Some(
        inner
            .split(',')
            .map(|item| unquote(item.trim()).to_owned())
            .collect(),
    )
}

fn unquote(s: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quoted_non_ascii_value_with_an_escape_stays_text_instead_of_panicking() {
        let raw = "\"x\u{e9}\\n\"".to_owned();
        assert_eq!(value_of("log.level", raw.clone()), Value::from(raw));
    }

    #[test]
    fn secret_values_stay_text_and_others_are_parsed() {
        assert_eq!(value_of("nats.password", "007".into()), Value::from("007"));
        assert_eq!(value_of("nats.token", "[x]".into()), Value::from("[x]"));
        assert!(matches!(
            value_of("nats.replicas", "3".into()),
            Value::Num(..)
        ));
        assert_eq!(
            value_of("webhook.secrets", "[a, \"0b\" , '1.5']".into()),
            Value::from(vec!["a", "0b", "1.5"])
        );
        assert_eq!(
            value_of("webhook.secrets", "[ ]".into()),
            Value::from(Vec::<String>::new())
        );
    }
}

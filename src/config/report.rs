//! Turning loader failures into [`ConfigError`]s that name the key and never carry a value.
//!
//! figment's messages quote what they found (`found unsigned int 918273645`) and toml's quote
//! the offending source line; either may be a secret. So a type error names the type found
//! and the type expected only, any other message about a secret key is replaced, and a TOML
//! syntax error is reported by line and column alone.

use std::path::Path;

use figment::error::{Actual, Kind};

use super::secret::is_secret_key;
use super::{env, ConfigError, ENV_PREFIX};

/// What a secret key's rejected value is reported as.
const SECRET_REASON: &str = "invalid value (a secret: not shown; give it as a string)";

/// figment's error → one naming the key (`webhook.tolerance`), with no value of a secret. An
/// unknown key also gets the closest known one ("did you mean"); one set by an environment
/// variable (among `env_names`) names the variable, with a hint when `__` was meant.
pub(super) fn from_figment(e: figment::Error, env_names: &[&str]) -> ConfigError {
    let key = key_of(&e);
    let mut reason = if is_secret_key(&key) {
        secret_reason(&e.kind)
    } else {
        reason(&e.kind)
    };
    if let Kind::UnknownField(field, known) = &e.kind {
        if let Some(close) = did_you_mean(field, known) {
            reason.push_str(&format!("; did you mean `{close}`?"));
        }
        if let Some(name) = env::variable_for(env_names, &key) {
            reason.push_str(&format!(" (set by {name})"));
            if let Some(hint) = double_underscore_hint(name, known) {
                reason.push_str(&format!("; {hint}"));
            }
        }
    }
    ConfigError::invalid(key, reason)
}

/// The known name closest to `field`, if it is close (a typo, not another word).
fn did_you_mean(field: &str, known: &[&str]) -> Option<String> {
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(field, k), *k))
        .filter(|(d, k)| *d > 0 && *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k.to_owned())
}

/// `ESIM_BRIDGE_NATS_URL` for the section `nats`: the separator is `__`.
fn double_underscore_hint(name: &str, sections: &[&str]) -> Option<String> {
    let rest = name.strip_prefix(ENV_PREFIX)?;
    sections.iter().find_map(|section| {
        let upper = section.to_ascii_uppercase();
        let key = rest.strip_prefix(&upper)?.strip_prefix('_')?;
        (!key.starts_with('_')).then(|| {
            format!("sections and keys are separated by a double underscore: {ENV_PREFIX}{upper}__{key}")
        })
    })
}

fn key_of(e: &figment::Error) -> String {
    let mut key = e.path.join(".");
    if let Kind::UnknownField(field, _) = &e.kind {
        if !key.ends_with(field.as_str()) {
            key = if key.is_empty() {
                field.clone()
            } else {
                format!("{key}.{field}")
            };
        }
    }
    if key.is_empty() {
        key = "(config)".into();
    }
    key
}

/// The reason for a non-secret key: serde's own words, minus any value it found.
fn reason(kind: &Kind) -> String {
    match kind {
        Kind::InvalidType(actual, expected) => {
            format!(
                "invalid type: found {}, expected {expected}",
                type_name(actual)
            )
        }
        Kind::InvalidValue(actual, expected) => {
            format!(
                "invalid value: found {}, expected {expected}",
                type_name(actual)
            )
        }
        Kind::Unsupported(actual) => format!("unsupported type {}", type_name(actual)),
        Kind::UnsupportedKey(actual, need) => {
            format!("unsupported key type {}, need {need}", type_name(actual))
        }
        other => other.to_string(),
    }
}

/// The reason for a secret key: the kind of problem, never a value or a custom message.
fn secret_reason(kind: &Kind) -> String {
    match kind {
        Kind::InvalidType(..)
        | Kind::InvalidLength(..)
        | Kind::UnknownField(..)
        | Kind::MissingField(_)
        | Kind::DuplicateField(_)
        | Kind::Unsupported(_)
        | Kind::UnsupportedKey(..) => reason(kind),
        _ => SECRET_REASON.into(),
    }
}

/// The type of a found value, without the value.
fn type_name(actual: &Actual) -> &'static str {
    match actual {
        Actual::Bool(_) => "a boolean",
        Actual::Unsigned(_) | Actual::Signed(_) => "an integer",
        Actual::Float(_) => "a float",
        Actual::Char(_) => "a character",
        Actual::Str(_) => "a string",
        Actual::Bytes(_) => "bytes",
        Actual::Unit => "nothing",
        Actual::Option => "an option",
        Actual::Seq => "a list",
        Actual::Map => "a table",
        Actual::Other(_) => "another type",
        _ => "an enum or struct",
    }
}

/// Parses a config file's text as TOML; a syntax error names the line and column only.
pub(super) fn check_toml(path: &Path, text: &str) -> Result<(), ConfigError> {
    let Err(e) = text.parse::<toml::Table>() else {
        return Ok(());
    };
    let at = e.span().map_or_else(String::new, |span| {
        let before = text.get(..span.start).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!(" at line {line}, column {column}")
    });
    Err(ConfigError::File {
        path: path.to_owned(),
        reason: format!("not valid TOML{at}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_syntax_error_names_the_place_not_the_text() {
        let text = "[nats]\npassword = \"hunter2\n";
        let e = check_toml(Path::new("x.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && !e.contains("hunter2"), "{e}");
        assert!(check_toml(Path::new("x.toml"), "[nats]\nurl = \"x\"\n").is_ok());
    }

    #[test]
    fn type_errors_name_types_only() {
        let e = figment::Error::from(Kind::InvalidType(
            Actual::Unsigned(918_273_645),
            "a string".into(),
        ))
        .with_path("nats.user");
        let e = from_figment(e, &[]).to_string();
        assert!(
            e.starts_with("nats.user: ") && !e.contains("918273645"),
            "{e}"
        );
        let secret = figment::Error::from(Kind::Message("hunter2 is wrong".into()))
            .with_path("upstream.api_secret");
        let e = from_figment(secret, &[]).to_string();
        assert!(
            e.starts_with("upstream.api_secret: ") && !e.contains("hunter2"),
            "{e}"
        );
    }
}

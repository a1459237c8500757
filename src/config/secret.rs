//! Secrets: a newtype that never prints itself, `<name>_file` resolution, and the names of the
//! keys that hold secrets (their values are taken as raw text and never echoed in errors).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, SeqAccess, Unexpected, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::ConfigError;

/// What a secret prints as, in `Debug`, logs and `check-config` output.
pub const MASK: &str = "***";

/// Config field names whose values are secrets, wherever they appear in the key path.
pub(crate) const SECRET_FIELDS: [&str; 5] =
    ["password", "token", "api_key", "api_secret", "secrets"];

/// True if the dotted key (`nats.password`, `webhook.secrets`) holds a secret.
pub fn is_secret_key(key: &str) -> bool {
    key.split('.').any(|part| SECRET_FIELDS.contains(&part))
}

/// A secret string (signing secret, password, token). `Debug` and `Serialize` print `***`;
/// the only way to the value is [`Secret::expose`], so a leak has to be written on purpose.
///
/// It deserialises from a string or an integer (`password = 918273645` in TOML keeps its
/// digits as text); a float or boolean is refused without echoing it, since its original text
/// is lost (quote it instead).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({MASK})")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(MASK)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SecretVisitor)
    }
}

/// Scalars that keep their text become a [`Secret`]; errors name the type, never the value.
struct SecretVisitor;

impl<'de> Visitor<'de> for SecretVisitor {
    type Value = Secret;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Secret, E> {
        Ok(Secret(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Secret, E> {
        Ok(Secret(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Secret, E> {
        Ok(Secret(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Secret, E> {
        Ok(Secret(v.to_string()))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Secret, E> {
        Ok(Secret(v.to_string()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Secret, E> {
        Ok(Secret(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Secret, E> {
        Err(E::invalid_type(Unexpected::Other("float"), &self))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Secret, E> {
        Err(E::invalid_type(Unexpected::Other("boolean"), &self))
    }

    fn visit_char<E: de::Error>(self, v: char) -> Result<Secret, E> {
        Ok(Secret(v.to_string()))
    }
}

/// Accepts one secret or a list (`secrets = "a"` or `secrets = ["a", "b"]`).
pub fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Secret>, D::Error> {
    struct OneOrMany;

    impl<'de> Visitor<'de> for OneOrMany {
        type Value = Vec<Secret>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or a list of strings")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Secret>, A::Error> {
            let mut out = Vec::new();
            while let Some(s) = seq.next_element::<Secret>()? {
                out.push(s);
            }
            Ok(out)
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<Secret>, E> {
            SecretVisitor.visit_str(v).map(|s| vec![s])
        }

        fn visit_string<E: de::Error>(self, v: String) -> Result<Vec<Secret>, E> {
            Ok(vec![Secret(v)])
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Vec<Secret>, E> {
            SecretVisitor.visit_u64(v).map(|s| vec![s])
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Vec<Secret>, E> {
            SecretVisitor.visit_i64(v).map(|s| vec![s])
        }

        fn visit_u128<E: de::Error>(self, v: u128) -> Result<Vec<Secret>, E> {
            SecretVisitor.visit_u128(v).map(|s| vec![s])
        }

        fn visit_i128<E: de::Error>(self, v: i128) -> Result<Vec<Secret>, E> {
            SecretVisitor.visit_i128(v).map(|s| vec![s])
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Vec<Secret>, E> {
            SecretVisitor.visit_f64(v).map(|s| vec![s])
        }

        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Vec<Secret>, E> {
            SecretVisitor.visit_bool(v).map(|s| vec![s])
        }
    }

    d.deserialize_any(OneOrMany)
}

/// A secret file larger than this is refused (a secret is a few dozen bytes; a list of
/// webhook secrets a few hundred), so `/dev/zero` or a wrong path cannot exhaust memory.
pub const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

/// Reads a secret file: surrounding whitespace trimmed, never echoed in errors.
pub fn read_file(key: &str, path: &Path) -> Result<String, ConfigError> {
    read_bounded(path, MAX_SECRET_FILE_BYTES)
        .map(|s| s.trim().to_owned())
        .map_err(|reason| ConfigError::invalid(key, format!("{}: {reason}", path.display())))
}

/// Reads at most `limit` bytes of UTF-8 text; more, or unreadable, is an error (whose text
/// is the I/O error's or the size, never the content).
pub(crate) fn read_bounded(path: &Path, limit: u64) -> Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(format!("larger than {limit} bytes"));
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())
}

/// Resolves `<name>` / `<name>_file` into one optional secret; both set is an error.
pub fn resolve(
    key: &str,
    inline: &mut Option<Secret>,
    file: &Option<PathBuf>,
) -> Result<(), ConfigError> {
    match (inline.as_ref(), file) {
        (Some(_), Some(_)) => Err(ConfigError::invalid(
            key,
            format!("set either `{key}` or `{key}_file`, not both"),
        )),
        (None, Some(path)) => {
            *inline = Some(Secret(read_file(&format!("{key}_file"), path)?));
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Refuses a secret that is set but empty.
pub fn non_empty(key: &str, secret: &Option<Secret>) -> Result<(), ConfigError> {
    match secret {
        Some(s) if s.expose().is_empty() => Err(ConfigError::invalid(key, "must not be empty")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"***\"");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn integers_keep_their_digits_and_floats_are_refused_without_their_value() {
        let s: Secret = serde_json::from_str("918273645").unwrap();
        assert_eq!(s.expose(), "918273645");
        let e = serde_json::from_str::<Secret>("9182.73645").unwrap_err();
        assert!(!e.to_string().contains("9182"), "{e}");
        let many: Vec<Secret> =
            one_or_many(&mut serde_json::Deserializer::from_str("[\"a\", 12]")).unwrap();
        assert_eq!(
            many.iter().map(Secret::expose).collect::<Vec<_>>(),
            ["a", "12"]
        );
    }

    #[test]
    fn secret_keys_are_recognised_anywhere_in_the_path() {
        for key in [
            "nats.password",
            "nats.token",
            "upstream.api_key",
            "webhook.secrets",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in [
            "nats.url",
            "nats.password_file",
            "nats.user",
            "upstream.api_key_file",
        ] {
            assert!(!is_secret_key(key), "{key}");
        }
    }
}

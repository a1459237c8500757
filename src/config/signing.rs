//! Webhook signing keys: each configured secret decoded once, at load, into the bytes the HMAC
//! is keyed with, so the verifier never sees a secret it would have to interpret (or an empty
//! key it would accept signatures under).
//!
//! - `octopus`: the secret's own bytes, at least one.
//! - `standard-webhooks`: the base64 after `whsec_` (the prefix is optional), at least
//!   [`MIN_STANDARD_KEY_BYTES`] decoded bytes as the specification asks (24 to 64).

use std::fmt;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use super::secret::{Secret, MASK};
use super::{ConfigError, Scheme};

/// The shortest decoded standard-webhooks key accepted.
pub const MIN_STANDARD_KEY_BYTES: usize = 24;

/// The shortest `octopus` secret accepted: 16 bytes (128 bits of a random hex or base64 string
/// are more); a shorter one can be guessed, and is usually a test value that reached production.
pub const MIN_OCTOPUS_SECRET_BYTES: usize = 16;

/// The bytes one signature is checked with; `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey(Vec<u8>);

impl SigningKey {
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({MASK})")
    }
}

/// Why a secret is not a usable key (the message never contains the secret).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("is empty")]
    Empty,
    #[error("is not `whsec_<base64>`")]
    NotBase64,
    #[error("decodes to {0} bytes; standard-webhooks keys need at least {MIN_STANDARD_KEY_BYTES}")]
    TooShort(usize),
    #[error("is {0} bytes long; at least {MIN_OCTOPUS_SECRET_BYTES} are needed (e.g. `openssl rand -hex 32`)")]
    ShortSecret(usize),
    #[error("is a placeholder (CHANGE-ME and the like), not a secret: set the one the provider signs with")]
    Placeholder,
}

/// True for the values templates and examples put where a secret goes.
fn is_placeholder(text: &str) -> bool {
    let folded: String = text
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    const WORDS: [&str; 5] = [
        "changeme",
        "replaceme",
        "placeholder",
        "yoursecret",
        "insertsecret",
    ];
    const WHOLE: [&str; 5] = ["secret", "password", "example", "test", "todo"];
    WORDS.iter().any(|w| folded.contains(w))
        || WHOLE.contains(&folded.as_str())
        || (text.starts_with('<') && text.ends_with('>'))
}

/// Decodes one secret for `scheme`.
pub fn decode(scheme: Scheme, secret: &Secret) -> Result<SigningKey, KeyError> {
    let text = secret.expose();
    if text.is_empty() {
        return Err(KeyError::Empty);
    }
    if is_placeholder(text) {
        return Err(KeyError::Placeholder);
    }
    let bytes = match scheme {
        Scheme::Octopus if text.len() < MIN_OCTOPUS_SECRET_BYTES => {
            return Err(KeyError::ShortSecret(text.len()))
        }
        Scheme::Octopus => text.as_bytes().to_vec(),
        Scheme::StandardWebhooks => {
            let b64 = text.strip_prefix("whsec_").unwrap_or(text);
            let bytes = B64.decode(b64).map_err(|_| KeyError::NotBase64)?;
            if bytes.len() < MIN_STANDARD_KEY_BYTES {
                return Err(KeyError::TooShort(bytes.len()));
            }
            bytes
        }
    };
    Ok(SigningKey(bytes))
}

/// Decodes every secret; the error names `webhook.secrets` and the secret's position.
pub fn decode_all(scheme: Scheme, secrets: &[Secret]) -> Result<Vec<SigningKey>, ConfigError> {
    if secrets.is_empty() {
        return Err(ConfigError::invalid(
            "webhook.secrets",
            "at least one non-empty signing secret is required when webhook.enabled",
        ));
    }
    secrets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            decode(scheme, s).map_err(|e| {
                ConfigError::invalid("webhook.secrets", format!("secret #{}: {e}", i + 1))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_keys_need_24_decoded_bytes_and_octopus_secrets_16() {
        let s = |t: &str| Secret::new(t);
        let std = Scheme::StandardWebhooks;
        assert_eq!(decode(std, &s("whsec_")), Err(KeyError::TooShort(0)));
        assert_eq!(decode(std, &s("")), Err(KeyError::Empty));
        assert_eq!(decode(std, &s("whsec_!!")), Err(KeyError::NotBase64));
        let key24 = format!("whsec_{}", B64.encode([7u8; 24]));
        assert_eq!(decode(std, &s(&key24)).map(|k| k.0), Ok(vec![7u8; 24]));
        let key23 = format!("whsec_{}", B64.encode([7u8; 23]));
        assert_eq!(decode(std, &s(&key23)), Err(KeyError::TooShort(23)));
        assert_eq!(decode(Scheme::Octopus, &s("")), Err(KeyError::Empty));
        assert_eq!(
            decode(Scheme::Octopus, &s("k")),
            Err(KeyError::ShortSecret(1))
        );
        let fifteen = "0123456789abcde";
        assert_eq!(
            decode(Scheme::Octopus, &s(fifteen)),
            Err(KeyError::ShortSecret(15))
        );
        let sixteen = "0123456789abcdef";
        assert_eq!(
            decode(Scheme::Octopus, &s(sixteen)).map(|k| k.0),
            Ok(sixteen.as_bytes().to_vec())
        );
        let hunter = "hunter2hunter2hunter2";
        assert!(!format!("{:?}", decode(Scheme::Octopus, &s(hunter))).contains("hunter2"));
    }

    #[test]
    fn placeholders_are_refused_in_every_spelling() {
        let s = |t: &str| Secret::new(t);
        for text in [
            "CHANGE-ME",
            "CHANGE-ME-current-signing-secret",
            "change_me_please_0000",
            "Replace Me With The Real One",
            "<your-webhook-secret-here>",
            "your-secret-goes-here-000",
        ] {
            for scheme in [Scheme::Octopus, Scheme::StandardWebhooks] {
                assert_eq!(
                    decode(scheme, &s(text)),
                    Err(KeyError::Placeholder),
                    "{text}"
                );
            }
        }
        let real = "3f9a1c0e5b7d2468ace13579bdf02468";
        assert!(decode(Scheme::Octopus, &s(real)).is_ok());
    }
}

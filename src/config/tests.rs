//! Configuration loading: precedence, files, secrets and the key named in every error.

use std::io::Write;
use std::time::Duration;

use super::*;

fn write(contents: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().expect("temp file");
    f.write_all(contents.as_bytes()).expect("write");
    f
}

pub(super) fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const MINIMAL: &str =
    "[webhook]\nsecrets = \"s3cret-0123456789abcdef\"\n[upstream]\nenabled = false\n";

fn key_of(r: Result<Config, ConfigError>) -> String {
    r.expect_err("config should be rejected")
        .key()
        .unwrap_or("")
        .to_owned()
}

/// The example file with `env` laid over it (the validation tests of the sibling modules).
pub(super) fn example_with(env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/esim-bridge.example.toml");
    let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    Config::load_with_env(Some(Path::new(path)), env)
}

#[test]
fn the_example_file_parses() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/esim-bridge.example.toml");
    let c = Config::load_with_env(Some(Path::new(path)), env(&[])).expect("example parses");
    assert_eq!(c.nats.max_age, Duration::from_secs(90 * 86_400));
    assert_eq!(c.upstream.reads_per_minute, 240);
}

#[test]
fn env_overrides_file_overrides_defaults() {
    let f = write(&format!(
        "{MINIMAL}[nats]\nurl = \"nats://file:4222\"\nstream = \"FROM_FILE\"\n"
    ));
    let c = Config::load_with_env(
        Some(f.path()),
        env(&[
            ("ESIM_BRIDGE_NATS__URL", "nats://env:4222"),
            ("ESIM_BRIDGE_CONFIG", "x"),
        ]),
    )
    .expect("valid");
    assert_eq!(c.nats.url, "nats://env:4222");
    assert_eq!(c.nats.stream, "FROM_FILE");
    assert_eq!(c.nats.subject_prefix, "esim");
}

#[test]
fn durations_and_numbers_come_from_env_strings() {
    let c = Config::load_with_env(
        None,
        env(&[
            (
                "ESIM_BRIDGE_WEBHOOK__SECRETS",
                "[aaaa-0123456789ab, bbbb-0123456789ab]",
            ),
            ("ESIM_BRIDGE_WEBHOOK__TOLERANCE", "90s"),
            ("ESIM_BRIDGE_WEBHOOK__MAX_BODY_BYTES", "2048"),
            ("ESIM_BRIDGE_UPSTREAM__ENABLED", "false"),
        ]),
    )
    .expect("valid");
    assert_eq!(c.webhook.secrets.len(), 2);
    assert_eq!(c.webhook.tolerance, Duration::from_secs(90));
    assert_eq!(c.webhook.max_body_bytes, 2048);
}

#[test]
fn every_error_names_its_key() {
    let bad_env = |k: &str, v: &str| {
        let f = write(MINIMAL);
        key_of(Config::load_with_env(Some(f.path()), env(&[(k, v)])))
    };
    assert_eq!(
        bad_env("ESIM_BRIDGE_WEBHOOK__TOLERANCE", "soon"),
        "webhook.tolerance"
    );
    assert_eq!(
        bad_env("ESIM_BRIDGE_WEBHOOK__LISTEN", "nowhere"),
        "webhook.listen"
    );
    assert_eq!(bad_env("ESIM_BRIDGE_NATS__REPLICAS", "9"), "nats.replicas");
    assert_eq!(bad_env("ESIM_BRIDGE_NATS__STREAM", "a.b"), "nats.stream");
    assert_eq!(bad_env("ESIM_BRIDGE_NATS__COLOUR", "red"), "nats.colour");
    assert_eq!(
        bad_env("ESIM_BRIDGE_UPSTREAM__ENABLED", "true"),
        "upstream.base_url"
    );
    let unknown = write(&format!("{MINIMAL}[webhook.extra]\nx = 1\n"));
    assert_eq!(
        key_of(Config::load_with_env(Some(unknown.path()), env(&[]))),
        "webhook.extra"
    );
    let no_secret = write("[upstream]\nenabled = false\n");
    assert_eq!(
        key_of(Config::load_with_env(Some(no_secret.path()), env(&[]))),
        "webhook.secrets"
    );
}

#[test]
fn secrets_come_from_files_and_are_masked_when_printed() {
    let secret_file = write("  from-a-file-0123456789\n");
    let f = write(&format!(
        "[webhook]\nsecrets = \"inline-one-0123456789\"\nsecrets_file = {:?}\n[upstream]\nbase_url = \"https://x\"\napi_key = \"k\"\napi_secret_file = {:?}\n",
        secret_file.path(),
        secret_file.path()
    ));
    let c = Config::load_with_env(Some(f.path()), env(&[])).expect("valid");
    assert_eq!(c.webhook.secrets.len(), 2);
    assert_eq!(
        c.upstream.api_secret.as_ref().map(Secret::expose),
        Some("from-a-file-0123456789")
    );
    let printed = c.to_masked_toml();
    assert!(
        !printed.contains("from-a-file") && !printed.contains("inline-one"),
        "{printed}"
    );
    assert!(printed.contains("[webhook]") && printed.contains(MASK));
}

#[test]
fn inline_and_file_together_is_an_error() {
    let f = write(&format!(
        "{MINIMAL}[nats]\ntoken = \"t\"\ntoken_file = \"/nonexistent\"\n"
    ));
    assert_eq!(
        key_of(Config::load_with_env(Some(f.path()), env(&[]))),
        "nats.token"
    );
}

/// A standard-webhooks config with `secret` as its only key.
fn standard_with(secret: &str) -> Result<Config, ConfigError> {
    let f = write("[webhook]\nscheme = \"standard-webhooks\"\n[upstream]\nenabled = false\n");
    Config::load_with_env(
        Some(f.path()),
        env(&[("ESIM_BRIDGE_WEBHOOK__SECRETS", secret)]),
    )
}

#[test]
fn an_empty_or_short_whsec_key_is_rejected_and_never_verifies() {
    use crate::ingest::webhook::{standard_signature, Verifier};
    use base64::Engine;
    let b64 = |n: usize| base64::engine::general_purpose::STANDARD.encode(vec![42u8; n]);
    for short in ["whsec_".to_owned(), format!("whsec_{}", b64(23)), b64(8)] {
        assert_eq!(key_of(standard_with(&short)), "webhook.secrets", "{short}");
    }
    let good = format!("whsec_{}", b64(24));
    let c = standard_with(&good).expect("a 24-byte key is enough");
    assert_eq!(c.webhook.signing_keys().len(), 1);
    assert_eq!(c.webhook.signing_keys()[0].expose(), vec![42u8; 24]);

    // A config built in code (not loaded) still never gets an empty key.
    let mut w = WebhookConfig {
        scheme: Scheme::StandardWebhooks,
        secrets: vec![Secret::new("whsec_")],
        ..WebhookConfig::default()
    };
    assert!(w.signing_keys().is_empty());
    let now = std::time::SystemTime::now();
    let ts = now
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let sig = standard_signature("whsec_", "msg_1", ts, b"{}");
    let mut h = axum::http::HeaderMap::new();
    h.insert("webhook-id", "msg_1".parse().expect("header"));
    h.insert("webhook-timestamp", ts.to_string().parse().expect("header"));
    h.insert("webhook-signature", sig.parse().expect("header"));
    assert!(Verifier::new(&w).verify(&h, b"{}", now).is_err());
    w.secrets = vec![Secret::new(good.clone())];
    let sig = standard_signature(&good, "msg_1", ts, b"{}");
    h.insert("webhook-signature", sig.parse().expect("header"));
    assert_eq!(Verifier::new(&w).verify(&h, b"{}", now), Ok(()));
}

#[test]
fn empty_secrets_of_every_kind_are_rejected_by_key() {
    let empty_file = write("\n  \n");
    let with = |extra: &str| {
        let f = write(&format!(
            "[webhook]\nsecrets = \"hook-secret-0123456789\"\n[upstream]\nenabled = false\n{extra}"
        ));
        key_of(Config::load_with_env(Some(f.path()), env(&[])))
    };
    assert_eq!(
        with("[nats]\nuser = \"u\"\npassword = \"\"\n"),
        "nats.password"
    );
    assert_eq!(with("[nats]\ntoken = \"\"\n"), "nats.token");
    assert_eq!(
        with(&format!("[nats]\ntoken_file = {:?}\n", empty_file.path())),
        "nats.token"
    );
    let upstream = |extra: &str| {
        let f = write(&format!(
            "[webhook]\nsecrets = \"hook-secret-0123456789\"\n[upstream]\n{extra}"
        ));
        key_of(Config::load_with_env(Some(f.path()), env(&[])))
    };
    let base = "base_url = \"https://x\"\n";
    assert_eq!(
        upstream(&format!("{base}api_key = \"\"\napi_secret = \"s\"\n")),
        "upstream.api_key"
    );
    assert_eq!(
        upstream(&format!("{base}api_key = \"k\"\napi_secret = \"\"\n")),
        "upstream.api_secret"
    );
    let webhook = |env_pairs: &[(&str, &str)]| {
        let f = write("[upstream]\nenabled = false\n");
        key_of(Config::load_with_env(Some(f.path()), env(env_pairs)))
    };
    assert_eq!(
        webhook(&[("ESIM_BRIDGE_WEBHOOK__SECRETS", "")]),
        "webhook.secrets"
    );
    assert_eq!(
        webhook(&[("ESIM_BRIDGE_WEBHOOK__SECRETS", "[a, ]")]),
        "webhook.secrets"
    );
    let path = empty_file.path().display().to_string();
    assert_eq!(
        webhook(&[("ESIM_BRIDGE_WEBHOOK__SECRETS_FILE", path.as_str())]),
        "webhook.secrets"
    );
}

#[test]
fn secrets_that_look_like_other_types_stay_the_exact_string() {
    for value in [
        "918273645",
        "007",
        "1.50",
        "true",
        "-3",
        "[x]",
        "\"q\"",
        "1e3",
    ] {
        let c = Config::load_with_env(
            None,
            env(&[
                ("ESIM_BRIDGE_WEBHOOK__SECRETS", "hook-secret-0123456789"),
                ("ESIM_BRIDGE_UPSTREAM__ENABLED", "false"),
                ("ESIM_BRIDGE_NATS__USER", "bridge"),
                ("ESIM_BRIDGE_NATS__PASSWORD", value),
                ("ESIM_BRIDGE_UPSTREAM__API_KEY", value),
            ]),
        )
        .unwrap_or_else(|e| panic!("{value}: {e}"));
        assert_eq!(c.nats.password.as_ref().map(Secret::expose), Some(value));
        assert_eq!(c.upstream.api_key.as_ref().map(Secret::expose), Some(value));
    }
    let f = write("[webhook]\nsecrets = [9182736450918273645, \"bbbbbbbbbbbbbbbbbb\"]\n[upstream]\nenabled = false\n[nats]\ntoken = 4455\n");
    let c = Config::load_with_env(Some(f.path()), env(&[])).expect("integers are kept as text");
    assert_eq!(c.nats.token.as_ref().map(Secret::expose), Some("4455"));
    let secrets: Vec<&str> = c.webhook.secrets.iter().map(Secret::expose).collect();
    assert_eq!(secrets, ["9182736450918273645", "bbbbbbbbbbbbbbbbbb"]);
}

#[test]
fn errors_about_secrets_never_echo_them() {
    let cases = [
        "[nats]\ntoken = 918273645.25\n",
        "[nats]\ntoken = { inner = \"918273645\" }\n",
        "[nats]\ntoken = true\n[webhook]\nsecrets = [\"918273645\", 1.5]\n",
        "[nats]\ntoken = \"918273645\n",
        "[nats]\ntoken = 918273645\n[nats]\n",
        "[upstream]\napi_secret = [\"918273645\"]\n",
    ];
    for extra in cases {
        let f = write(&format!("{extra}[upstream.cadence]\n"));
        let e = Config::load_with_env(Some(f.path()), env(&[])).expect_err(extra);
        assert!(!e.to_string().contains("918273645"), "{extra}: {e}");
    }
    for (k, v) in [
        ("ESIM_BRIDGE_NATS", "918273645"),
        ("ESIM_BRIDGE_NATS__PASSWORD", "918273645"),
        ("ESIM_BRIDGE_NATS__REPLICAS", "918273645"),
    ] {
        let e = Config::load_with_env(None, env(&[(k, v)])).expect_err(k);
        assert!(!e.to_string().contains("918273645"), "{k}: {e}");
        assert!(e.key().is_some_and(|key| !key.is_empty()), "{k}: {e}");
    }
}

#[test]
fn check_config_masks_credentials_in_urls() {
    let c = Config::load_with_env(
        None,
        env(&[
            ("ESIM_BRIDGE_WEBHOOK__SECRETS", "hook-secret-0123456789"),
            (
                "ESIM_BRIDGE_NATS__URL",
                "nats://bridge:pw-in-url@a:4222, nats://tok-in-url@b:4222",
            ),
            (
                "ESIM_BRIDGE_UPSTREAM__BASE_URL",
                "https://k:api-in-url@h/v1",
            ),
            ("ESIM_BRIDGE_UPSTREAM__API_KEY", "k"),
            ("ESIM_BRIDGE_UPSTREAM__API_SECRET", "s"),
        ]),
    )
    .expect("valid");
    let printed = c.to_masked_toml();
    for secret in ["pw-in-url", "tok-in-url", "api-in-url"] {
        assert!(!printed.contains(secret), "{printed}");
    }
    assert!(printed.contains("nats://bridge:***@a:4222"), "{printed}");
    assert_eq!(
        c.nats.url,
        "nats://bridge:pw-in-url@a:4222, nats://tok-in-url@b:4222"
    );
}

mod generated {
    use proptest::prelude::*;

    use super::*;

    /// Secrets as an operator might write them: all digits, number-like, or any printable text.
    fn secret() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9]{12,24}",
            "[0-9]{6,12}\\.[0-9]{1,6}",
            "[ -~]{12,40}",
            "\\PC{12,24}",
        ]
        .prop_filter("not blank", |s| !s.trim().is_empty())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn any_secret_loads_verbatim_and_is_never_shown(s in secret()) {
            let pairs = [
                ("ESIM_BRIDGE_WEBHOOK__SECRETS", "hook-secret-0123456789"),
                ("ESIM_BRIDGE_UPSTREAM__ENABLED", "false"),
                ("ESIM_BRIDGE_NATS__USER", "bridge"),
                ("ESIM_BRIDGE_NATS__PASSWORD", s.as_str()),
                ("ESIM_BRIDGE_UPSTREAM__API_SECRET", s.as_str()),
            ];
            let c = Config::load_with_env(None, env(&pairs)).map_err(|e| {
                TestCaseError::fail(format!("rejected: {e}"))
            })?;
            prop_assert_eq!(c.nats.password.as_ref().map(Secret::expose), Some(s.as_str()));
            prop_assert_eq!(c.upstream.api_secret.as_ref().map(Secret::expose), Some(s.as_str()));
            let shown = format!("{}{c:?}", c.to_masked_toml());
            prop_assert!(!shown.contains(s.as_str()), "{}", shown);

            // The same secret next to a mistake, and as the mistake, stays out of the error.
            let mut broken = pairs.to_vec();
            broken.push(("ESIM_BRIDGE_NATS__STREAM", "a.b"));
            let e = Config::load_with_env(None, env(&broken)).expect_err("bad stream");
            prop_assert!(!e.to_string().contains(s.as_str()), "{}", e);
            let e = Config::load_with_env(None, env(&[("ESIM_BRIDGE_NATS__PASSWORD", s.as_str())]))
                .expect_err("password without user");
            prop_assert_eq!(e.key(), Some("nats.password"));
            prop_assert!(!e.to_string().contains(s.as_str()), "{}", e);
        }

        #[test]
        fn a_secret_in_a_broken_file_is_never_echoed(s in "[A-Za-z][0-9A-Za-z]{11,23}", cut in 0usize..3) {
            let text = match cut {
                0 => format!("[nats]\ntoken = \"{s}\n"),
                1 => format!("[nats]\ntoken = {s}\n"),
                _ => format!("[nats]\ntoken = [\"{s}\", 1.5\n"),
            };
            let f = write(&text);
            let e = Config::load_with_env(Some(f.path()), env(&[])).expect_err("broken");
            prop_assert!(!e.to_string().contains(s.as_str()), "{}", e);
        }
    }
}

#[test]
fn oversized_secret_files_are_refused_not_read_whole() {
    let big = write(&"x".repeat(secret::MAX_SECRET_FILE_BYTES as usize + 1));
    let f = write(&format!("{MINIMAL}[nats]\ntoken_file = {:?}\n", big.path()));
    let e = Config::load_with_env(Some(f.path()), env(&[])).expect_err("too large");
    assert_eq!(e.key(), Some("nats.token_file"));
    assert!(e.to_string().contains("larger than"), "{e}");
    #[cfg(unix)]
    {
        let zero = write(&format!("{MINIMAL}[nats]\ntoken_file = \"/dev/zero\"\n"));
        let e = Config::load_with_env(Some(zero.path()), env(&[])).expect_err("endless");
        assert_eq!(e.key(), Some("nats.token_file"));
    }
}

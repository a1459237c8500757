//! The real binary's configuration errors and listings never show a secret (issue 7, finding
//! 6): exit 64 naming the key, secrets taken as strings whatever they look like, URL
//! credentials masked, short standard-webhooks keys refused.

use std::process::Command;

use proptest::prelude::*;

use crate::binary::bridge_cmd;

/// Runs the command: (exit code, stdout + stderr).
fn run(cmd: &mut Command) -> (Option<i32>, String) {
    let out = cmd.output().expect("run");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

fn check_config() -> Command {
    let mut cmd = bridge_cmd();
    cmd.arg("check-config");
    cmd
}

#[test]
fn an_empty_or_short_whsec_key_exits_64_naming_the_key() {
    for key in ["whsec_", "whsec_c2hvcnQta2V5"] {
        let (code, text) = run(check_config()
            .env("ESIM_BRIDGE_WEBHOOK__SCHEME", "standard-webhooks")
            .env("ESIM_BRIDGE_WEBHOOK__SECRETS", key));
        assert_eq!(code, Some(64), "{key}: {text}");
        assert!(text.contains("webhook.secrets"), "{text}");
        assert!(!text.contains("c2hvcnQta2V5"), "{text}");
    }
    let (code, text) = run(check_config()
        .env("ESIM_BRIDGE_WEBHOOK__SCHEME", "standard-webhooks")
        .env(
            "ESIM_BRIDGE_WEBHOOK__SECRETS",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ));
    assert_eq!(code, Some(0), "{text}");
}

#[test]
fn check_config_masks_url_credentials_in_every_server() {
    let (code, text) = run(check_config()
        .env("ESIM_BRIDGE_WEBHOOK__SECRETS", "hook-secret-0123456789")
        .env(
            "ESIM_BRIDGE_NATS__URL",
            "nats://bridge:url-pw-5150@127.0.0.1:4222,nats://tok-in-url-77@127.0.0.2:4222",
        ));
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("nats://bridge:***@127.0.0.1:4222"), "{text}");
    for secret in ["url-pw-5150", "tok-in-url-77"] {
        assert!(!text.contains(secret), "{text}");
    }
}

#[test]
fn a_secret_in_a_rejected_file_is_never_echoed() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (i, (toml, key)) in [
        ("[nats]\ntoken = 918273645.5\n", "nats.token"),
        (
            "[nats]\npassword = [\"918273645\"]\nuser = \"u\"\n",
            "nats.password",
        ),
        (
            "[upstream]\napi_secret = { v = \"918273645\" }\n",
            "upstream.api_secret",
        ),
        ("[nats]\ntoken = \"918273645\n", "line 4"),
    ]
    .into_iter()
    .enumerate()
    {
        let file = dir.path().join(format!("c{i}.toml"));
        std::fs::write(&file, format!("[webhook]\nsecrets = \"s\"\n{toml}")).expect("write");
        let (code, text) = run(check_config().arg("--config").arg(&file));
        assert_eq!(code, Some(64), "{toml}: {text}");
        assert!(text.contains(key), "{toml}: {text}");
        assert!(!text.contains("918273645"), "{toml}: {text}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// All-digit, number-like and arbitrary printable secrets set by env: accepted verbatim
    /// where valid, never in stdout or stderr, and an error about them names the key.
    #[test]
    fn env_secrets_are_strings_and_never_shown(
        // 16 bytes at least (a shorter webhook secret is refused); not `<...>` (a placeholder).
        secret in prop_oneof!["[0-9]{16,19}", "[0-9]{12,14}\\.[0-9]{3,4}", "[!-;=-~][!-~]{15,31}"],
    ) {
        let (code, text) = run(check_config()
            .env("ESIM_BRIDGE_WEBHOOK__SECRETS", &secret)
            .env("ESIM_BRIDGE_NATS__USER", "bridge")
            .env("ESIM_BRIDGE_NATS__PASSWORD", &secret)
            .env("ESIM_BRIDGE_NATS__TOKEN", &secret));
        prop_assert_eq!(code, Some(0), "{}", text);
        prop_assert!(!text.contains(secret.as_str()), "{}", text);

        // Without nats.user the password is refused: exit 64, key named, value not shown.
        let (code, text) = run(check_config()
            .env("ESIM_BRIDGE_WEBHOOK__SECRETS", "hook-secret-0123456789")
            .env("ESIM_BRIDGE_NATS__PASSWORD", &secret));
        prop_assert_eq!(code, Some(64), "{}", text);
        prop_assert!(text.contains("nats.password"), "{}", text);
        prop_assert!(!text.contains(secret.as_str()), "{}", text);

        // A secret given where a table belongs is refused without echo.
        let (code, text) = run(check_config()
            .env("ESIM_BRIDGE_WEBHOOK__SECRETS", "hook-secret-0123456789")
            .env("ESIM_BRIDGE_LOG", &secret));
        prop_assert_eq!(code, Some(64), "{}", text);
        prop_assert!(text.contains("log: "), "{}", text);
        prop_assert!(!text.contains(secret.as_str()), "{}", text);
    }
}

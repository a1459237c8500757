//! What `check-config` refuses with a hint: placeholder and short webhook secrets, misspelt
//! keys (the closest known key, the variable that set it, the `__` separator).

use super::tests::env;
use super::Config;

#[test]
fn placeholder_and_trivially_short_webhook_secrets_are_refused_naming_the_key() {
    for (secret, why) in [
        ("CHANGE-ME-current-signing-secret", "placeholder"),
        ("change-me", "placeholder"),
        ("s", "at least 16"),
        ("short-secret", "at least 16"),
    ] {
        let e = Config::load_with_env(
            None,
            env(&[
                ("ESIM_BRIDGE_WEBHOOK__SECRETS", secret),
                ("ESIM_BRIDGE_UPSTREAM__ENABLED", "false"),
            ]),
        )
        .expect_err(secret);
        assert_eq!(e.key(), Some("webhook.secrets"), "{secret}: {e}");
        assert!(e.to_string().contains(why), "{secret}: {e}");
        if secret.len() > 4 {
            assert!(!e.to_string().contains(secret), "the secret is echoed: {e}");
        }
    }
}

#[test]
fn a_misspelt_key_gets_the_closest_one_and_the_variable_that_set_it() {
    let err = |name: &str| {
        Config::load_with_env(
            None,
            env(&[
                ("ESIM_BRIDGE_WEBHOOK__SECRETS", "hook-secret-0123456789"),
                ("ESIM_BRIDGE_UPSTREAM__ENABLED", "false"),
                (name, "nats://127.0.0.1:4222"),
            ]),
        )
        .expect_err(name)
        .to_string()
    };
    let e = err("ESIM_BRIDGE_NATS_URL");
    assert!(
        e.contains("(set by ESIM_BRIDGE_NATS_URL)")
            && e.contains("separated by a double underscore: ESIM_BRIDGE_NATS__URL"),
        "{e}"
    );
    let e = err("ESIM_BRIDGE_NATS__URLL");
    assert!(
        e.starts_with("nats.urll: ") && e.contains("did you mean `url`?"),
        "{e}"
    );
    let e = err("ESIM_BRIDGE_WEBHOK__PATH");
    assert!(
        e.contains("did you mean `webhook`?") && e.contains("(set by ESIM_BRIDGE_WEBHOK__PATH)"),
        "{e}"
    );
    // A word that is not close to any key gets no guess.
    let e = err("ESIM_BRIDGE_NATS__ZEPPELIN");
    assert!(!e.contains("did you mean"), "{e}");
}

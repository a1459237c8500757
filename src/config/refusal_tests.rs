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

/// Issue 18: a file with several mistakes gets all of them in one answer, each with the line
/// it is on (or the variable that set it), a misspelt key with its closest match.
#[test]
fn every_mistake_of_a_file_is_reported_at_once_with_its_line() {
    let text = "\
[nats]
url = \"htp:/127.0.0.1::14222\"
replicas = 9

[log]
level = \"verbose\"

[webhook]
secrets = \"hook-secret-0123456789\"
tolerance = 300
pathh = \"/x\"

[upstream]
enabled = false
";
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    std::io::Write::write_all(&mut file, text.as_bytes()).expect("write");
    let path = file.path().display().to_string();
    let e = Config::load_with_env(
        Some(file.path()),
        env(&[("ESIM_BRIDGE_NATS__STREAM", "no spaces please")]),
    )
    .expect_err("five mistakes");
    let shown = e.to_string();
    let lines: Vec<String> = e.problems().iter().map(ToString::to_string).collect();
    let expect = [
        ("webhook.tolerance: invalid type", format!("(at {path}:10)")),
        ("webhook.pathh: unknown field", format!("(at {path}:11)")),
        ("nats.url: ", format!("(at {path}:2)")),
        (
            "nats.stream: ",
            "(set by ESIM_BRIDGE_NATS__STREAM)".to_owned(),
        ),
        ("nats.replicas: ", format!("(at {path}:3)")),
        ("log.level: ", format!("(at {path}:6)")),
    ];
    for (start, source) in &expect {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(start) && l.ends_with(source.as_str())),
            "no `{start}…{source}` in:\n{shown}"
        );
    }
    assert_eq!(lines.len(), expect.len(), "{shown}");
    assert!(shown.starts_with("6 problems:\n  "), "{shown}");
    assert!(shown.contains("did you mean `path`?"), "{shown}");
    assert!(
        !shown.contains("hook-secret"),
        "a secret is echoed: {shown}"
    );
}

/// A key refused by type is put back to its default and reported once: the default's own
/// refusal (no secrets at all) is no second problem.
#[test]
fn a_key_refused_by_type_is_reported_once() {
    let e = Config::load_with_env(
        None,
        env(&[
            ("ESIM_BRIDGE_WEBHOOK__SECRETS", "{ a = 1 }"),
            ("ESIM_BRIDGE_UPSTREAM__ENABLED", "false"),
        ]),
    )
    .expect_err("a table is no secret list");
    assert_eq!(e.problems().len(), 1, "{e}");
    assert_eq!(e.key(), Some("webhook.secrets"), "{e}");
}

/// A refused list element puts its list back to the default and is one problem; the rest of
/// the file is still checked (not the defaults). A missing secret file is one problem, not
/// also "user and password go together".
#[test]
fn a_bad_list_element_or_secret_file_is_one_problem_and_the_rest_is_still_checked() {
    let text = "[webhook]\nsecrets = [\"hook-secret-0123456789\", true]\n\n[upstream]\nenabled = false\n\n[nats]\nreplicas = 9\nuser = \"ops\"\npassword_file = \"/nonexistent/esim-bridge-pw\"\n";
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    std::io::Write::write_all(&mut file, text.as_bytes()).expect("write");
    let e = Config::load_with_env(Some(file.path()), env(&[])).expect_err("three mistakes");
    let keys: Vec<&str> = e.problems().iter().filter_map(|p| p.key()).collect();
    assert_eq!(
        keys,
        ["webhook.secrets.1", "nats.password_file", "nats.replicas"],
        "{e}"
    );
}

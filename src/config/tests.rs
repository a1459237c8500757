//! Configuration loading: precedence, files, secrets and the key named in every error.

use std::io::Write;
use std::time::Duration;

use super::*;

fn write(contents: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().expect("temp file");
    f.write_all(contents.as_bytes()).expect("write");
    f
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const MINIMAL: &str = "[webhook]\nsecrets = \"s3cret\"\n[upstream]\nenabled = false\n";

fn key_of(r: Result<Config, ConfigError>) -> String {
    r.expect_err("config should be rejected")
        .key()
        .unwrap_or("")
        .to_owned()
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
            ("ESIM_BRIDGE_WEBHOOK__SECRETS", "[a, b]"),
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
    let secret_file = write("  from-a-file\n");
    let f = write(&format!(
        "[webhook]\nsecrets = \"inline-one\"\nsecrets_file = {:?}\n[upstream]\nbase_url = \"http://x\"\napi_key = \"k\"\napi_secret_file = {:?}\n",
        secret_file.path(),
        secret_file.path()
    ));
    let c = Config::load_with_env(Some(f.path()), env(&[])).expect("valid");
    assert_eq!(c.webhook.secrets.len(), 2);
    assert_eq!(
        c.upstream.api_secret.as_ref().map(Secret::expose),
        Some("from-a-file")
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

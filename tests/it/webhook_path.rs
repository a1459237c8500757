//! `webhook.path` is a literal path: a pattern (`*rest`, `:id`, `{id}`) is a configuration
//! error naming the key, from `check-config` and from `serve` alike (exit 64), never a panic
//! and never a route that matches any path.

use crate::binary::{bridge_cmd, run_until_exit};
use crate::support::bridge::SECRET;
use crate::support::fixture::NatsServer;

#[tokio::test]
async fn a_webhook_path_that_is_a_pattern_is_refused_with_64_naming_the_key() {
    // A real server, so a `serve` that got past the config would reach the router.
    let nats = NatsServer::start().await;
    for path in ["/a/*rest", "/a/:id", "/a/{id}", "/a/{*rest}"] {
        for command in ["check-config", "serve"] {
            let mut cmd = bridge_cmd();
            cmd.env("ESIM_BRIDGE_WEBHOOK__SECRETS", SECRET)
                .env("ESIM_BRIDGE_WEBHOOK__PATH", path)
                .env("ESIM_BRIDGE_WEBHOOK__LISTEN", "127.0.0.1:0")
                .env("ESIM_BRIDGE_ADMIN__LISTEN", "127.0.0.1:0")
                .env("ESIM_BRIDGE_NATS__URL", nats.url())
                .arg(command);
            let (code, err) = run_until_exit(cmd).await;
            assert_eq!(code, Some(64), "{command} {path}: {err}");
            assert!(err.contains("webhook.path"), "{command} {path}: {err}");
            assert!(!err.contains("panicked"), "{command} {path}: {err}");
        }
    }
}

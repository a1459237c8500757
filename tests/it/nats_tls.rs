//! The TLS example of `deploy/nats/tls/`: `gen-certs.sh` makes a CA and a server certificate
//! (needs `openssl`), a nats-server runs the shipped `tls {}` block with them, the bridge
//! stores a webhook over TLS trusting only that CA, and a client that does not trust it, or
//! that speaks plain text, gets nowhere.

use std::io::{BufRead, BufReader, Write};
use std::process::Command;
use std::time::Duration;

use esim_bridge::config::Secret;

use crate::support::bridge::{esim_webhook, signed, Bridge};
use crate::support::deploy_nats::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_the_bridge_stores_a_webhook_and_a_plain_text_client_is_refused() {
    let certs = tempfile::TempDir::with_prefix("nats-certs-").expect("temp dir");
    let script = deploy_nats().join("tls/gen-certs.sh");
    let made = Command::new("bash").arg(&script).arg(certs.path()).output();
    let made = made.expect("run gen-certs.sh (needs bash and openssl)");
    let stderr = String::from_utf8_lossy(&made.stderr);
    assert!(made.status.success(), "gen-certs.sh failed: {stderr}");
    let shipped = std::fs::read_to_string(deploy_nats().join("tls/tls.conf")).expect("tls.conf");
    let dir = format!("{}/", certs.path().display());
    assert!(
        shipped.contains("/etc/nats/certs/"),
        "tls.conf no longer mounts /etc/nats/certs"
    );
    let server = AccountsServer::with_extra(&shipped.replace("/etc/nats/certs/", &dir));
    let ca = certs.path().join("ca.pem");

    let url = format!("tls://127.0.0.1:{}", server.port);
    let bridge = Bridge::start(&url, |c| {
        c.nats.user = Some("bridge".into());
        c.nats.password = Some(Secret::new(BRIDGE_PASSWORD));
        c.nats.tls.required = true;
        c.nats.tls.ca_file = Some(ca.clone());
    })
    .await;
    let iccid = "8910300000088000037";
    let body = esim_webhook("evt_tls", "esim.delivered", 8_800_003, Some(iccid));
    let answer = signed(&reqwest::Client::new(), &bridge.url(), &body)
        .send()
        .await;
    assert_eq!(answer.expect("POST").status(), 200);
    bridge.stop().await;

    // Read back over TLS as the ops user.
    let ops = async_nats::ConnectOptions::with_user_and_password("ops".into(), OPS_PASSWORD.into())
        .add_root_certificates(ca.clone())
        .require_tls(true)
        .connect(&url)
        .await
        .expect("ops connects over TLS");
    let subjects = crate::support::container_stack::stored_subjects(&ops).await;
    assert_eq!(subjects, [format!("esim.events.{iccid}.delivered")]);

    // A client that does not trust the test CA cannot connect.
    let untrusting =
        async_nats::ConnectOptions::with_user_and_password("ops".into(), OPS_PASSWORD.into())
            .connection_timeout(Duration::from_secs(2))
            .connect(&url)
            .await;
    assert!(untrusting.is_err(), "connected without trusting the CA");

    // Plain text: the server announces TLS as required and drops a client that does not start it.
    let port = server.port;
    let plain = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("tcp");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut info = String::new();
        reader.read_line(&mut info).expect("INFO");
        let connect = format!(
            "CONNECT {{\"user\":\"ops\",\"pass\":\"{OPS_PASSWORD}\",\"verbose\":false}}\r\nPING\r\n"
        );
        let _ = stream.write_all(connect.as_bytes());
        let mut answer = String::new();
        let _ = reader.read_line(&mut answer);
        (info, answer)
    });
    let (info, answer) = plain.await.expect("plain client");
    assert!(info.contains("\"tls_required\":true"), "{info}");
    assert!(
        !answer.starts_with("PONG"),
        "a plain-text client was served: {answer}"
    );
}

//! `esim-bridge healthcheck`: one HTTP GET against a local admin endpoint, exit 0 on a 2xx and
//! 1 otherwise. It exists for container images built `FROM scratch` (no shell, no curl), whose
//! `HEALTHCHECK` can only run a binary that is already in the image.
//!
//! Plain HTTP/1.0 over a std `TcpStream` with deadlines: no runtime, no TLS, no redirects, so
//! the probe cannot hang longer than `--timeout` and never needs more than the bridge binary.

use crate::exit::Exit;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Flags of `esim-bridge healthcheck`.
#[derive(Debug, Clone, clap::Args)]
pub struct HealthcheckArgs {
    /// The URL to GET (`http://` only), e.g. the admin listener's `/readyz`.
    #[arg(
        long,
        env = "ESIM_HEALTHCHECK_URL",
        default_value = "http://127.0.0.1:9090/readyz"
    )]
    pub url: String,
    /// Connect + answer deadline.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

/// Why the probe failed (printed on stderr, so `docker inspect` shows it in the health log).
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("unsupported URL {0:?}: expected http://host:port/path")]
    Url(String),
    #[error("cannot reach {addr}: {source}")]
    Io {
        addr: String,
        source: std::io::Error,
    },
    #[error("no HTTP status line in the answer")]
    Garbled,
    #[error("answered {status}: {body}")]
    Unhealthy { status: u16, body: String },
}

/// GETs `args.url`; `Ok(status)` for a 2xx.
pub fn probe(args: &HealthcheckArgs) -> Result<u16, ProbeError> {
    let (authority, path) =
        split_url(&args.url).ok_or_else(|| ProbeError::Url(args.url.clone()))?;
    let io = |source| ProbeError::Io {
        addr: authority.to_owned(),
        source,
    };
    let addr: SocketAddr = authority
        .to_socket_addrs()
        .map_err(io)?
        .next()
        .ok_or_else(|| ProbeError::Url(args.url.clone()))?;
    let mut stream = TcpStream::connect_timeout(&addr, args.timeout).map_err(io)?;
    stream.set_read_timeout(Some(args.timeout)).map_err(io)?;
    stream.set_write_timeout(Some(args.timeout)).map_err(io)?;
    // One buffer, one write: a `write!` straight to the socket may split the request over
    // several syscalls, and a server that answers after the first one would see the rest land
    // on a closed connection (EPIPE) although it already said 200.
    let request = format!("GET {path} HTTP/1.0\r\nHost: {authority}\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(io)?;
    let mut answer = Vec::new();
    stream
        .take(64 * 1024)
        .read_to_end(&mut answer)
        .map_err(io)?;
    let answer = String::from_utf8_lossy(&answer);
    let status: u16 = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or(ProbeError::Garbled)?;
    if (200..300).contains(&status) {
        return Ok(status);
    }
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let body = body.trim().chars().take(200).collect();
    Err(ProbeError::Unhealthy { status, body })
}

/// Probes the endpoint: [`Exit::Ok`] when healthy, [`Exit::Failure`] (reason on stderr) when not.
pub fn check(args: &HealthcheckArgs) -> Exit {
    match probe(args) {
        Ok(_) => Exit::Ok,
        Err(e) => {
            eprintln!("esim-bridge healthcheck: {}: {e}", args.url);
            Exit::Failure
        }
    }
}

/// `http://host:port/path` → (`host:port`, `/path`).
fn split_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    (authority.contains(':') && !authority.is_empty()).then_some((authority, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(url: &str) -> HealthcheckArgs {
        HealthcheckArgs {
            url: url.into(),
            timeout: Duration::from_secs(2),
        }
    }

    #[test]
    fn splits_urls_and_refuses_anything_but_plain_http_with_a_port() {
        assert_eq!(
            split_url("http://127.0.0.1:9090/readyz"),
            Some(("127.0.0.1:9090", "/readyz"))
        );
        assert_eq!(split_url("http://nats:8222"), Some(("nats:8222", "/")));
        assert_eq!(split_url("https://127.0.0.1:9090/readyz"), None);
        assert_eq!(split_url("http://localhost/readyz"), None);
    }

    /// Serves one canned answer on a loopback port and returns the probe's outcome.
    fn against(answer: &'static str) -> Result<u16, ProbeError> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/readyz", listener.local_addr().expect("addr"));
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().expect("accept");
            // Read the whole request head before answering, as a real server does.
            let mut head = Vec::new();
            let mut buf = [0u8; 512];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let _ = conn.write_all(answer.as_bytes());
        });
        let outcome = probe(&args(&url));
        server.join().expect("server thread");
        outcome
    }

    #[test]
    fn a_2xx_is_healthy_and_a_503_is_not() {
        assert_eq!(against("HTTP/1.1 200 OK\r\n\r\nready").unwrap(), 200);
        match against("HTTP/1.1 503 Service Unavailable\r\n\r\nnats: not connected") {
            Err(ProbeError::Unhealthy { status, body }) => {
                assert_eq!(status, 503);
                assert_eq!(body, "nats: not connected");
            }
            other => panic!("expected unhealthy, got {other:?}"),
        }
    }

    #[test]
    fn nothing_listening_is_unhealthy() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let outcome = probe(&args(&format!("http://127.0.0.1:{port}/healthz")));
        assert!(matches!(outcome, Err(ProbeError::Io { .. })), "{outcome:?}");
        assert_eq!(
            check(&args(&format!("http://127.0.0.1:{port}/healthz"))),
            Exit::Failure
        );
    }
}

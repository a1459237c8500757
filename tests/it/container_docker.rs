//! What the container tests need around testcontainers: the gate that skips them (visibly) on a
//! machine without Docker or without the locally built images, the docker CLI for what
//! testcontainers does not do (network connect/disconnect, image inspect), and an API-version
//! shim so testcontainers works against older Docker engines.
//!
//! Why the shim: testcontainers 0.28 talks to Docker through bollard 0.21, which pins its API
//! version to 1.53 in every request path (`/v1.53/containers/create`), and a Docker engine refuses
//! any version above its own maximum ("client version 1.53 is too new. Maximum supported API
//! version is 1.41" on Debian bookworm's docker.io 20.10). Every 0.2x release pins some version
//! above 1.41. [`gate`] therefore starts, once per process, a tiny Unix-socket proxy in front of
//! the engine that lowers the version in each request line to the engine's maximum and points
//! `DOCKER_HOST` at it. Requests are forwarded byte for byte otherwise; each connection carries
//! one request (`Connection: close`), so no HTTP framing has to be parsed beyond the head. A
//! `DOCKER_HOST` that is already set (remote or TLS engines) is left alone.
//!
//! `ESIM_CONTAINER_TESTS=required` (set by `.ci/run`) turns a skip into a failure.
#![allow(dead_code)] // Shared by container.rs and partition.rs.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The images `deploy/build-images.sh` builds.
pub const BRIDGE_IMAGE: (&str, &str) = ("esim-bridge", "local");
pub const NATS_IMAGE: (&str, &str) = ("esim-nats", "local");
pub const SIM_IMAGE: (&str, &str) = ("esim-sim", "local");

/// Passwords the containerised NATS (deploy/nats/accounts.conf) is started with.
pub const BRIDGE_PASSWORD: &str = "bridge-it-password";
pub const OPS_PASSWORD: &str = "ops-it-password";
/// Every password variable `accounts.conf` reads (nats-server refuses to start without one).
pub fn nats_password_env() -> [(&'static str, &'static str); 4] {
    [
        ("ESIM_NATS_BRIDGE_PASSWORD", BRIDGE_PASSWORD),
        ("ESIM_NATS_OPS_PASSWORD", OPS_PASSWORD),
        ("ESIM_NATS_ANALYTICS_PASSWORD", "analytics-it-password"),
        ("ESIM_NATS_BILLING_PASSWORD", "billing-it-password"),
    ]
}

/// `Some(())` if the container tests can run here. Otherwise prints `SKIPPED: <test>: <why>` on
/// stderr and returns `None` — or panics when `ESIM_CONTAINER_TESTS=required`.
pub fn gate(test: &str) -> Option<()> {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    match READY.get_or_init(prepare) {
        Ok(()) => Some(()),
        Err(why) if required() => panic!("{test}: ESIM_CONTAINER_TESTS=required, but {why}"),
        Err(why) => {
            // Straight to the process's stderr: libtest captures `eprintln!` of passing tests,
            // and a skip must be visible in a plain `cargo test` run.
            let line = format!("SKIPPED: {test}: {why}\n");
            let _ = std::io::stderr().write_all(line.as_bytes());
            None
        }
    }
}

fn required() -> bool {
    std::env::var("ESIM_CONTAINER_TESTS").is_ok_and(|v| v == "required")
}

/// Docker reachable, the three images present, and the API shim in place.
fn prepare() -> Result<(), String> {
    let version = docker(&["version", "--format", "{{.Server.APIVersion}}"])
        .map_err(|e| format!("no usable Docker engine ({e})"))?;
    for (name, tag) in [BRIDGE_IMAGE, NATS_IMAGE, SIM_IMAGE] {
        docker(&[
            "image",
            "inspect",
            "--format",
            "{{.Id}}",
            &format!("{name}:{tag}"),
        ])
        .map_err(|_| format!("image {name}:{tag} is not built (deploy/build-images.sh)"))?;
    }
    if std::env::var_os("DOCKER_HOST").is_none() {
        let max = parse_version(&version).ok_or(format!("odd API version {version:?}"))?;
        let upstream = PathBuf::from("/var/run/docker.sock");
        let shim = start_shim(upstream, max).map_err(|e| format!("API shim: {e}"))?;
        // Safe in this edition; set once, before the first testcontainers call reads it.
        std::env::set_var("DOCKER_HOST", format!("unix://{}", shim.display()));
    }
    Ok(())
}

/// Runs the docker CLI; `Ok(stdout)` on exit 0, else `Err(stderr)`.
pub fn docker(args: &[&str]) -> Result<String, String> {
    let out = Command::new("docker").args(args).output();
    let out = out.map_err(|e| format!("cannot run docker: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// A unique suffix for network and container names, so parallel runs never collide.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{:08x}", rand::random::<u32>())
}

/// A user-defined bridge network that is removed on drop (after its containers are gone).
pub struct Network(pub String);

impl Network {
    pub fn create(name: String) -> Network {
        docker(&["network", "create", &name]).unwrap_or_else(|e| panic!("network {name}: {e}"));
        Network(name)
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        let _ = docker(&["network", "rm", &self.0]);
    }
}

fn parse_version(text: &str) -> Option<(u32, u32)> {
    let (major, minor) = text.trim().split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// Where the shims of test processes live: `<tmp>/esim-docker-shim-<pid>/docker.sock`.
const SHIM_PREFIX: &str = "esim-docker-shim-";

/// Binds a Unix socket in a per-process dir (it lives as long as the process; the dirs of
/// processes that are gone are removed here) and serves it on a thread.
fn start_shim(upstream: PathBuf, max: (u32, u32)) -> std::io::Result<PathBuf> {
    let tmp = std::env::temp_dir();
    for entry in std::fs::read_dir(&tmp)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix(SHIM_PREFIX)
            .and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let dir = tmp.join(format!("{SHIM_PREFIX}{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("docker.sock");
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)?;
    std::thread::Builder::new()
        .name("docker-api-shim".into())
        .spawn(move || {
            for client in listener.incoming().flatten() {
                let upstream = upstream.clone();
                std::thread::spawn(move || {
                    let _ = relay(client, &upstream, max);
                });
            }
        })?;
    Ok(path)
}

/// Forwards one request: its head rewritten by [`rewrite_head`], everything after it verbatim.
fn relay(mut client: UnixStream, upstream: &Path, max: (u32, u32)) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 8192];
    let end = loop {
        let n = client.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let mut server = UnixStream::connect(upstream)?;
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    server.write_all(rewrite_head(&text, max).as_bytes())?;
    server.write_all(&head[end..])?;
    let (mut from_client, mut to_server) = (client.try_clone()?, server.try_clone()?);
    let upload = std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_client, &mut to_server);
        let _ = to_server.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut server, &mut client);
    let _ = client.shutdown(std::net::Shutdown::Both);
    let _ = upload.join();
    Ok(())
}

/// `/v1.53/x` → `/v1.41/x` when the engine's maximum is 1.41; `Connection: close` unless the
/// request asks for an upgrade (attach/exec hijack), which then passes through unchanged.
fn rewrite_head(head: &str, max: (u32, u32)) -> String {
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts: Vec<String> = request_line.split(' ').map(str::to_owned).collect();
    if let Some(path) = parts.get_mut(1) {
        *path = lower_version(path, max);
    }
    let headers: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    let upgrade = headers
        .iter()
        .any(|h| h.to_ascii_lowercase().starts_with("upgrade:"));
    let mut out = parts.join(" ") + "\r\n";
    for h in headers {
        if upgrade || !h.to_ascii_lowercase().starts_with("connection:") {
            out.push_str(h);
            out.push_str("\r\n");
        }
    }
    if !upgrade {
        out.push_str("Connection: close\r\n");
    }
    out + "\r\n"
}

fn lower_version(path: &str, max: (u32, u32)) -> String {
    let Some(rest) = path.strip_prefix("/v") else {
        return path.to_owned();
    };
    let (version, tail) = rest.split_once('/').unwrap_or((rest, ""));
    match parse_version(version) {
        Some(v) if v > max => format!("/v{}.{}/{tail}", max.0, max.1),
        _ => path.to_owned(),
    }
}

#[test]
fn the_shim_lowers_only_too_new_versions_and_closes_plain_requests() {
    let head = "POST /v1.53/containers/create?name=x HTTP/1.1\r\nHost: d\r\nConnection: keep-alive\r\n\r\n";
    let out = rewrite_head(head, (1, 41));
    assert!(out.starts_with("POST /v1.41/containers/create?name=x HTTP/1.1\r\n"));
    assert!(
        out.ends_with("Host: d\r\nConnection: close\r\n\r\n"),
        "{out}"
    );
    assert_eq!(lower_version("/v1.40/_ping", (1, 41)), "/v1.40/_ping");
    assert_eq!(lower_version("/_ping", (1, 41)), "/_ping");
    let upgrade =
        "POST /v1.53/exec/1/start HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n";
    assert!(rewrite_head(upgrade, (1, 41)).contains("Connection: Upgrade\r\n"));
}

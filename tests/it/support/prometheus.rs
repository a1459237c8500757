//! A real Prometheus for the monitoring scenario: the `prometheus` binary (Debian's package) on
//! loopback, on a random port, in a temp dir, scraping one target every second with the
//! project's alerting rules loaded; plus the few HTTP API calls the scenario makes.
//!
//! Without a runnable `prometheus` (or `$PROMETHEUS_BIN`), [`gate`] prints `SKIPPED: ...` and
//! the scenario returns; with `ESIM_MONITORING_TESTS=required` (CI) that is a failure instead.
//! The process is SIGKILLed and reaped on drop.

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::support::free_port;

/// How long Prometheus may take to load its rules and answer `/-/ready` on a busy CI box.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Fresh-port attempts: another process may take the picked port before Prometheus binds it.
const PORT_ATTEMPTS: usize = 5;
const INSTALL_HINT: &str = "Debian: apt-get install prometheus, or set PROMETHEUS_BIN";

/// The Prometheus binary to run, or `None` (after printing `SKIPPED:`) when there is none and
/// `ESIM_MONITORING_TESTS` is not `required`.
pub fn gate(test: &str) -> Option<PathBuf> {
    let bin = std::env::var_os("PROMETHEUS_BIN").map_or_else(|| "prometheus".into(), PathBuf::from);
    let runs = Command::new(&bin)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if runs {
        return Some(bin);
    }
    let why = format!(
        "`{} --version` does not run ({INSTALL_HINT})",
        bin.display()
    );
    if std::env::var("ESIM_MONITORING_TESTS").as_deref() == Ok("required") {
        panic!("{test}: ESIM_MONITORING_TESTS=required but {why}");
    }
    eprintln!("SKIPPED: {test}: {why}");
    None
}

/// One running Prometheus.
pub struct Prometheus {
    child: Child,
    dir: TempDir,
    url: String,
    http: reqwest::Client,
}

impl Prometheus {
    /// Starts Prometheus scraping `target` (`/metrics`, job `esim-bridge`, plus the label
    /// `namespace="it"` a Kubernetes scrape would add) with `rules` loaded; waits until ready.
    pub async fn start(bin: &Path, target: SocketAddr, rules: &Path) -> Prometheus {
        for attempt in 1..=PORT_ATTEMPTS {
            let dir = TempDir::with_prefix("prometheus-").expect("temp dir");
            let config = dir.path().join("prometheus.yml");
            std::fs::write(&config, config_text(target, rules)).expect("write config");
            let log = File::create(dir.path().join("prometheus.log")).expect("log file");
            let port = free_port();
            let child = Command::new(bin)
                .arg(format!("--config.file={}", config.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.path().join("data").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .stdout(log.try_clone().expect("log file"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
            let http = reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client");
            let url = format!("http://127.0.0.1:{port}");
            let mut prom = Prometheus {
                child,
                dir,
                url,
                http,
            };
            match prom.ready().await {
                Ok(()) => return prom,
                Err(_) if attempt < PORT_ATTEMPTS && prom.exited() => {}
                Err(e) => panic!("prometheus: {e}\nlog:\n{}", prom.log()),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    async fn ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if self.exited() {
                return Err("exited during startup".into());
            }
            let ready = self.http.get(format!("{}/-/ready", self.url)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("not ready after {READY_TIMEOUT:?}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// What Prometheus logged (config or rule errors show here).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// An instant query: the result vector, or Prometheus's error (a parse error, for example).
    pub async fn query(&self, promql: &str) -> Result<Vec<Value>, String> {
        let url = format!("{}/api/v1/query", self.url);
        let body = self.get_json(&url, &[("query", promql)]).await?;
        Ok(body["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }

    /// `GET /api/v1/<what>` (`rules`, `alerts`, ...): the `data` object.
    pub async fn api(&self, what: &str) -> Value {
        let url = format!("{}/api/v1/{what}", self.url);
        let mut body = self.get_json(&url, &[]).await;
        let body = body
            .as_mut()
            .unwrap_or_else(|e| panic!("GET /api/v1/{what}: {e}"));
        body["data"].take()
    }

    async fn get_json(&self, url: &str, query: &[(&str, &str)]) -> Result<Value, String> {
        let sent = self.http.get(url).query(query).send().await;
        let body: Value = sent
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        if body["status"] != "success" {
            return Err(format!("{}: {}", body["errorType"], body["error"]));
        }
        Ok(body)
    }

    /// Waits until `promql` returns at least one series; panics after [`READY_TIMEOUT`].
    pub async fn wait_for(&self, promql: &str) {
        let deadline = Instant::now() + READY_TIMEOUT;
        while self.query(promql).await.map_or(true, |r| r.is_empty()) {
            assert!(
                Instant::now() < deadline,
                "never true in Prometheus: {promql}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config_text(target: SocketAddr, rules: &Path) -> String {
    // JSON strings are valid YAML double-quoted scalars, whatever the temp path holds.
    let quote = |s: String| serde_json::to_string(&s).expect("string");
    let rules = quote(rules.display().to_string());
    let target = quote(target.to_string());
    format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
         rule_files:\n  - {rules}\n\
         scrape_configs:\n  - job_name: esim-bridge\n    static_configs:\n\
         \x20     - targets: [{target}]\n        labels:\n          namespace: it\n"
    )
}

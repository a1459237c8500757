//! One spawned `nats-server` process with any arguments (standard flags, or `-c <conf>` for the
//! shipped configs), its output in a log file, inherited, or dropped; SIGKILLed and reaped on
//! drop, so an early return or a panic never leaves a server running.

use std::ffi::OsStr;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Where the server's stdout and stderr go.
#[derive(Debug, Clone)]
pub enum Output {
    /// Appended to this file (across restarts).
    File(PathBuf),
    /// The caller's own stdout/stderr (tests with `TEST_LOG` set).
    Inherit,
    /// Nowhere.
    Null,
}

/// A running (or exited, not yet reaped) `nats-server`.
#[derive(Debug)]
pub struct NatsProcess {
    child: Child,
}

impl NatsProcess {
    /// Starts `bin` with `args` and extra `env`. With `own_group`, the server gets its own
    /// process group, so a Ctrl-C in the terminal reaches only its parent (which then stops
    /// things in order).
    pub fn spawn<A: AsRef<OsStr>>(
        bin: &Path,
        args: &[A],
        env: &[(String, String)],
        output: &Output,
        own_group: bool,
    ) -> std::io::Result<NatsProcess> {
        let (stdout, stderr) = match output {
            Output::File(path) => {
                let file = OpenOptions::new().create(true).append(true).open(path)?;
                (Stdio::from(file.try_clone()?), Stdio::from(file))
            }
            Output::Inherit => (Stdio::inherit(), Stdio::inherit()),
            Output::Null => (Stdio::null(), Stdio::null()),
        };
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        #[cfg(unix)]
        if own_group {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        #[cfg(not(unix))]
        let _ = own_group;
        Ok(NatsProcess {
            child: cmd.spawn()?,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process still runs (not exited on its own).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL (a crash, not a clean shutdown) and reap.
    pub fn kill(&mut self) {
        if let Err(e) = self.child.kill() {
            if self.is_running() {
                tracing::warn!(pid = self.pid(), error = %e, "cannot kill nats-server");
            }
        }
        let _ = self.child.wait();
    }
}

impl Drop for NatsProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

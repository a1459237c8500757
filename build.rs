//! Stamps the binary with the commit it was built from and the build date, for
//! `esim-bridge --version` and the start line: `ESIM_BUILD_COMMIT` (short hash; `unknown` outside a
//! git checkout) and `ESIM_BUILD_DATE` (UTC,
//! `SOURCE_DATE_EPOCH` when set, for reproducible builds). Reruns only when HEAD moves, so an
//! edit-compile loop does not rebuild the crate for a new date.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    out.status.success().then(|| text.trim().to_owned())
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let date = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .and_then(|secs| time::OffsetDateTime::from_unix_timestamp(secs).ok())
        .unwrap_or_else(time::OffsetDateTime::now_utc)
        .date();
    println!("cargo:rustc-env=ESIM_BUILD_COMMIT={commit}");
    println!("cargo:rustc-env=ESIM_BUILD_DATE={date}");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    // HEAD moves on checkout; the branch ref (loose, or packed) on commit.
    for path in ["HEAD", "refs/heads", "packed-refs"] {
        // A path that does not exist would make cargo rerun this script on every build.
        let existing =
            git(&["rev-parse", "--git-path", path]).filter(|p| std::path::Path::new(p).exists());
        if let Some(p) = existing {
            println!("cargo:rerun-if-changed={p}");
        }
    }
}

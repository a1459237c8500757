//! Tests that run a Python program (a consumer example, the schema checker) need its modules:
//! without them such a test is skipped with a message naming the requirements file, unless
//! `ESIM_PYTHON_TESTS=required` (as CI sets it), which turns the skip into a failure.

use std::process::Stdio;

/// True if `python3` can import every module of `imports` (a Python `import` line's list);
/// otherwise says why, and panics when Python tests are required.
pub fn modules_ready(imports: &str, requirements: &str, test: &str) -> bool {
    let probe = std::process::Command::new("python3")
        .args(["-c", &format!("import {imports}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if probe.is_ok_and(|s| s.success()) {
        return true;
    }
    let why = format!("python3 cannot import {imports} (python3 -m pip install -r {requirements})");
    if std::env::var("ESIM_PYTHON_TESTS").as_deref() == Ok("required") {
        panic!("ESIM_PYTHON_TESTS=required, but {why}");
    }
    eprintln!("SKIPPED {test}: {why}");
    false
}

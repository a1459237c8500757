//! Replays every committed fuzz corpus file (`fuzz/corpus/<target>/*`) through the same target
//! body the libFuzzer target runs (`esim_testkit::fuzzing`), on stable: seeds and minimised
//! crashes stay regression tests without a nightly toolchain.
//!
//! `fuzz/pending/<target>/*` holds reproducers of crashes in code still being fixed; they are
//! replayed only by the ignored test (`cargo test --test fuzz_corpus -- --ignored`), which
//! lists those that still fail.

use std::panic;
use std::path::{Path, PathBuf};

use esim_testkit::fuzzing::{self, TARGETS};

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

/// Runs every file under `root/<target>/`; returns the failures as "target/file: message".
fn replay(root: &str) -> (usize, Vec<String>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(root);
    let mut ran = 0;
    let mut failed = Vec::new();
    for target in TARGETS {
        for file in files(&root.join(target)) {
            let data = std::fs::read(&file).expect("read corpus file");
            ran += 1;
            let outcome = panic::catch_unwind(|| fuzzing::run(target, &data));
            if let Err(e) = outcome {
                let msg = e
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| e.downcast_ref::<&str>().copied())
                    .unwrap_or("panic");
                let name = file.file_name().unwrap_or_default().to_string_lossy();
                failed.push(format!("{target}/{name}: {msg}"));
            }
        }
    }
    (ran, failed)
}

#[test]
fn every_corpus_file_passes_its_target() {
    let (ran, failed) = replay("fuzz/corpus");
    for target in TARGETS {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus")
            .join(target);
        assert!(!files(&dir).is_empty(), "no corpus for {target}");
    }
    assert!(
        failed.is_empty(),
        "{} of {ran} failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

#[test]
#[ignore = "reproducers of open findings in other areas; run to see which still fail"]
fn pending_reproducers() {
    let (ran, failed) = replay("fuzz/pending");
    assert!(
        failed.is_empty(),
        "{} of {ran} still fail:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

#!/usr/bin/env bash
# RUSTC_WRAPPER for fuzz/run.sh: compiles the fuzz harness crate (esim-testkit: the input
# generators and the independent oracle) without SanitizerCoverage, every other crate as
# cargo-fuzz does. The harness's own compares and branches are the test's, not the code
# under test's: instrumented, libFuzzer's compare tracing spent about a third of the
# redaction_encodings target's time inside the oracle. `--cfg fuzzing` is kept.
#   usage (by cargo): harness-rustc.sh RUSTC ARGS...
rustc=$1
shift
harness=""
for arg in "$@"; do
  [ "$arg" = "esim_testkit" ] && harness=1
done
if [ -z "$harness" ]; then exec "$rustc" "$@"; fi
args=()
for arg in "$@"; do
  case $arg in
    -Cpasses=sancov-module | -Cllvm-args=-sanitizer-coverage-*) ;;
    *) args+=("$arg") ;;
  esac
done
exec "$rustc" "${args[@]}"

#!/usr/bin/env bash
# Runs every cargo-fuzz target for a while, one after another, and prints executions per target.
#
#   fuzz/run.sh [seconds-per-target] [target...]
#   fuzz/run.sh --build-only           (build the targets, run none: CI builds them while the
#                                       tests run, then runs them)
#
# Long runs: `fuzz/run.sh 600` (10 min per target). CI smoke: `FUZZ_SANITIZER=none
# fuzz/run.sh 10`. Needs a nightly toolchain and nothing else: the targets are built with the
# flags cargo-fuzz uses (SanitizerCoverage, `--cfg fuzzing`, optionally AddressSanitizer) by
# plain `cargo +nightly build`, so cargo-fuzz need not be installed (`cargo fuzz run <target>`
# works too: fuzz/ is a cargo-fuzz project). Without nightly it prints why and exits 0: the
# committed corpus is replayed on stable by `cargo test --test fuzz_corpus` either way.
#
# Each target runs under libFuzzer's memory limits (-rss_limit_mb, -malloc_limit_mb) and a
# per-input timeout, seeded from fuzz/corpus/<target> (new inputs go to fuzz/corpus-work, not
# into the committed corpus). A crash stops that target, leaves its reproducer in
# fuzz/artifacts/<target>/, and makes the script exit 1 after the remaining targets ran.
# Environment: FUZZ_JOBS (parallel jobs per target, default 1), FUZZ_NICE (default 10),
# FUZZ_RUNS (stop a target after this many executions, default no limit: a long run can ask
# for its depth and let fast targets end early), FUZZ_RSS_MB (default 2048),
# FUZZ_MALLOC_MB (default 256), FUZZ_SANITIZER (default address;
# `none` runs ~5-10x more executions per second for long runs, at the price of libFuzzer's
# per-allocation limit, which needs the sanitizer's malloc hooks: -rss_limit_mb still applies).
set -u
cd "$(dirname "$0")/.."

build_only=""
if [ "${1:-}" = "--build-only" ]; then
  build_only=1
  shift
fi
seconds=${1:-20}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(webhook_http config_load replay_guard redaction_encodings upstream_responses)
fi

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  echo "fuzz/run.sh: no nightly toolchain; skipping (the corpus replay runs on stable)"
  exit 0
fi

nice_level=${FUZZ_NICE:-10}
jobs=${FUZZ_JOBS:-1}
rss=${FUZZ_RSS_MB:-2048}
malloc=${FUZZ_MALLOC_MB:-256}
sanitizer=${FUZZ_SANITIZER:-address}
runs=${FUZZ_RUNS:--1}
logs=fuzz/logs
mkdir -p "$logs"

# What `cargo fuzz build -s <sanitizer>` passes to rustc (cargo-fuzz 0.13), without its install.
triple=$(rustc +nightly -vV | sed -n 's/^host: //p')
rustflags="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4"
rustflags+=" -Cllvm-args=-sanitizer-coverage-inline-8bit-counters"
rustflags+=" -Cllvm-args=-sanitizer-coverage-pc-table"
rustflags+=" -Cllvm-args=-sanitizer-coverage-trace-compares"
rustflags+=" -Cllvm-args=-sanitizer-coverage-stack-depth"
case $sanitizer in
  none) ;;
  address | memory | thread | leak) rustflags+=" -Zsanitizer=$sanitizer" ;;
  *) echo "fuzz/run.sh: unknown FUZZ_SANITIZER=$sanitizer"; exit 64 ;;
esac
# One target dir per sanitizer, so switching between them rebuilds nothing that was built.
target_dir="fuzz/target/$sanitizer"
started=$SECONDS
# The harness crate is built without coverage instrumentation (fuzz/harness-rustc.sh says why).
if ! RUSTC_WRAPPER="$PWD/fuzz/harness-rustc.sh" RUSTFLAGS="$rustflags" \
  nice -n "$nice_level" cargo +nightly build --release --locked \
  --manifest-path fuzz/Cargo.toml --target "$triple" --target-dir "$target_dir" --bins \
  >"$logs/build.log" 2>&1; then
  tail -n 30 "$logs/build.log"
  echo "fuzz/run.sh: build failed"
  exit 1
fi
echo "fuzz targets built (sanitizer: $sanitizer) in $((SECONDS - started))s"
[ -n "$build_only" ] && exit 0
bin_dir="$target_dir/$triple/release"

status=0
total=0
printf '%-22s %12s %10s %s\n' target executions exec/s result
for t in "${targets[@]}"; do
  work="fuzz/corpus-work/$t"
  mkdir -p "$work" "fuzz/artifacts/$t"
  log="$logs/$t.log"
  # Any -jobs makes libFuzzer run jobs in subprocesses logging to ./fuzz-<n>.log: only for >1.
  parallel=()
  if [ "$jobs" -gt 1 ]; then parallel=(-jobs="$jobs" -workers="$jobs"); fi
  nice -n "$nice_level" "$bin_dir/$t" "$work" "fuzz/corpus/$t" \
    -max_total_time="$seconds" -runs="$runs" -rss_limit_mb="$rss" -malloc_limit_mb="$malloc" \
    -timeout=10 -max_len=65536 -print_final_stats=1 "${parallel[@]}" \
    -artifact_prefix="fuzz/artifacts/$t/" >"$log" 2>&1
  rc=$?
  if [ "$jobs" -gt 1 ]; then cat fuzz-*.log >>"$log" 2>/dev/null; rm -f fuzz-*.log; fi
  execs=$(grep -h 'stat::number_of_executed_units' "$log" | awk '{s+=$2} END {print s+0}')
  took=$(grep -h 'stat::average_exec_per_sec' "$log" | awk '{s+=$2} END {print s+0}')
  rate=${took:-0}
  total=$(( total + execs ))
  if [ $rc -eq 0 ]; then result=ok; else result="FAILED (exit $rc, see $log)"; status=1; fi
  printf '%-22s %12d %10d %s\n' "$t" "$execs" "$rate" "$result"
done
printf '%-22s %12d\n' total "$total"
exit $status

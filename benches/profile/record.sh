#!/usr/bin/env bash
# Regenerates benches/profile/webhook.svg: a CPU flame graph of the bridge process while
# `cargo bench --bench webhook` sends it unique signed webhooks with wrk.
#
# Needs: linux perf (`perf record -e cpu-clock` must work: a software clock, so it also works in
# VMs without hardware counters), inferno (`cargo install inferno`), wrk, nats-server.
# Usage: [PROFILE_NAME=webhook] benches/profile/record.sh [N webhooks, default 100000]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=benches/profile
data=$(mktemp -d)/perf.data
export BENCH_N=${1:-100000}
BENCH_RATE_SECS=1 BENCH_FLOOR_SECS=1 BENCH_PERF_DATA="$data" \
  cargo bench --bench webhook
# --no-inline: inlined frames are not expanded (addr2line over the whole binary is too slow); the
# function they were inlined into carries their samples.
perf script -i "$data" --no-inline 2>/dev/null \
  | inferno-collapse-perf --all > "$data.folded"
inferno-flamegraph --title "esim-bridge: CPU per webhook (perf cpu-clock, wrk load, ${BENCH_N:-100000} webhooks)" \
  --width 1600 < "$data.folded" > "$out/${PROFILE_NAME:-webhook}.svg"
echo "wrote $out/${PROFILE_NAME:-webhook}.svg"

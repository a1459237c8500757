#!/usr/bin/env sh
# Fails if a crate (esim-events by default) depends, directly or not, on a crate that does I/O:
# an async runtime, a socket or HTTP stack, a NATS client or a TLS stack. esim-events is what
# consumers depend on to read events; it must stay pure so it can be used from any runtime.
#
#   crates/esim-events/ci/no-io-deps.sh [PACKAGE]
#
# Only normal dependencies count (dev-dependencies are not built into a consumer), for every
# target platform. `crates/esim-events/ci/no-io-deps.sh esim-sim` shows a failure.
set -eu
package="${1:-esim-events}"
deny='^(tokio|tokio-[a-z0-9-]+|async-nats|nats|reqwest|hyper|hyper-[a-z0-9-]+|h2|h3|http-body|axum|axum-[a-z0-9-]+|tower|tower-[a-z0-9-]+|mio|socket2|async-std|async-io|smol|polling|futures-io|rustls|tokio-rustls|native-tls|openssl|openssl-sys|ureq|curl|isahc|surf)$'
tree=$(cargo tree --locked -p "$package" -e normal --target all --prefix none --format '{p}')
found=$(printf '%s\n' "$tree" | awk '{print $1}' | grep -E "$deny" | sort -u || true)
if [ -n "$found" ]; then
  echo "$package depends on crates that do I/O:" >&2
  printf '  %s\n' $found >&2
  echo "see: cargo tree -p $package -e normal --target all -i <crate>" >&2
  exit 1
fi
echo "$package: no I/O dependency ($(printf '%s\n' "$tree" | sort -u | wc -l) crates checked)"

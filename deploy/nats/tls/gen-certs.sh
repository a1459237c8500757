#!/usr/bin/env bash
# A throw-away certificate authority and certificates for trying NATS over TLS locally (tests,
# a dev box). NOT for production: there, use your PKI (cert-manager, Vault, ...).
#
#   deploy/nats/tls/gen-certs.sh [OUT_DIR] [EXTRA_DNS_NAME ...]
#
# Writes into OUT_DIR (default: deploy/nats/tls/certs, git-ignored):
#   ca.pem, ca-key.pem          the self-signed CA (clients trust ca.pem)
#   server.pem, server-key.pem  nats-server's certificate, for localhost, 127.0.0.1, nats, n1..n3,
#                               nats-0.nats..nats-2.nats and every EXTRA_DNS_NAME
#   client.pem, client-key.pem  a client certificate signed by the same CA (for mutual TLS)
# Needs only `openssl` (1.1.1 or 3.x). Keys are ECDSA P-256, valid 30 days.
set -euo pipefail

out=${1:-"$(dirname "${BASH_SOURCE[0]}")/certs"}
shift || true
mkdir -p "$out"
cd "$out"
umask 077

names="DNS:localhost,IP:127.0.0.1,DNS:nats,DNS:n1,DNS:n2,DNS:n3"
names="$names,DNS:nats-0.nats,DNS:nats-1.nats,DNS:nats-2.nats"
for extra in "$@"; do names="$names,DNS:$extra"; done

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# sign NAME CN EXTENSIONS: a CSR for NAME-key.pem, signed by the CA into NAME.pem.
sign() {
  local name=$1 cn=$2 ext=$3
  key "$name-key.pem"
  openssl req -new -key "$name-key.pem" -subj "/CN=$cn" -out "$name.csr"
  printf '%s\n' "$ext" >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
    -days 30 -sha256 -extfile "$name.ext" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

key ca-key.pem
openssl req -x509 -new -key ca-key.pem -sha256 -days 30 -subj "/CN=esim-bridge test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out ca.pem
sign server nats "subjectAltName=$names
extendedKeyUsage=serverAuth,clientAuth
keyUsage=critical,digitalSignature"
sign client esim-bridge "extendedKeyUsage=clientAuth
keyUsage=critical,digitalSignature"
rm -f ca.srl
# nats-server runs as uid 65532 in the image: let it read what it needs when mounted.
chmod 0644 ca.pem server.pem client.pem
chmod 0640 server-key.pem client-key.pem ca-key.pem
echo "certificates in $(pwd): ca.pem server.pem server-key.pem client.pem client-key.pem"

#!/bin/sh
# The main job end to end on the default setup: root CA, gateway certificate, one tenant, then proof.
set -eu
cd "$(dirname "$0")/.."
pkictl() { node bin/pkictl.js "$@"; }
tenant=bf935f05-bf2e-4138-bfec-f4baaf99fecc
if [ -e certs/ca.crt ]; then
  echo "certs/ already holds a CA; using it (delete certs/ to start over)" >&2
else
  pkictl init
fi
[ -e certs/server.crt ] || pkictl issue server
[ -e "certs/clients/$tenant/client.crt" ] || pkictl issue client "$tenant"
echo "--- pkictl's view" >&2
pkictl verify --all
pkictl list
echo "--- openssl's view" >&2
openssl verify -x509_strict -CAfile certs/ca.crt -purpose sslserver certs/server.crt
openssl verify -x509_strict -CAfile certs/ca.crt -purpose sslclient "certs/clients/$tenant/client.crt"
openssl x509 -in "certs/clients/$tenant/client.crt" -noout -subject

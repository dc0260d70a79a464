#!/bin/sh
# Signs a certificate with the test cluster's CA.
#
#   make-cert.sh CLUSTER_DIR OUT_PREFIX [CN] [client|server]
#
# client (the default): a client certificate for a user with few or no RBAC
#   rights. The API server takes the CN as the user name (and each O as a
#   group); no RoleBinding names rb-test-nobody (the default CN), so every
#   request it makes is 403 Forbidden.
# server: a serving certificate for 127.0.0.1/localhost, for the fault proxy
#   (fault-proxy.py) that sits in front of the API server in tests.
#
# CLUSTER_DIR is what test/cluster/up.sh was given (it holds pki/ca.crt and
# pki/ca.key). Writes OUT_PREFIX.crt and OUT_PREFIX.key (PEM). Needs openssl.
set -eu
usage="usage: $0 CLUSTER_DIR OUT_PREFIX [CN] [client|server]"
dir=${1:?$usage}
out=${2:?$usage}
cn=${3:-rb-test-nobody}
kind=${4:-client}
pki=$dir/pki
[ -f "$pki/ca.crt" ] && [ -f "$pki/ca.key" ] || { echo "$0: no CA in $pki" >&2; exit 1; }
ext=$(mktemp)
trap 'rm -f "$ext" "$out.csr"' EXIT
case $kind in
client) printf 'extendedKeyUsage=clientAuth\n' >"$ext" ;;
server) printf 'extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$ext" ;;
*) echo "$usage" >&2; exit 2 ;;
esac
openssl req -newkey rsa:2048 -nodes -subj "/CN=$cn" -keyout "$out.key" -out "$out.csr" 2>/dev/null
# A random serial: no ca.srl is written next to the cluster's CA.
openssl x509 -req -in "$out.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
	-set_serial "0x$(openssl rand -hex 8)" -days 1 -extfile "$ext" -out "$out.crt" 2>/dev/null

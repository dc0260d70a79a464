# The fault proxy (test/proxy) for a serial test that runs an operator of
# its own through it: sourced after test/lib.sh. Not a test itself (CMake
# registers test/e2e/*.sh only).
#   proxy_start NAME   builds and starts it (log: logs/NAME-proxy.log) and
#                      sets proxy_pid, proxy_url and pkc (the kubeconfig
#                      that goes through it); checks that it answers
#   fault [JSON]       GET /__fault, or POST the faults (test/proxy/README.md)
# The caller kills $proxy_pid in its cleanup (it also exits with the test).
: "${RUNBOOK_CLUSTER_DIR:?}"
proxy_pid=
proxy_url=
pkc=
fault() { curl -sf --max-time 5 --cacert "$RUNBOOK_CLUSTER_DIR/pki/ca.crt" "$proxy_url/__fault" ${1:+-X POST -d "$1"}; }
proxy_start() {
	local bin
	bin=$("$RB_SRC/test/proxy/build.sh") || { fail "cannot build test/proxy"; finish; exit 1; }
	"$bin" -cluster-dir "$RUNBOOK_CLUSTER_DIR" -port-file "$RB_TMP/proxy.port" -exit-with-parent \
		>"$RUNBOOK_CLUSTER_DIR/logs/$1-proxy.log" 2>&1 &
	proxy_pid=$!
	for _ in $(seq 1 100); do [ -s "$RB_TMP/proxy.port" ] && break; sleep 0.1; done
	proxy_url=https://127.0.0.1:$(cat "$RB_TMP/proxy.port" 2>/dev/null)
	pkc=$RB_TMP/proxy.kubeconfig
	sed "s#server: https://127.0.0.1:[0-9]*#server: $proxy_url#" "$KUBECONFIG" >"$pkc"
	check "the fault proxy answers" 'fault >/dev/null'
}

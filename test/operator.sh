#!/usr/bin/env bash
# Runs the operator under test against a test cluster, as the e2e tests'
# CTest fixture does: installs the CRDs, starts build/.../runbook-operator in
# the background with its log in CLUSTER_DIR/logs/operator.log.
# Usage: test/operator.sh start|stop|kill|restart CLUSTER_DIR BINARY_DIR [ARGS...]
#   stop: SIGTERM, waits for exit, fails if the exit was not clean or the
#   sanitizers reported anything in the log.
set -euo pipefail
verb=${1:?usage}
dir=${2:?usage}
bindir=${3:?usage}
shift 3
root=$(cd "$(dirname "$0")/.." && pwd)
export KUBECONFIG=$dir/kubeconfig
pidf=$dir/pids/operator.pid
exitf=$dir/pids/operator.exit # its exit status, written by the wrapper below
log=$dir/logs/operator.log

# The operator authenticates as the manifests' ServiceAccount, bound by the
# manifests' ClusterRole, so every e2e test also proves the RBAC is enough
# (RUNBOOK_TEST_AS_ADMIN=1 runs it as admin instead).
sa_kubeconfig() {
	kubectl kustomize "$root/manifests" | python3 -c '
import re, sys
docs = sys.stdin.read().split("\n---\n")
skip = re.compile(r"^kind: (Deployment|Service|PodDisruptionBudget|CustomResourceDefinition)$", re.M)
print("\n---\n".join(d for d in docs if not skip.search(d)))' |
		# Renamed, so the manifests test (which creates and deletes the real
		# names) and this fixture never touch each other's bindings.
		sed 's/runbook-operator/runbook-operator-e2e/g; s/runbook-system/runbook-e2e/g' |
		kubectl apply -f - >/dev/null
	local token server ca
	token=$(kubectl create token runbook-operator-e2e -n runbook-e2e --duration=24h)
	server=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')
	ca=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.certificate-authority}')
	cat >"$dir/operator.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "$server", certificate-authority: "$ca"}}]
users: [{name: runbook-operator-e2e, user: {token: "$token"}}]
contexts: [{name: c, context: {cluster: c, user: runbook-operator-e2e, namespace: runbook-e2e}}]
current-context: c
KC
	echo "$dir/operator.kubeconfig"
}

alive() { [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; }

start() {
	kubectl apply --server-side --force-conflicts -f "$root/crds/" >/dev/null
	# kubectl wait errors out (not waits) while a new CRD has no conditions yet.
	for _ in $(seq 1 300); do
		kubectl wait --for=condition=Established crd/workflows.runbook.dev \
			crd/workflowruns.runbook.dev crd/triggers.runbook.dev --timeout=5s >/dev/null 2>&1 && break
		sleep 0.2
	done
	alive && return 0
	# Loopback ports of our own, recorded for the tests that scrape them.
	read -r hp mp wp up < <(python3 -c 'import socket
s=[socket.socket() for _ in range(4)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
	printf 'OPERATOR_HEALTH=http://127.0.0.1:%s\nOPERATOR_METRICS=http://127.0.0.1:%s\nOPERATOR_WEBHOOK=http://127.0.0.1:%s\nOPERATOR_UI=http://127.0.0.1:%s\n' \
		"$hp" "$mp" "$wp" "$up" >"$dir/operator.env"
	local kc=$KUBECONFIG
	[ "${RUNBOOK_TEST_AS_ADMIN:-0}" = 1 ] || kc=$(sa_kubeconfig)
	echo "--- start $(date -u +%FT%TZ) as $(basename "$kc") $*" >>"$log"
	rm -f "$pidf" "$exitf"
	# A wrapper shell waits for the operator and records how it exited, so
	# that stop can fail on an unclean exit (this script is not its parent).
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} setsid bash -c \
		'"$@" & echo $! >"$0.pid"; wait $!; echo $? >"$0.exit"' "${pidf%.pid}" \
		"$bindir/runbook-operator" \
		--kubeconfig "$kc" --log-level "${RUNBOOK_TEST_LOG_LEVEL:-info}" \
		--health-addr "127.0.0.1:$hp" --metrics-addr "127.0.0.1:$mp" --webhook-addr "127.0.0.1:$wp" --ui-addr "127.0.0.1:$up" "$@" \
		>>"$log" 2>&1 </dev/null &
	for _ in $(seq 1 50); do [ -s "$pidf" ] && break; sleep 0.1; done
	sleep 0.5
	alive || { echo "operator exited at once:"; tail -20 "$log"; exit 1; }
}

stop() { # SIGNAL
	local pid rc=0
	if ! alive; then
		# Gone already: a crash mid-suite is a failure too, not a clean stop.
		if [ "$1" = TERM ] && [ -s "$exitf" ] && [ "$(cat "$exitf")" != 0 ]; then
			echo "operator had already exited, with status $(cat "$exitf")"
			return 1
		fi
		return 0
	fi
	pid=$(cat "$pidf")
	kill "-$1" "$pid"
	for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		echo "operator did not exit within 15 s of SIG$1"
		kill -KILL "$pid"
		rc=1
	fi
	rm -f "$pidf"
	# After SIGTERM the operator must exit 0 (issue 5's graceful shutdown).
	if [ "$1" = TERM ] && [ $rc -eq 0 ]; then
		for _ in $(seq 1 50); do [ -s "$exitf" ] && break; sleep 0.1; done
		local code
		code=$(cat "$exitf" 2>/dev/null || echo "unknown")
		if [ "$code" != 0 ]; then
			echo "operator exited with status $code after SIGTERM (want 0)"
			rc=1
		fi
	fi
	return $rc
}

case $verb in
start) start "$@" ;;
kill) stop KILL ;;
restart) stop KILL; start "$@" ;;
stop)
	stop TERM
	if grep -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$log"; then
		echo "sanitizer reports in $log"
		exit 1
	fi
	;;
*) echo "unknown verb $verb" >&2; exit 2 ;;
esac

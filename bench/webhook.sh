#!/usr/bin/env bash
# The webhook benchmark (bench/README.md, "The webhook (bench/webhook.sh)"):
#   1. signature cost per KiB: build/release/bench/bench_trigger_sig
#      (in-process trig_hook_eval vs a bare HMAC-SHA256; no cluster);
# then its own local control plane in build/bench-webhook-cluster (1 kwok
# node), the CRDs, a Workflow (one trivial step), a Secret and a generic
# Trigger, and the release operator on the host with --webhook-addr and
# --webhook-rate 100000 (the per-Trigger rate limit never caps a figure):
#   2. p99 delivery -> 201 at 50 deliveries/s, open loop (webhook.py latency);
#   3. deliveries/s end to end vs direct WorkflowRun creates/s, same N and
#      concurrency (webhook.py throughput), with CPU time per run of each
#      process;
# 2 and 3 each run once with the operator's default client rate (--qps 50
# --burst 100: the webhook's own API client takes the same --qps/--burst as
# the controller's) and once with --qps 1000 --burst 2000; the operator is
# restarted, on a fresh cluster, before each measurement;
# and the cluster stopped (test/cluster/down.sh), pass or fail.
#
#   bench/webhook.sh [-n 2000] [-c 16] [--rate 50] [--seconds 30]
#
# Environment: BENCH_CLUSTER_DIR (default build/bench-webhook-cluster),
# BENCH_BUILD=DIR takes runbook-operator and bench/bench_trigger_sig from
# the release tree DIR and builds nothing,
# BENCH_QPS (the --qps values of part 3, default "50 1000"; 50 is the
# operator's default), BENCH_KEEP=1 leaves the cluster running.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dir=${BENCH_CLUSTER_DIR:-$root/build/bench-webhook-cluster}
n=2000 c=16 rate=50 seconds=30
while [ $# -gt 0 ]; do
	case $1 in
	-n) n=$2; shift 2 ;;
	-c) c=$2; shift 2 ;;
	--rate) rate=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	*) echo "usage: $0 [-n N] [-c C] [--rate R] [--seconds S]" >&2; exit 2 ;;
	esac
done
qps_list=${BENCH_QPS:-50 1000}
t0=$SECONDS

# --- build (another module may be mid-edit: retry twice, a minute apart) ------
build() {
	cmake --preset release >/dev/null &&
		cmake --build build/release -j2 --target runbook-operator bench_trigger_sig
}
mkdir -p build
bin=${BENCH_BUILD:-build/release}
. bench/lib.bash
[ -n "${BENCH_BUILD:-}" ] || bench_build webhook.sh "$root/build/bench-webhook-build.log" build

echo "webhook.sh: $(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
run() { # prints the command, then runs it
	echo
	echo "\$ $*"
	"$@"
}

# --- 1. signature cost, in-process -------------------------------------------------
run "$bin/bench/bench_trigger_sig"

# --- a cluster of our own ----------------------------------------------------------
test/cluster/down.sh "$dir" >/dev/null 2>&1 || true
op_pid=
stop_operator() {
	if [ -n "$op_pid" ]; then
		kill "$op_pid" 2>/dev/null || true
		wait "$op_pid" 2>/dev/null || true
		op_pid=
	fi
}
cleanup() {
	local rc=$?
	stop_operator
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "webhook.sh: cluster left running: export KUBECONFIG=$dir/kubeconfig"
	else
		test/cluster/down.sh "$dir" >/dev/null 2>&1 || true
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ns=bench-webhook
secret="bench-$RANDOM-$RANDOM"
# fresh_cluster: (re)starts the control plane in $dir, empty, with the CRDs,
# the Workflow, the Secret and the Trigger. Each measurement gets a fresh
# one, so the runs of an earlier measurement, still executing, weigh on
# none of the later ones.
fresh_cluster() {
	test/cluster/down.sh "$dir" >/dev/null 2>&1 || true
	RUNBOOK_REAL_NODE=0 test/cluster/up.sh "$dir" 1 >"$dir.up.log" 2>&1 || { cat "$dir.up.log" >&2; exit 1; }
	. "$dir/env" # API_SERVER
	kubectl apply --server-side -f crds/ >/dev/null
	local try
	for try in 1 2 3 4 5; do
		kubectl wait --for=condition=Established --timeout=60s \
			crd/workflows.runbook.dev crd/workflowruns.runbook.dev crd/triggers.runbook.dev >/dev/null 2>&1 && break
		[ $try = 5 ] && { echo "webhook.sh: the CRDs are not Established" >&2; exit 1; }
		sleep 1
	done
	kubectl create namespace "$ns" >/dev/null
	kubectl apply -f - >/dev/null <<YAML
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: bench, namespace: $ns}
spec:
  params:
  - name: sha
  - name: ref
  steps:
  - name: a
    image: busybox
    command: ["true"]
---
apiVersion: v1
kind: Secret
metadata: {name: hook, namespace: $ns}
stringData: {token: "$secret"}
---
apiVersion: runbook.dev/v1alpha1
kind: Trigger
metadata: {name: hook, namespace: $ns}
spec:
  workflowRef: {name: bench}
  webhook:
    secretRef: {name: hook, key: token}
    params:
    - {name: sha, pointer: /sha}
    - {name: ref, pointer: /ref}
YAML
}
export KUBECONFIG=$dir/kubeconfig
mkdir -p "$dir"
oplog=$dir.operator.log # outside $dir: up.sh empties its logs/
: >"$oplog"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# start_operator QPS: the release operator with its webhook, ready, and its
# Trigger answering (one warm-up delivery until 201: caches and the Secret).
start_operator() {
	local qps=$1 hp wp
	hp=$(free_port)
	wp=$(free_port)
	"$bin/runbook-operator" --kubeconfig "$KUBECONFIG" --qps "$qps" --burst $((2 * qps)) \
		--health-addr "127.0.0.1:$hp" --metrics-addr 0 \
		--webhook-addr "127.0.0.1:$wp" --ui-addr 0 --webhook-rate 100000 \
		>>"$oplog" 2>&1 </dev/null &
	op_pid=$!
	hook=http://127.0.0.1:$wp
	for _ in $(seq 1 300); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$hp/readyz")" = 200 ] && break
		sleep 0.1
	done
	local body='{"sha":"warmup","ref":"w"}' ts code=
	for _ in $(seq 1 100); do
		ts=$(date +%s)
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST "$hook/hooks/$ns/hook" \
			-H 'Content-Type: application/json' -H "X-Runbook-Timestamp: $ts" \
			-H "X-Runbook-Signature: sha256=$(printf '%s' "$ts.$body" | openssl dgst -sha256 -hmac "$secret" | sed 's/.* //')" \
			-H "Idempotency-Key: warmup-$qps-$RANDOM" --data-binary "$body") || true
		[ "$code" = 201 ] && return 0
		sleep 0.2
	done
	echo "webhook.sh: the operator's webhook never answered 201 (last: $code; log $oplog)" >&2
	exit 1
}
gen=(python3 bench/webhook.py)
common=(--ns "$ns" --trigger hook --secret "$secret")

pids() { # NAME=PID,... of the operator and the control plane, for CPU time per phase
	local p="operator=$op_pid"
	p="$p,apiserver=$(cat "$dir/pids/kube-apiserver.pid"),etcd=$(cat "$dir/pids/etcd.pid")"
	p="$p,kcm=$(cat "$dir/pids/kube-controller-manager.pid"),kwok=$(cat "$dir/pids/kwok.pid")"
	echo "$p"
}

# --- 2. latency at a fixed rate, open loop -------------------------------------------
for qps in $qps_list; do
	stop_operator
	fresh_cluster
	start_operator "$qps"
	echo
	echo "== delivery -> 201 at $rate/s, open loop (operator --qps $qps --burst $((2 * qps)); load average $(cut -d' ' -f1-3 /proc/loadavg))"
	run "${gen[@]}" latency --hook "$hook" "${common[@]}" --rate "$rate" --seconds "$seconds" --tag "l$qps"
done

# --- 3. deliveries/s vs direct creates/s -----------------------------------------
for qps in $qps_list; do
	stop_operator
	fresh_cluster
	start_operator "$qps"
	echo
	echo "== deliveries/s vs direct creates/s (operator --qps $qps --burst $((2 * qps)); load average $(cut -d' ' -f1-3 /proc/loadavg))"
	run "${gen[@]}" throughput --hook "$hook" --api "$API_SERVER" --pki "$dir/pki" "${common[@]}" \
		-n "$n" -c "$c" --tag "q$qps" --pids "$(pids)"
done
stop_operator
echo
echo "webhook.sh: done in $((SECONDS - t0)) s; operator warnings: $(grep -c 'level=warn' "$oplog" || true) (log: $oplog)"

#!/usr/bin/env bash
# Starts a real local control plane in DIR, on loopback only:
#   etcd, kube-apiserver (TLS, RBAC, service-account keys),
#   kube-controller-manager (Job controller, garbage collector, ...),
#   kube-scheduler, and kwok with simulated nodes (test/cluster/kwok-stages.yaml);
#   with RUNBOOK_REAL_NODE=1 also a real node (kubelet, containerd, runc:
#   test/cluster/node.sh), or with RUNBOOK_REAL_NODE=auto one when this
#   machine can run it (root, overlayfs, no other cluster holding it).
# Writes DIR/kubeconfig (admin) and DIR/env (ports, paths); ports are chosen
# free at start, so several clusters can run side by side.
# Usage: test/cluster/up.sh DIR [NODES]      Stop with test/cluster/down.sh DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
dir=${1:?usage: $0 DIR [NODES]}
nodes=${2:-${RUNBOOK_TEST_NODES:-3}}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [ -f "$dir/env" ] && comp_alive "$dir" kube-apiserver; then
	echo "cluster already running in $dir"
	exit 0
fi
t0=$SECONDS
real=0
case ${RUNBOOK_REAL_NODE:-0} in
1) "$here/node.sh" can || { echo "up.sh: RUNBOOK_REAL_NODE=1 but this machine cannot run a real node" >&2; exit 1; }; real=1 ;;
auto) if why=$("$here/node.sh" can 2>&1); then real=1; else echo "up.sh: no real node ($why): kwok nodes only"; fi ;;
0) ;;
*) echo "up.sh: RUNBOOK_REAL_NODE must be 0, 1 or auto" >&2; exit 2 ;;
esac
bin=$("$here/build.sh")
rm -rf "$dir/pki" "$dir/run" "$dir/pids" "$dir/logs" "$dir/etcd-data"
mkdir -p "$dir/pki" "$dir/run" "$dir/pids" "$dir/logs"

read -r ETCD_PORT ETCD_PEER_PORT API_PORT SCHED_PORT KCM_PORT KWOK_PORT <<<"$(free_ports 6)"

# --- certificates ------------------------------------------------------------
pki=$dir/pki
(
	cd "$pki"
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=runbook-test-ca" \
		-keyout ca.key -out ca.crt 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout apiserver.key \
		-out apiserver.csr 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' >apiserver.ext
	openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
		-extfile apiserver.ext -out apiserver.crt 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=admin" -keyout admin.key \
		-out admin.csr 2>/dev/null
	printf 'extendedKeyUsage=clientAuth\n' >client.ext
	openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
		-extfile client.ext -out admin.crt 2>/dev/null
	openssl genrsa -out sa.key 2048 2>/dev/null
	openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
	rm -f ./*.csr
)

cat >"$dir/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: runbook-test
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority: $pki/ca.crt
users:
- name: admin
  user:
    client-certificate: $pki/admin.crt
    client-key: $pki/admin.key
contexts:
- name: runbook-test
  context: {cluster: runbook-test, user: admin, namespace: default}
current-context: runbook-test
KC

cat >"$dir/env" <<ENV
# Written by test/cluster/up.sh; source it to reach this cluster.
RUNBOOK_CLUSTER_DIR=$dir
RUNBOOK_CLUSTER_BIN=$bin
KUBECONFIG=$dir/kubeconfig
API_PORT=$API_PORT
API_SERVER=https://127.0.0.1:$API_PORT
ETCD_PORT=$ETCD_PORT
ETCD_ENDPOINT=http://127.0.0.1:$ETCD_PORT
ENV

# Audit log (DIR/logs/audit.log, JSON lines): the request bodies of the
# writes to runs, Jobs and pods, so the e2e recorder can check how the
# operator deletes (propagationPolicy, preconditions). Nothing else, to keep
# it small; RequestReceived is omitted (ResponseComplete has the same body
# plus the outcome). Status writes of runs are in, of Jobs and pods are not
# (kwok and the Job controller write those all the time).
cat >"$dir/audit-policy.yaml" <<'POLICY'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Request
  verbs: [create, delete, deletecollection, patch, update]
  resources:
  - {group: "", resources: [pods]}
  - {group: batch, resources: [jobs]}
  - {group: runbook.dev, resources: [workflowruns, workflowruns/status]}
- level: None
POLICY

# --- component start scripts (re-runnable by ctl.sh) -------------------------
w() { w_script "$dir" "$@"; }
w etcd "$bin/etcd" --name=runbook-test --data-dir="$dir/etcd-data" \
	--listen-client-urls="http://127.0.0.1:$ETCD_PORT" \
	--advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
	--listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
	--initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
	--initial-cluster="runbook-test=http://127.0.0.1:$ETCD_PEER_PORT" \
	--unsafe-no-fsync --log-level=warn --quota-backend-bytes=4294967296
# With a real node its pods reach the API server through the kubernetes
# Service, so it listens on the node's address too (clients still need a
# certificate or token). The kubelet client flags let `kubectl logs` and
# `exec` reach the real node's kubelet.
# Its pods also get their ServiceAccount token as in any cluster (the
# ServiceAccount admission plugin, off for kwok-only clusters: simulated
# pods need no token, and pods would wait for their namespace's account).
bind=127.0.0.1 admission=--disable-admission-plugins=ServiceAccount
[ $real = 1 ] && bind=0.0.0.0 admission=--enable-admission-plugins=ServiceAccount
# Watch cache on, compaction every 5 minutes (tests compact by hand with
# etcdctl when they need a 410), priority and fairness off to spare CPU.
w kube-apiserver "$bin/kube-apiserver" \
	--etcd-servers="http://127.0.0.1:$ETCD_PORT" \
	--bind-address=$bind --secure-port="$API_PORT" \
	--kubelet-client-certificate="$pki/admin.crt" --kubelet-client-key="$pki/admin.key" \
	--kubelet-preferred-address-types=InternalIP,Hostname \
	--advertise-address=127.0.0.1 --endpoint-reconciler-type=none \
	--cert-dir="$pki" --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
	--client-ca-file="$pki/ca.crt" --authorization-mode=RBAC \
	--service-account-issuer=https://kubernetes.default.svc.cluster.local \
	--service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
	--service-cluster-ip-range=10.0.0.0/24 "$admission" \
	--allow-privileged=true --enable-priority-and-fairness=false \
	--max-requests-inflight=1000 --max-mutating-requests-inflight=500 \
	--etcd-compaction-interval=5m \
	--audit-policy-file="$dir/audit-policy.yaml" --audit-log-path="$dir/logs/audit.log" \
	--audit-log-format=json --audit-log-mode=blocking --audit-log-maxsize=200 --audit-log-maxbackup=2 \
	--v=1
w kube-controller-manager "$bin/kube-controller-manager" \
	--kubeconfig="$dir/kubeconfig" \
	--authentication-kubeconfig="$dir/kubeconfig" --authorization-kubeconfig="$dir/kubeconfig" \
	--leader-elect=false --controllers='*' \
	--service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
	--bind-address=127.0.0.1 --secure-port="$KCM_PORT" \
	--kube-api-qps=500 --kube-api-burst=1000 --concurrent-job-syncs=20 \
	--concurrent-gc-syncs=40 --v=1
w kube-scheduler "$bin/kube-scheduler" \
	--kubeconfig="$dir/kubeconfig" \
	--authentication-kubeconfig="$dir/kubeconfig" --authorization-kubeconfig="$dir/kubeconfig" \
	--leader-elect=false --bind-address=127.0.0.1 --secure-port="$SCHED_PORT" \
	--kube-api-qps=500 --kube-api-burst=1000 --v=1
w kwok "$bin/kwok" --kubeconfig="$dir/kubeconfig" --config="$here/kwok-stages.yaml" \
	--manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
	--manage-nodes-with-label-selector= --manage-single-node= \
	--cidr=10.0.0.0/16 --node-ip=10.0.0.1 --node-lease-duration-seconds=40 \
	--server-address=127.0.0.1:$KWOK_PORT

fail() {
	echo "up.sh: $1; last lines of $dir/logs/$2.log:" >&2
	tail -n 30 "$dir/logs/$2.log" >&2 || true
	"$here/down.sh" "$dir" >/dev/null 2>&1 || true
	exit 1
}

comp_start "$dir" etcd
wait_for 30 etcd curl -fsS "http://127.0.0.1:$ETCD_PORT/health" || fail "etcd did not start" etcd
comp_start "$dir" kube-apiserver
export API_PORT
wait_for 120 kube-apiserver api_ready "$dir" || fail "kube-apiserver not ready" kube-apiserver
comp_start "$dir" kube-controller-manager
comp_start "$dir" kube-scheduler
comp_start "$dir" kwok

export KUBECONFIG=$dir/kubeconfig
for i in $(seq 0 $((nodes - 1))); do
	cat <<NODE
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations: {node.alpha.kubernetes.io/ttl: "0", kwok.x-k8s.io/node: fake}
  labels: {kubernetes.io/hostname: kwok-node-$i, kubernetes.io/os: linux, kubernetes.io/arch: amd64, type: kwok}
status:
  allocatable: {cpu: "64", memory: 256Gi, pods: "1000"}
  capacity: {cpu: "64", memory: 256Gi, pods: "1000"}
---
NODE
done | kubectl apply -f - >/dev/null
nodes_ready() {
	[ "$(kubectl get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True)" -ge "$nodes" ] &&
		! kubectl get nodes -o jsonpath='{.items[*].spec.taints[*].key}' | grep -q not-ready
}
wait_for 120 "nodes Ready" nodes_ready || fail "nodes not Ready" kwok
# The default ServiceAccount is made by the controller manager; pods need it.
wait_for 60 "default ServiceAccount" kubectl get serviceaccount default -n default ||
	fail "no default ServiceAccount" kube-controller-manager

if [ $real = 1 ]; then
	"$here/node.sh" up "$dir" || { "$here/down.sh" "$dir" >/dev/null 2>&1 || true; exit 1; }
	echo "real node up: runbook-real-node (taint runbook.dev/real-node:NoSchedule)"
fi
echo "cluster up in $((SECONDS - t0))s: $dir"
echo "  export KUBECONFIG=$dir/kubeconfig"
echo "  stop with: $here/down.sh $dir"

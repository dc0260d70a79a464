#!/usr/bin/env bash
# Runs one browser test file of test/ui against the operator under test:
#   test/ui/run.sh test/ui/runs.test.mjs
# CTest (test/CMakeLists.txt, tests ui.*) calls it with KUBECONFIG,
# RUNBOOK_CLUSTER_DIR and RUNBOOK_OPERATOR_DIR set, as for test/e2e/*.sh.
#
# 1. playwright-core, pinned in package.json / package-lock.json, installed
#    once with `npm ci` into ~/.cache/runbook/ui-node/<hash of the lock>/
#    and found through NODE_PATH (nothing is written into the tree; npm ci
#    never downloads a browser: playwright-core has none).
# 2. The people: a fresh namespace NS with ServiceAccounts "writer" (may
#    get/list/watch/patch/create workflowruns, get/list/watch workflows,
#    list/watch triggers, list events, get pods/log) and "reader" (the same
#    without patch and create), a token each (kubectl create token), and a
#    second namespace NS_OTHER neither may list. Both are deleted at the end.
# 3. node --test FILE, with RB_UI_URL (OPERATOR_UI from the fixture's
#    operator.env, or RB_UI_URL as given), RB_WEBHOOK_URL (OPERATOR_WEBHOOK),
#    RB_REAL_NODE (REAL_NODE from $RUNBOOK_CLUSTER_DIR/env: "" without a
#    real node), RB_NS, RB_NS_OTHER, RB_TOKEN_WRITER, RB_TOKEN_READER and
#    RB_TMP (screenshots) in its environment. Screenshots (of every failing
#    test, and of the moments worth a look) go to RB_UI_SHOTS/<file>
#    (default: $RUNBOOK_CLUSTER_DIR/ui-shots/<file>, else
#    /tmp/runbook-ui-shots/<file>).
#
# A FILE named *.mock.test.mjs needs the browser only: it serves ui/ from
# the tree itself and plays the operator's side of the socket
# (test/ui/mock.mjs), so step 2 and the cluster are skipped (no KUBECONFIG).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
file=${1:?usage: test/ui/run.sh FILE.test.mjs}
[ -f "$file" ] || { echo "no test file $file" >&2; exit 2; }
file=$(cd "$(dirname "$file")" && pwd)/$(basename "$file")

# --- node_modules, once per package-lock.json ---------------------------------
command -v node >/dev/null && command -v npm >/dev/null || { echo "run.sh: node and npm are needed" >&2; exit 1; }
lock_hash=$(sha256sum "$here/package-lock.json" | cut -c1-16)
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/runbook/ui-node
cache=$cache_root/$lock_hash
mkdir -p "$cache_root"
if [ ! -f "$cache/.complete" ]; then
	# One installer at a time (CTest runs the ui.* tests in parallel).
	exec 9>"$cache_root/.lock"
	flock 9
	if [ ! -f "$cache/.complete" ]; then
		tmp=$(mktemp -d "$cache_root/.install.XXXXXX")
		cp "$here/package.json" "$here/package-lock.json" "$tmp/"
		echo "# installing playwright-core into $cache (npm ci)"
		(cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
		rm -rf "$cache"
		mv "$tmp" "$cache"
		touch "$cache/.complete"
	fi
	flock -u 9
fi
export NODE_PATH=$cache/node_modules

# A file of pure tests (no browser, no cluster) runs as it is.
case $file in *.unit.mjs) exec node --test "$file" ;; esac

# --- the browser -----------------------------------------------------------------
chromium=${RB_CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || { echo "run.sh: $chromium is missing (Debian's chromium package, .ci/deps.sh)" >&2; exit 1; }
export RB_CHROMIUM=$chromium
name=$(basename "$file" .test.mjs | tr '_.' '--' | cut -c1-30)
# Screenshots kept for a person: one folder per test file, emptied first so
# that none is left from an earlier run.
shots=${RB_UI_SHOTS:-${RUNBOOK_CLUSTER_DIR:+$RUNBOOK_CLUSTER_DIR/ui-shots}}
export RB_KEEP_DIR=${shots:-/tmp/runbook-ui-shots}/$name

# A file against the stand-in operator (test/ui/mock.mjs): no cluster.
case $file in *.mock.test.mjs)
	RB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/runbook-ui.XXXXXX")
	export RB_TMP
	trap 'rm -rf "$RB_TMP"' EXIT
	rm -rf "$RB_KEEP_DIR"
	mkdir -p "$RB_KEEP_DIR"
	echo "# $(basename "$file"): ui/ from the tree, the operator played by test/ui/mock.mjs"
	set +e
	node --test --test-reporter=spec --test-concurrency=1 "$file"
	exit $?
	;;
esac

# --- the operator, the cluster -----------------------------------------------------
: "${KUBECONFIG:?KUBECONFIG must point at the test cluster}"
export KUBECONFIG
for envf in "${RUNBOOK_CLUSTER_DIR:-}/operator.env" "${RUNBOOK_OPERATOR_DIR:-}/operator.env"; do
	[ -f "$envf" ] || continue
	[ -n "${RB_UI_URL:-}" ] || RB_UI_URL=$(sed -n 's/^OPERATOR_UI=//p' "$envf")
	[ -n "${RB_WEBHOOK_URL:-}" ] || RB_WEBHOOK_URL=$(sed -n 's/^OPERATOR_WEBHOOK=//p' "$envf")
done
[ -n "${RB_UI_URL:-}" ] || { echo "run.sh: no OPERATOR_UI in \$RUNBOOK_CLUSTER_DIR/operator.env, and RB_UI_URL is not set" >&2; exit 1; }
export RB_UI_URL RB_WEBHOOK_URL=${RB_WEBHOOK_URL:-}
# The real node, as test/lib.sh's need_real_node finds it.
RB_REAL_NODE=
if [ -n "${RUNBOOK_CLUSTER_DIR:-}" ] && [ -f "$RUNBOOK_CLUSTER_DIR/env" ]; then
	RB_REAL_NODE=$(REAL_NODE= && . "$RUNBOOK_CLUSTER_DIR/env" >/dev/null 2>&1 && printf '%s' "${REAL_NODE:-}") || RB_REAL_NODE=
fi
export RB_REAL_NODE

RB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/runbook-ui.XXXXXX")
export RB_TMP
rm -rf "$RB_KEEP_DIR"
mkdir -p "$RB_KEEP_DIR"
NS=rb-ui-$name-$RANDOM
NS_OTHER=$NS-other
export RB_NS=$NS RB_NS_OTHER=$NS_OTHER
cleanup() {
	kubectl delete namespace "$NS" "$NS_OTHER" --wait=false >/dev/null 2>&1 || true
	kubectl delete clusterrolebinding,clusterrole "$NS-viewer" --wait=false >/dev/null 2>&1 || true
	rm -rf "$RB_TMP"
}
trap cleanup EXIT

kubectl create namespace "$NS" >/dev/null
kubectl create namespace "$NS_OTHER" >/dev/null
kubectl apply -f - >/dev/null <<Y
apiVersion: v1
kind: ServiceAccount
metadata: {name: writer, namespace: $NS}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: reader, namespace: $NS}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: runbook-ui-writer, namespace: $NS}
rules:
- {apiGroups: [runbook.dev], resources: [workflowruns], verbs: [get, list, watch, patch, create]}
- {apiGroups: [runbook.dev], resources: [workflows], verbs: [get, list, watch]}
- {apiGroups: [runbook.dev], resources: [triggers], verbs: [get, list, watch]}
- {apiGroups: ["", events.k8s.io], resources: [events], verbs: [list]}
- {apiGroups: [""], resources: [pods/log], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: runbook-ui-reader, namespace: $NS}
rules:
- {apiGroups: [runbook.dev], resources: [workflowruns], verbs: [get, list, watch]}
- {apiGroups: [runbook.dev], resources: [workflows], verbs: [get, list, watch]}
- {apiGroups: [runbook.dev], resources: [triggers], verbs: [get, list, watch]}
- {apiGroups: ["", events.k8s.io], resources: [events], verbs: [list]}
- {apiGroups: [""], resources: [pods/log], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: runbook-ui-writer, namespace: $NS}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: runbook-ui-writer}
subjects: [{kind: ServiceAccount, name: writer, namespace: $NS}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: runbook-ui-reader, namespace: $NS}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: runbook-ui-reader}
subjects: [{kind: ServiceAccount, name: reader, namespace: $NS}]
Y
# "viewer": may list workflowruns in every namespace (a ClusterRole), the
# UI's all-namespaces path.
kubectl apply -f - >/dev/null <<Y
apiVersion: v1
kind: ServiceAccount
metadata: {name: viewer, namespace: $NS}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: $NS-viewer}
rules:
- {apiGroups: [runbook.dev], resources: [workflowruns], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: $NS-viewer}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: $NS-viewer}
subjects: [{kind: ServiceAccount, name: viewer, namespace: $NS}]
Y
RB_TOKEN_WRITER=$(kubectl -n "$NS" create token writer --duration=1h)
RB_TOKEN_READER=$(kubectl -n "$NS" create token reader --duration=1h)
RB_TOKEN_VIEWER=$(kubectl -n "$NS" create token viewer --duration=1h)
export RB_TOKEN_WRITER RB_TOKEN_READER RB_TOKEN_VIEWER
# Step pods need their namespace's default ServiceAccount (made by the
# controller manager's token controller).
for _ in $(seq 1 100); do
	kubectl -n "$NS" get sa default >/dev/null 2>&1 && kubectl -n "$NS_OTHER" get sa default >/dev/null 2>&1 && break
	sleep 0.1
done

echo "# $(basename "$file"): UI $RB_UI_URL, namespaces $NS (writer, reader) and $NS_OTHER (neither)"
set +e
node --test --test-reporter=spec --test-concurrency=1 "$file"
rc=$?
set -e
if [ $rc -ne 0 ] && [ -n "${RUNBOOK_CLUSTER_DIR:-}" ]; then
	echo "--- operator log (tail)"
	tail -n 30 "$RUNBOOK_CLUSTER_DIR/logs/operator.log" 2>/dev/null || true
fi
exit $rc

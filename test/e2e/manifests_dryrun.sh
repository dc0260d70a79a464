#!/usr/bin/env bash
# manifests/ against a live API server: both variants (manifests/ and
# manifests/namespaced/) build with kubectl's kustomize and pass a server
# dry run (schema, admission, Pod Security "restricted"); the RBAC has no
# wildcard and grants exactly the audited verbs, the namespaced Role the
# same rules as the ClusterRole; nothing carries app.kubernetes.io/instance;
# and, with the RBAC objects created for real for a moment, the operator's
# ServiceAccount may do what the operator does and nothing next to it.
# Needs no operator and no image: nothing but RBAC is created for real.
#
# Server dry runs of namespaced objects need their namespace to exist
# (NamespaceLifecycle admission answers NotFound otherwise, dry run or not),
# so runbook-system and the namespaced variant's target namespace are
# created if missing and deleted at the end; so are the RBAC objects, and
# only those this test created.
#
# Env: KUBECONFIG (a live cluster), RUNBOOK_SOURCE_DIR (repo root; defaults
# to this file's ../..). Prints "N passed, M failed"; exit 1 on a failure.
set -uo pipefail

src=${RUNBOOK_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
: "${KUBECONFIG:?KUBECONFIG must point at a live cluster}"
export KUBECONFIG
work=$(mktemp -d "${TMPDIR:-/tmp}/rb-manifests-test.XXXXXX")
export KUBECACHEDIR=$work/kube-cache
sa=system:serviceaccount:runbook-system:runbook-operator
created_ns=()  # namespaces this test created
created_rbac=() # kind/name or kind/name@ns this test created

passed=0
failed=0
pass() {
	passed=$((passed + 1))
	echo "PASS: $1"
}
fail() {
	failed=$((failed + 1))
	echo "FAIL: $1" >&2
	[ -z "${2:-}" ] || printf '%s\n' "$2" | sed 's/^/    /' >&2
}
k() { kubectl --request-timeout=30s "$@"; }

delete_rbac() {
	local o
	for o in "${created_rbac[@]}"; do
		if [[ $o == *@* ]]; then
			k delete "${o%@*}" -n "${o#*@}" --ignore-not-found >/dev/null 2>&1
		else
			k delete "$o" --ignore-not-found >/dev/null 2>&1
		fi
	done
	created_rbac=()
}
cleanup() {
	delete_rbac
	local ns
	for ns in "${created_ns[@]}"; do
		k delete namespace "$ns" --ignore-not-found --wait=true --timeout=60s >/dev/null 2>&1
	done
	rm -rf "$work"
}
trap cleanup EXIT

# The checks on a rendered variant, in Python (stdlib only): py() below.
cat >"$work/check.py" <<'PY'
import json, sys

path, check, args = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(path) as f:
    doc = json.load(f)
items = doc["items"] if doc.get("kind") == "List" else [doc]
bad = []

def of(kind):
    return [o for o in items if o.get("kind") == kind]

def one(kind, name):
    m = [o for o in of(kind) if o["metadata"]["name"] == name]
    if len(m) != 1:
        bad.append("want one %s %s, found %d" % (kind, name, len(m)))
        return {}
    return m[0]

def grants(rules):
    """(group, resource, verb, resourceName or '') for every combination."""
    out = set()
    for r in rules or []:
        for g in r.get("apiGroups", [""]):
            for res in r.get("resources", []):
                for v in r.get("verbs", []):
                    for n in r.get("resourceNames") or [""]:
                        out.add((g, res, v, n))
    return out

# What src/ctrl does against the API (manifests/clusterrole.yaml explains
# each line). A change to the operator's calls changes this list, both
# roles and docs/operations.md together.
OPERATOR = {
    ("runbook.dev", "workflows", v, "") for v in ("list", "watch")
} | {
    ("runbook.dev", "workflows/status", "patch", ""),
    ("runbook.dev", "workflowruns/status", "patch", ""),
    ("runbook.dev", "workflowruns/finalizers", "update", ""),
    ("", "pods", "list", ""), ("", "pods", "watch", ""), ("", "pods", "delete", ""),
    ("events.k8s.io", "events", "create", ""),
} | {
    ("runbook.dev", "workflowruns", v, "") for v in ("list", "watch", "patch", "delete", "create")
} | {
    ("runbook.dev", "triggers", v, "") for v in ("get", "list", "watch")
} | {
    ("runbook.dev", "triggers/status", v, "") for v in ("update", "patch")
} | {
    ("", "secrets", "get", ""),
} | {
    ("batch", "jobs", v, "") for v in ("list", "watch", "create", "delete", "get")
}
LEASE = {
    ("coordination.k8s.io", "leases", "get", "runbook-operator"),
    ("coordination.k8s.io", "leases", "update", "runbook-operator"),
    ("coordination.k8s.io", "leases", "create", ""),
}

def diff(want, got):
    extra, missing = sorted(got - want), sorted(want - got)
    if extra:
        bad.append("granted but not used: %s" % extra)
    if missing:
        bad.append("used but not granted: %s" % missing)

def deploy():
    return one("Deployment", "runbook-operator")

def container():
    cs = deploy().get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
    return cs[0] if cs else {}

def env(name):
    for e in container().get("env", []):
        if e.get("name") == name:
            return e
    return None

if check == "no-wildcards":
    for o in of("ClusterRole") + of("Role"):
        for r in o.get("rules", []):
            for field in ("apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"):
                if any("*" in x for x in r.get(field) or []):
                    bad.append("%s %s: '*' in %s" % (o["kind"], o["metadata"]["name"], field))
    if not of("ClusterRole") + of("Role"):
        bad.append("no Role or ClusterRole at all")
elif check == "clusterrole-exact":
    diff(OPERATOR, grants(one("ClusterRole", "runbook-operator").get("rules")))
elif check == "role-exact":  # namespaced variant: the same rules, as a Role
    diff(OPERATOR, grants(one("Role", "runbook-operator").get("rules")))
    if of("ClusterRole") or of("ClusterRoleBinding"):
        bad.append("the namespaced variant has a ClusterRole or ClusterRoleBinding")
elif check == "lease-role-exact":
    r = one("Role", "runbook-operator-leader-election")
    diff(LEASE, grants(r.get("rules")))
    if r and r["metadata"].get("namespace") != deploy().get("metadata", {}).get("namespace"):
        bad.append("the lease Role is not in the operator's namespace")
elif check == "bindings":
    ns = deploy().get("metadata", {}).get("namespace")
    sa = deploy().get("spec", {}).get("template", {}).get("spec", {}).get("serviceAccountName")
    if not [o for o in of("ServiceAccount") if o["metadata"]["name"] == sa and o["metadata"].get("namespace") == ns]:
        bad.append("no ServiceAccount %s in %s" % (sa, ns))
    for b in of("ClusterRoleBinding") + of("RoleBinding"):
        ref = b.get("roleRef", {})
        kind_ok = [o for o in of(ref.get("kind")) if o["metadata"]["name"] == ref.get("name")
                   and (ref.get("kind") == "ClusterRole" or o["metadata"].get("namespace") == b["metadata"].get("namespace"))]
        if not kind_ok:
            bad.append("%s %s: roleRef %s/%s not in the manifests" % (b["kind"], b["metadata"]["name"], ref.get("kind"), ref.get("name")))
        if b.get("subjects") != [{"kind": "ServiceAccount", "name": sa, "namespace": ns}]:
            bad.append("%s %s: subjects %s" % (b["kind"], b["metadata"]["name"], b.get("subjects")))
elif check == "no-instance-label":
    def walk(x, where):
        if isinstance(x, dict):
            for key, v in x.items():
                if key == "app.kubernetes.io/instance":
                    bad.append("app.kubernetes.io/instance at " + where)
                walk(v, where + "." + key)
        elif isinstance(x, list):
            for i, v in enumerate(x):
                walk(v, "%s[%d]" % (where, i))
    for o in items:
        o = dict(o)
        m = o.pop("metadata")
        walk(o, "%s/%s" % (o["kind"], m["name"]))
        walk(m.get("labels", {}), "%s/%s.metadata.labels" % (o["kind"], m["name"]))
elif check == "deployment":
    d, c = deploy(), container()
    spec = d.get("spec", {})
    pod = spec.get("template", {}).get("spec", {})
    psc, csc = pod.get("securityContext", {}), c.get("securityContext", {})
    want = [
        ("replicas", spec.get("replicas"), 2),
        ("image", c.get("image"), "runbook-operator:0.1.0"),
        ("imagePullPolicy", c.get("imagePullPolicy"), "IfNotPresent"),
        ("--leader-elect", "--leader-elect" in c.get("args", []), True),
        ("--leader-elect-namespace", "--leader-elect-namespace=$(POD_NAMESPACE)" in c.get("args", []), True),
        ("POD_NAMESPACE", (env("POD_NAMESPACE") or {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath"), "metadata.namespace"),
        ("liveness", (c.get("livenessProbe", {}).get("httpGet", {}).get("path"), c.get("livenessProbe", {}).get("httpGet", {}).get("port")), ("/healthz", "health")),
        ("readiness", (c.get("readinessProbe", {}).get("httpGet", {}).get("path"), c.get("readinessProbe", {}).get("httpGet", {}).get("port")), ("/readyz", "health")),
        ("ports", sorted((p["name"], p["containerPort"]) for p in c.get("ports", [])), [("health", 8081), ("metrics", 8080), ("ui", 8083), ("webhook", 8082)]),
        ("--ui-addr", "--ui-addr=:8083" in c.get("args", []), True),
        ("--webhook-addr", "--webhook-addr=:8082" in c.get("args", []), True),
        ("runAsNonRoot", psc.get("runAsNonRoot"), True),
        ("runAsUser", psc.get("runAsUser"), 65532),
        ("seccompProfile", psc.get("seccompProfile", {}).get("type"), "RuntimeDefault"),
        ("readOnlyRootFilesystem", csc.get("readOnlyRootFilesystem"), True),
        ("allowPrivilegeEscalation", csc.get("allowPrivilegeEscalation"), False),
        ("capabilities.drop", csc.get("capabilities", {}).get("drop"), ["ALL"]),
        ("automountServiceAccountToken", pod.get("automountServiceAccountToken"), True),
        ("terminationGracePeriodSeconds", pod.get("terminationGracePeriodSeconds"), 30),
        ("requests", c.get("resources", {}).get("requests"), {"cpu": "50m", "memory": "32Mi"}),
        ("limits", c.get("resources", {}).get("limits"), {"memory": "128Mi"}),
    ]
    for what, got, exp in want:
        if got != exp:
            bad.append("%s: got %r, want %r" % (what, got, exp))
    svc = one("Service", "runbook-operator-metrics")
    sel = spec.get("selector", {}).get("matchLabels", {})
    if svc and svc.get("spec", {}).get("selector") != sel:
        bad.append("the metrics Service does not select the operator's pods")
    if [p.get("targetPort") for p in svc.get("spec", {}).get("ports", [])] != ["metrics"]:
        bad.append("the metrics Service does not target port 'metrics'")
    hooks = one("Service", "runbook-webhooks")
    if hooks and hooks.get("spec", {}).get("selector") != sel:
        bad.append("the webhook Service does not select the operator's pods")
    if [p.get("targetPort") for p in hooks.get("spec", {}).get("ports", [])] != ["webhook"]:
        bad.append("the webhook Service does not target port 'webhook'")
elif check == "watch-namespace":  # namespaced variant
    target = one("Role", "runbook-operator").get("metadata", {}).get("namespace")
    rb = one("RoleBinding", "runbook-operator").get("metadata", {}).get("namespace")
    e = (env("WATCH_NAMESPACE") or {}).get("value")
    if not ("--namespace=$(WATCH_NAMESPACE)" in container().get("args", []) and target == rb == e == args[0]):
        bad.append("Role in %s, RoleBinding in %s, WATCH_NAMESPACE=%s, args %s; want all %s" % (
            target, rb, e, container().get("args"), args[0]))
elif check == "namespaces":  # prints where the objects go (not a check)
    print("\n".join(sorted({o["metadata"]["namespace"] for o in items if o["metadata"].get("namespace")})))
    sys.exit(0)
else:
    bad.append("unknown check " + check)

for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
# py FILE CHECK DESCRIPTION [ARG]: one check of check.py on a kubectl JSON
# List (a dry run's output), counted as a PASS or a FAIL.
py() {
	local out
	if out=$(python3 "$work/check.py" "$1" "$2" "${@:4}" 2>&1); then
		pass "$3"
	else
		fail "$3" "$out"
	fi
}

# --- build ----------------------------------------------------------------------
for v in "" namespaced; do
	name=${v:-cluster-wide}
	dir=$src/manifests/$v
	if out=$(k kustomize "$dir" 2>&1); then
		pass "$name: kubectl kustomize builds"
	else
		fail "$name: kubectl kustomize builds" "$out"
	fi
	# Client-side render as JSON (no namespace needed yet): where things go.
	if ! k apply --dry-run=client -o json -k "$dir" >"$work/$name.client.json" 2>"$work/err"; then
		fail "$name: client dry run" "$(cat "$work/err")"
	fi
done
[ "$failed" -eq 0 ] || {
	echo "$passed passed, $failed failed"
	exit 1
}

# --- namespaces for the server dry runs -----------------------------------------
target=$(python3 "$work/check.py" "$work/namespaced.client.json" namespaces | grep -vx runbook-system | head -1)
for ns in runbook-system $target; do
	if k get namespace "$ns" >/dev/null 2>&1; then
		# Left Terminating by an earlier run: wait for it to go.
		if [ "$(k get namespace "$ns" -o jsonpath='{.status.phase}')" = Terminating ]; then
			k wait --for=delete "namespace/$ns" --timeout=60s >/dev/null 2>&1
		else
			continue
		fi
	fi
	if out=$(k create namespace "$ns" --save-config 2>&1); then
		created_ns+=("$ns")
	else
		fail "create namespace $ns for the dry run" "$out"
	fi
done
# The manifests' own Pod Security labels on runbook-system (when this test
# made it), so that admission checks the Deployment during the dry run.
if [[ " ${created_ns[*]} " == *" runbook-system "* ]]; then
	k label namespace runbook-system pod-security.kubernetes.io/enforce=restricted \
		pod-security.kubernetes.io/warn=restricted >/dev/null 2>&1
fi

# --- server dry run ----------------------------------------------------------------
for v in "" namespaced; do
	name=${v:-cluster-wide}
	if k apply --dry-run=server -o json -k "$src/manifests/$v" >"$work/$name.json" 2>"$work/err"; then
		pass "$name: kubectl apply --dry-run=server -k succeeds"
	else
		fail "$name: kubectl apply --dry-run=server -k succeeds" "$(cat "$work/err")"
		continue
	fi
	# Warnings: Pod Security, deprecated fields, unknown fields. Only the
	# one about objects created by hand (our namespace) is expected.
	if grep -i 'warning' "$work/err" | grep -vq 'last-applied-configuration'; then
		fail "$name: no warnings from the API server" "$(cat "$work/err")"
	else
		pass "$name: no warnings from the API server (Pod Security restricted included)"
	fi
	py "$work/$name.json" no-wildcards "$name: no '*' in any Role or ClusterRole"
	py "$work/$name.json" lease-role-exact "$name: lease Role grants exactly get/update (by name), create"
	py "$work/$name.json" bindings "$name: bindings point at the roles and the operator's ServiceAccount"
	py "$work/$name.json" no-instance-label "$name: no app.kubernetes.io/instance anywhere"
	py "$work/$name.json" deployment "$name: Deployment (replicas, args, probes, security, resources) and Service"
done
[ -f "$work/cluster-wide.json" ] &&
	py "$work/cluster-wide.json" clusterrole-exact "cluster-wide: ClusterRole grants exactly the operator's verbs"
if [ -f "$work/namespaced.json" ]; then
	py "$work/namespaced.json" role-exact "namespaced: Role grants the ClusterRole's rules, no cluster-wide RBAC"
	py "$work/namespaced.json" watch-namespace \
		"namespaced: Role, RoleBinding and --namespace agree on $target" "$target"
fi

# crds/Kustomization (for kustomize) must not disturb the documented
# `kubectl apply --server-side -f crds/`.
if out=$(k apply --server-side --force-conflicts --dry-run=server -f "$src/crds/" 2>&1); then
	pass "kubectl apply --server-side -f crds/ still works next to crds/Kustomization"
else
	fail "kubectl apply --server-side -f crds/ still works next to crds/Kustomization" "$out"
fi

# --- effective permissions ----------------------------------------------------------
# can VERB GROUP RESOURCE NS [SUBRESOURCE [NAME]]: a SubjectAccessReview for
# the operator's ServiceAccount (not `kubectl auth can-i`, which needs the
# CRDs in discovery to name their group).
can() {
	local out
	out=$(k create -o jsonpath='{.status.allowed}' -f - 2>&1 <<EOF
apiVersion: authorization.k8s.io/v1
kind: SubjectAccessReview
spec:
  user: "$sa"
  groups: [system:serviceaccounts, "system:serviceaccounts:runbook-system", system:authenticated]
  resourceAttributes:
    verb: "$1"
    group: "$2"
    resource: "$3"
    namespace: "$4"
    subresource: "${5:-}"
    name: "${6:-}"
EOF
	)
	[ "$out" = true ]
}
# create_rbac FILE: creates the RBAC objects of a dry-run List for real,
# skipping (and not owning) any that already exist.
create_rbac() {
	local kind name ns line
	while read -r kind name ns; do
		if k get "${kind,,}" "$name" ${ns:+-n "$ns"} >/dev/null 2>&1; then
			echo "note: $kind $name${ns:+ in $ns} already exists; not created, not deleted"
			continue
		fi
		python3 - "$1" "$kind" "$name" "$ns" >"$work/obj.json" <<'PY'
import json, sys
items = json.load(open(sys.argv[1]))["items"]
for o in items:
    m = o["metadata"]
    if o["kind"] == sys.argv[2] and m["name"] == sys.argv[3] and m.get("namespace", "") == sys.argv[4]:
        for f in ("uid", "resourceVersion", "creationTimestamp", "managedFields", "annotations"):
            m.pop(f, None)
        json.dump(o, sys.stdout)
PY
		if line=$(k create -f "$work/obj.json" 2>&1); then
			created_rbac+=("${kind,,}/$name${ns:+@$ns}")
		else
			fail "create $kind $name for the permission checks" "$line"
		fi
	done < <(python3 - "$1" <<'PY'
import json, sys
for o in json.load(open(sys.argv[1]))["items"]:
    if o["kind"] in ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"):
        print(o["kind"], o["metadata"]["name"], o["metadata"].get("namespace", ""))
PY
	)
}
# permissions VARIANT NS OTHER_NS: the checks on one variant; NS is where
# the operator may work, OTHER_NS where (namespaced) it may not. Each line:
# VERB GROUP RESOURCE [SUBRESOURCE]; "-" is the core group.
permissions() {
	local name=$1 ns=$2 other=$3 bad="" a v g r sub
	# The API server's RBAC caches follow new objects within moments.
	for _ in $(seq 1 50); do can watch batch jobs "$ns" && break; sleep 0.2; done
	local allowed=(
		"list runbook.dev workflows" "watch runbook.dev workflows"
		"patch runbook.dev workflows status"
		"list runbook.dev workflowruns" "watch runbook.dev workflowruns"
		"patch runbook.dev workflowruns" "delete runbook.dev workflowruns"
		"patch runbook.dev workflowruns status" "update runbook.dev workflowruns finalizers"
		"list batch jobs" "watch batch jobs" "get batch jobs" "create batch jobs" "delete batch jobs"
		"list - pods" "watch - pods" "delete - pods" "create events.k8s.io events"
		"create runbook.dev workflowruns" "get runbook.dev triggers" "list runbook.dev triggers"
		"watch runbook.dev triggers" "patch runbook.dev triggers status" "get - secrets"
	)
	local denied=(
		"get runbook.dev workflowruns" "update runbook.dev triggers" "delete runbook.dev triggers"
		"update runbook.dev workflowruns" "deletecollection runbook.dev workflowruns"
		"update runbook.dev workflowruns status"
		"patch runbook.dev workflows" "delete runbook.dev workflows" "update runbook.dev workflows status"
		"update batch jobs" "patch batch jobs" "deletecollection batch jobs" "patch batch jobs status"
		"get - pods" "create - pods" "deletecollection - pods" "get - pods log" "create - pods exec"
		"list - secrets" "watch - secrets" "list - configmaps" "create - events"
		"patch events.k8s.io events" "list coordination.k8s.io leases" "create coordination.k8s.io leases"
	)
	for a in "${allowed[@]}"; do
		read -r v g r sub <<<"$a"
		[ "$g" = - ] && g=""
		can "$v" "$g" "$r" "$ns" "$sub" || bad+="not allowed: $a in $ns"$'\n'
		[ -z "$other" ] || ! can "$v" "$g" "$r" "$other" "$sub" || bad+="allowed outside: $a in $other"$'\n'
	done
	for a in "${denied[@]}"; do
		read -r v g r sub <<<"$a"
		[ "$g" = - ] && g=""
		! can "$v" "$g" "$r" "$ns" "$sub" || bad+="allowed: $a in $ns"$'\n'
	done
	# Leader election: one Lease, in the operator's namespace, by name.
	lease() { can "$1" coordination.k8s.io leases runbook-system "" "${2:-}"; }
	lease get runbook-operator || bad+="lease get"$'\n'
	lease update runbook-operator || bad+="lease update"$'\n'
	lease create || bad+="lease create"$'\n'
	! lease update other || bad+="update of another Lease allowed"$'\n'
	! lease delete runbook-operator || bad+="lease delete allowed"$'\n'
	! lease patch runbook-operator || bad+="lease patch allowed"$'\n'
	if [ -z "$bad" ]; then
		pass "$name: the ServiceAccount may do what the operator does, and not more"
	else
		fail "$name: the ServiceAccount may do what the operator does, and not more" "$bad"
	fi
}
if [ -f "$work/cluster-wide.json" ]; then
	probe_ns=rb-manifests-probe # never created: RBAC does not need it
	create_rbac "$work/cluster-wide.json"
	permissions cluster-wide "$probe_ns" ""
	delete_rbac
fi
if [ -f "$work/namespaced.json" ] && [ -n "$target" ]; then
	# Wait until the cluster-wide grants are gone, or the namespaced
	# variant would look broader than it is.
	for _ in $(seq 1 50); do can list "" pods default || break; sleep 0.2; done
	create_rbac "$work/namespaced.json"
	permissions namespaced "$target" default
	delete_rbac
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

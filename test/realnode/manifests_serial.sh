# The operator as users deploy it: the image built by operator/image.sh
# (buildah, no registry) imported into the real node, and the real manifests
# applied with `kubectl apply -k` through test/realnode/overlay (image, pull
# policy, node placement: nothing else). Two replicas become Ready through
# their probes, one holds the Lease, runs work, the leader's pod deleted or
# the Deployment restarted mid-run hands over without a duplicate Job, the
# containers really run as 65532 with a read-only root and no capability
# (read from the host's /proc), /metrics answers through the Service, and
# a Trigger works in the pod (a time zone from the image, its Secret through
# the manifests' RBAC, a delivery through the runbook-webhooks Service).
# Serial: the host operator of the other tests is stopped meanwhile (two
# controllers must not share the cluster).
. "$(dirname "$0")/../lib.sh"
need_real_node
: "${RUNBOOK_CLUSTER_DIR:?}" "${RUNBOOK_OPERATOR_DIR:?}" "${RUNBOOK_BINARY_DIR:?}"
op() { "$RB_SRC/test/operator.sh" "$1" "$RUNBOOK_CLUSTER_DIR" "$RUNBOOK_OPERATOR_DIR"; }
SYS=runbook-system
undeploy() {
	kubectl delete namespace "$SYS" --wait=true --timeout=60s >/dev/null 2>&1
	kubectl delete clusterrole,clusterrolebinding -l app.kubernetes.io/part-of=runbook >/dev/null 2>&1
}
eval "lib_exit=$(trap -p EXIT | sed 's/^trap -- //; s/ EXIT$//')"
trap 'undeploy; op start >/dev/null 2>&1; eval "$lib_exit"' EXIT
export RB_OPERATOR_USER=system:serviceaccount:$SYS:runbook-operator # for the recorder's audit checks
in_sys() { kubectl -n "$SYS" "$@"; }

# --- the image -----------------------------------------------------------------
t0=$SECONDS
if ! out=$("$RB_SRC/operator/image.sh" "$RUNBOOK_BINARY_DIR/image" 2>&1); then
	fail "operator/image.sh built the image"
	tail -n 20 <<<"$out"
	finish
fi
echo "# image built in $((SECONDS - t0)) s: $(grep -E '^(image|size):' <<<"$out" | tr '\n' ' ')"
check "the image is imported into the real node's containerd" \
	'"$RB_SRC/test/cluster/node.sh" load "$RUNBOOK_CLUSTER_DIR" "$RUNBOOK_BINARY_DIR/image/runbook-operator.oci.tar" >/dev/null'

# --- deployed as documented ----------------------------------------------------
op stop
check "kubectl apply -k (the manifests through the test overlay)" \
	'kubectl apply -k "$RB_SRC/test/realnode/overlay" >/dev/null'
check "both replicas become Ready through their readiness probes" \
	'in_sys rollout status deployment/runbook-operator --timeout=120s >/dev/null &&
	 [ "$(in_sys get deployment runbook-operator -o jsonpath="{.status.readyReplicas}")" = 2 ]'
pods() { # the operator pods running and not being deleted
	in_sys get pods -l app.kubernetes.io/component=operator --field-selector=status.phase=Running \
		-o 'jsonpath={range .items[*]}{.metadata.name} {.metadata.deletionTimestamp}{"\n"}{end}' | awk 'NF == 1 {print $1}'
}
holder() { in_sys get lease runbook-operator -o 'jsonpath={.spec.holderIdentity}' 2>/dev/null; }
leader_pod() { local h; h=$(holder) && echo "${h%_*}"; }
eventually 30 "a running replica holds the Lease" 'pods | grep -qx "$(leader_pod)"'
leaders() { for p in $(pods); do in_sys logs "$p" | grep -q "became leader" && echo "$p"; done; }
check "exactly one replica says it became leader ($(leaders | tr '\n' ' '))" '[ "$(leaders | grep -c .)" = 1 ]'
check "the pods run on the real node" \
	'[ "$(in_sys get pods -l app.kubernetes.io/component=operator -o jsonpath="{.items[*].spec.nodeName}")" = "$REAL_NODE $REAL_NODE" ]'

# What the kernel says about the operator processes (not what the manifest asks).
op_pids() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(cat "$p/comm" 2>/dev/null)" = runbook-operato ] || continue
		grep -q "kubepods" "$p/cgroup" 2>/dev/null && echo "${p#/proc/}"
	done
}
pids=$(op_pids)
check "two operator processes in pod cgroups on the host ($(echo $pids))" '[ "$(wc -w <<<"$pids")" = 2 ]'
for pid in $pids; do
	check "pid $pid runs as uid/gid 65532" \
		'grep -Eq "^Uid:\s+65532\s+65532\s+65532\s+65532$" /proc/$pid/status && grep -Eq "^Gid:\s+65532\s+65532\s+65532\s+65532$" /proc/$pid/status'
	check "pid $pid has no capability (effective, permitted, bounding) and no_new_privs" \
		'for c in CapEff CapPrm CapBnd; do grep -Eq "^$c:\s+0+$" /proc/$pid/status || exit 1; done; grep -Eq "^NoNewPrivs:\s+1$" /proc/$pid/status'
	check "pid $pid has a read-only root filesystem" \
		'awk "\$5 == \"/\" {print \$6}" /proc/$pid/mountinfo | grep -q "^ro"'
	rss=$(awk '/^VmRSS/ {print $2}' /proc/$pid/status)
	echo "# pid $pid VmRSS ${rss} kB"
done

# /metrics through the Service (kube-proxy, as Prometheus would reach it).
svc=$(in_sys get service runbook-operator-metrics -o jsonpath='{.spec.clusterIP}')
eventually 30 "/metrics answers through the Service ($svc:8080)" \
	'curl -fsS --max-time 2 "http://$svc:8080/metrics" | grep -q "^runbook_"'

# --- a Trigger, through the deployed operator -----------------------------------
# Its schedule's time zone is read from the image's /usr/share/zoneinfo, its
# Secret through the manifests' RBAC (get by name), and a signed delivery
# reaches a replica through the runbook-webhooks Service (kube-proxy).
hook_secret=deployed-$RANDOM
kubectl apply -f - >/dev/null <<Y
apiVersion: v1
kind: Secret
metadata: {name: hook, namespace: $NS}
stringData: {token: "$hook_secret"}
---
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: hooked, namespace: $NS}
spec:
  params: [{name: id}]
  steps: [{name: a, image: busybox, command: ["true"]}]
---
apiVersion: runbook.dev/v1alpha1
kind: Trigger
metadata: {name: madrid, namespace: $NS}
spec:
  workflowRef: {name: hooked}
  webhook:
    secretRef: {name: hook, key: token}
    params: [{name: id, pointer: /id}]
  schedule: {cron: "0 3 * * *", timeZone: Europe/Madrid, suspend: true}
Y
eventually 60 "the deployed operator finds Europe/Madrid in its image and the Secret through its RBAC (Ready)" \
	'[ "$(jp rtr/madrid "{.status.conditions[?(@.type==\"Ready\")].reason}")" = Suspended ] &&
	 [ -n "$(jp rtr/madrid "{.status.nextScheduleTime}")" ]'
hsvc=$(in_sys get service runbook-webhooks -o jsonpath='{.spec.clusterIP}')
hook_post() {
	local b='{"id":"via-service"}' ts sig
	ts=$(date +%s)
	sig=$(printf '%s' "$ts.$b" | openssl dgst -sha256 -hmac "$hook_secret" | sed 's/.* //')
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST "http://$hsvc/hooks/$NS/madrid" \
		-H 'Content-Type: application/json' -H 'Idempotency-Key: via-service' \
		-H "X-Runbook-Timestamp: $ts" -H "X-Runbook-Signature: sha256=$sig" --data-binary "$b"
}
eventually 30 "a signed delivery through the Service ($hsvc:80) creates a run (201, or 200 on a retry)" \
	'c=$(hook_post) && { [ "$c" = 201 ] || [ "$c" = 200 ]; }'
eventually 60 "  which runs on the cluster" \
	'[ "$(kget wfr -l runbook.dev/trigger=madrid -o jsonpath="{.items[0].status.phase}")" = Succeeded ]'

# --- work -----------------------------------------------------------------------
sib='trap "log got TERM; exit 0" TERM; log started; while :; do sleep 0.1; done'
{
	wf_head ok
	real_step one 'log one'
	real_step two 'log two' 'dependsOn: [one],'
	printf -- '---\n'
	wf_head ff 10
	real_step boom 'while [ ! -f /out/sib.log ]; do sleep 0.1; done; exit 3'
	real_step sib "$sib"
	run_doc r-ok ok
	run_doc r-ff ff
} | kubectl apply -f - >/dev/null
eventually 90 "a Workflow runs to Succeeded under the deployed operator" 'phase_is r-ok Succeeded'
eventually 90 "a fail-fast one ends Failed" 'phase_is r-ff Failed'
check "its sibling got SIGTERM and was Cancelled" 'grep -q "got TERM" "$RB_OUT/sib.log" && step_is r-ff sib Cancelled'
check "no process of those runs is left" '[ -z "$(procs_of "$NS")" ]'

# --- the leader's pod deleted: the standby takes over within the lease bounds --
long() { # NAME SECONDS: a run whose only step sleeps that long
	{
		wf_head "$1"
		real_step "$1" "log started; sleep $2; log done"
		run_doc "$1" "$1"
	} | kubectl apply -f - >/dev/null
}
long handover 8
eventually 60 "run handover is Running" 'step_is handover handover Running'
old=$(leader_pod)
t0=$SECONDS
in_sys delete pod "$old" --wait=false >/dev/null
eventually 30 "another replica holds the Lease after the leader's pod is deleted" \
	'h=$(leader_pod) && [ -n "$h" ] && [ "$h" != "$old" ]'
took=$((SECONDS - t0))
# The deleted leader releases the Lease on SIGTERM; a crash would take up
# to the lease duration (15 s) plus a retry period (2 s).
check "handed over within the lease bounds (${took} s <= 17 s)" '[ $took -le 17 ]'
eventually 90 "the run finishes under the new leader" 'phase_is handover Succeeded'
check "one Job for the step, no duplicate" '[ "$(kget jobs -l runbook.dev/run=handover -o name | grep -c .)" = 1 ]'

# --- kubectl rollout restart mid-run ---------------------------------------------
long rolled 15
eventually 60 "run rolled is Running" 'step_is rolled rolled Running'
check "kubectl rollout restart" 'in_sys rollout restart deployment/runbook-operator >/dev/null'
check "the rollout completes, both new replicas Ready" \
	'in_sys rollout status deployment/runbook-operator --timeout=180s >/dev/null'
eventually 90 "the run finishes correctly across the restart" 'phase_is rolled Succeeded'
check "one Job for the step, no duplicate" '[ "$(kget jobs -l runbook.dev/run=rolled -o name | grep -c .)" = 1 ]'
check "a replica of the new ReplicaSet holds the Lease" 'pods | grep -qx "$(leader_pod)"'
finish

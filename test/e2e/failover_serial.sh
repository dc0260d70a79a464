# Two replicas with leader election. SIGKILL the leader mid-run: the standby
# takes over within the lease duration and the run finishes correctly, with
# no duplicate Job. SIGTERM the new leader: it exits 0 within 5 s and the
# other leads within 2 s (the lease is released, not left to expire).
. "$(dirname "$0")/../lib.sh"
: "${RUNBOOK_CLUSTER_DIR:?}" "${RUNBOOK_OPERATOR_DIR:?}"
op() { "$RB_SRC/test/operator.sh" "$1" "$RUNBOOK_CLUSTER_DIR" "$RUNBOOK_OPERATOR_DIR"; }
log=$RUNBOOK_CLUSTER_DIR/logs
pids=()
replica() { # N: starts replica N with leader election, lease in NS
	ASAN_OPTIONS=detect_leaks=1 setsid "$RUNBOOK_OPERATOR_DIR/runbook-operator" \
		--kubeconfig "$KUBECONFIG" --leader-elect --leader-elect-namespace "$NS" \
		--leader-elect-lease-duration 4s --leader-elect-renew-deadline 3s \
		--leader-elect-retry-period 500ms --health-addr 0 --metrics-addr 0 \
		>"$log/replica-$1.log" 2>&1 </dev/null &
	pids[$1]=$!
}
holder() { kubectl -n "$NS" get lease runbook-operator -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }
leader_index() { # prints 1 or 2: whose log says it leads now
	local h
	h=$(holder)
	[ -n "$h" ] || return 1
	for i in 1 2; do grep -q "identity=$h" "$log/replica-$i.log" 2>/dev/null && { echo "$i"; return 0; }; done
	return 1
}
cleanup() {
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	op start >/dev/null 2>&1
	kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1
}
trap cleanup EXIT
op stop >/dev/null # the fixture's single operator would not take part in the election
replica 1
replica 2
eventually 20 "one replica holds the lease" leader_index
first=$(leader_index)
other=$((3 - first))
{
	cat <<Y
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: chain, namespace: $NS}
spec:
  steps:
  - {name: a, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 2s}}}}
  - {name: b, image: busybox:1.36, dependsOn: [a], podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 2s}}}}
  - {name: c, image: busybox:1.36, dependsOn: [b], podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1s}}}}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: r, namespace: $NS}
spec: {workflowRef: {name: chain}}
Y
} | kubectl apply -f - >/dev/null
eventually 20 "step a running" step_is r a Running
check "the standby wrote nothing (no leader line in its log)" bash -c "! grep -q 'msg=leading' '$log/replica-$other.log'"
t0=$(date +%s%N)
kill -KILL "${pids[$first]}"
eventually 10 "the standby leads" bash -c "grep -q 'msg=leading' '$log/replica-$other.log'"
took=$((($(date +%s%N) - t0) / 1000000))
check "takeover within the 4 s lease duration + one retry (${took} ms)" [ "$took" -le 5000 ]
check "the run finishes Succeeded" kubectl -n "$NS" wait --for=jsonpath='{.status.phase}'=Succeeded wfr/r --timeout=60s
check "one Job per step" [ "$(kubectl -n "$NS" get jobs -l runbook.dev/run=r -o name | wc -l)" -eq 3 ]

# Graceful hand-over: restart the killed replica as the standby, SIGTERM the leader.
replica "$first"
sleep 1
t0=$(date +%s%N)
kill -TERM "${pids[$other]}"
rc=0
for _ in $(seq 1 50); do kill -0 "${pids[$other]}" 2>/dev/null || break; sleep 0.1; done
if kill -0 "${pids[$other]}" 2>/dev/null; then rc=124; else wait "${pids[$other]}"; rc=$?; fi
exit_ms=$((($(date +%s%N) - t0) / 1000000))
check "SIGTERM: the leader exits 0 (rc=$rc) within 5 s (${exit_ms} ms)" [ "$rc" -eq 0 ]
eventually 5 "the standby leads" bash -c "grep -q 'msg=leading' '$log/replica-$first.log'"
lead_ms=$((($(date +%s%N) - t0) / 1000000))
check "standby led within 2 s of the SIGTERM (${lead_ms} ms): the lease was released" [ "$lead_ms" -le 2000 ]
check "no sanitizer report from the replica that shut down" bash -c "! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' '$log/replica-$other.log'"
if [ "$failed" -gt 0 ]; then tail -n 20 "$log"/replica-*.log; fi
finish

# Cancel at the moment runs start, 200 times (issue 8): a cancel can land
# before the run's first status, between it and the first Jobs, while the
# creates are in flight, or as the Jobs' pods appear. Every run must end
# Cancelled with none of its pods left running, no finally Job created while
# a main-step pod ran and no step with two Jobs (the recorder checks the
# order of every change at finish), and a run cancelled before any of its
# Jobs was created runs no finally step.
. "$(dirname "$0")/../lib.sh"
N=${RB_CANCEL_RUNS:-200}
cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: race, namespace: $NS}
spec:
  terminationGracePeriodSeconds: 1
  steps:
  - {name: a, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h}}}}
  - {name: b, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h}}}}
  finally:
  - {name: fin, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 200ms}}}}
Y
delays=(0 0.01 0.03 0.06 0.1 0.15 0.2 0.3 0.5 0.8)
one() { # I: create run c<I>, wait a delay that cycles through the window, cancel it
	printf 'apiVersion: runbook.dev/v1alpha1\nkind: WorkflowRun\nmetadata: {name: c%s, namespace: %s}\nspec: {workflowRef: {name: race}}\n' "$1" "$NS" |
		kubectl create -f - >/dev/null || echo "create c$1 failed"
	sleep "${delays[$(($1 % ${#delays[@]}))]}"
	kubectl -n "$NS" patch wfr "c$1" --type=merge -p '{"spec":{"cancel":true}}' >/dev/null || echo "cancel c$1 failed"
}
errs=$RB_TMP/cancel-errors
: >"$errs"
# (wait on our own jobs only: lib.sh's recorder is a child too)
pids=()
for i in $(seq 1 "$N"); do
	one "$i" >>"$errs" 2>&1 &
	pids+=($!)
	if [ ${#pids[@]} -eq 10 ]; then
		wait "${pids[@]}"
		pids=()
	fi
done
[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}"
check "every create and cancel was accepted" '[ ! -s "$errs" ] || { cat "$errs"; false; }'
phases() { kget wfr -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}'; }
eventually 240 "all $N runs Cancelled" '[ "$(phases | grep -c "^Cancelled$")" -eq "$N" ]'
check "no pod of any run still running" '[ "$(kget pods -o jsonpath="{range .items[*]}{.status.phase}{\"\n\"}{end}" | grep -cvE "^(Succeeded|Failed|)$")" -eq 0 ]'
# finally ran exactly when a main step had started
rows=$(kget wfr -o jsonpath='{range .items[*]}{.metadata.name} {.status.steps[0].phase} {.status.steps[1].phase} {.status.steps[2].phase}{"\n"}{end}')
# (a run cancelled while Pending has no steps in its status at all)
ran='function ran(p) { return p != "" && p != "Skipped" }'
bad=$(awk "$ran"'{started = ran($2) || ran($3); fin = $4
	if (started && fin != "Succeeded") print $0 " (a step started: finally must run)"
	if (!started && fin != "Skipped" && fin != "") print $0 " (nothing started: finally must not run)"}' <<<"$rows")
check "finally ran exactly for the runs in which a step had started" '[ -z "$bad" ] || { echo "$bad" | head; false; }'
started=$(awk "$ran"'ran($2) || ran($3)' <<<"$rows" | wc -l)
echo "# $started of $N runs had started a step when the cancel landed"
check "the cancels landed on both sides of the first Job (some started, some not)" '[ "$started" -gt 0 ] && [ "$started" -lt "$N" ]'
operator_log_on_failure
finish

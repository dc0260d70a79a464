# Deleting a Job with propagationPolicy=Background removes its pods; a pod
# being deleted goes away when its grace period ends (kwok's pod-delete stage),
# or earlier with runbook.dev/test-sigterm-exit.
. "$(dirname "$0")/../lib.sh"
job_yaml slow '{runbook.dev/test-duration: 1h}' 3 | kubectl apply -f - >/dev/null
job_yaml quick '{runbook.dev/test-duration: 1h, runbook.dev/test-sigterm-exit: 200ms}' 30 |
	kubectl apply -f - >/dev/null
eventually 60 "pod of slow is Running" 'pod_phase_is slow Running'
eventually 60 "pod of quick is Running" 'pod_phase_is quick Running'
t0=$(date +%s%N)
kubectl -n "$NS" delete job slow --cascade=background --wait=false >/dev/null
kubectl -n "$NS" delete job quick --cascade=background --wait=false >/dev/null
eventually 30 "pod of quick gone" 'none pod job-name=quick'
tq=$((($(date +%s%N) - t0) / 1000000))
eventually 30 "pod of slow gone" 'none pod job-name=slow'
ts=$((($(date +%s%N) - t0) / 1000000))
# deletionTimestamp has one-second resolution, so "after the grace period"
# means within (grace-1, grace+2] seconds.
check "slow pod honoured its 3 s grace period (${ts} ms)" '[ "$ts" -gt 2000 ] && [ "$ts" -le 5000 ]'
check "quick pod went on SIGTERM before its 30 s grace (${tq} ms)" '[ "$tq" -lt 5000 ]'
eventually 30 "jobs are gone" 'none job'
finish

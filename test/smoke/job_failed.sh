# A Job whose pod is marked to fail, with backoffLimit 0, reaches Failed, and
# the pod carries the chosen exit code and message.
. "$(dirname "$0")/../lib.sh"
job_yaml bad '{runbook.dev/test-exit-code: "3", runbook.dev/test-message: "disk full"}' |
	kubectl apply -f - >/dev/null
eventually 60 "job bad reaches Failed" 'field_is job/bad "{.status.conditions[?(@.type==\"Failed\")].status}" True'
check "FailureTarget was set too" 'field_is job/bad "{.status.conditions[?(@.type==\"FailureTarget\")].status}" True'
state='{.items[0].status.containerStatuses[0].state.terminated}'
exit_code=$(kubectl -n "$NS" get pod -l job-name=bad -o "jsonpath=${state/\}/.exitCode\}}")
term_msg=$(kubectl -n "$NS" get pod -l job-name=bad -o "jsonpath=${state/\}/.message\}}")
check "exit code is 3 (got '$exit_code')" '[ "$exit_code" = 3 ]'
check "termination message is 'disk full' (got '$term_msg')" '[ "$term_msg" = "disk full" ]'
finish

# A Job whose simulated pod succeeds reaches Complete (Job controller, scheduler, kwok).
. "$(dirname "$0")/../lib.sh"
job_yaml ok '{runbook.dev/test-duration: 1s}' | kubectl apply -f - >/dev/null
eventually 60 "job ok reaches Complete" 'field_is job/ok "{.status.conditions[?(@.type==\"Complete\")].status}" True'
phase=$(pod_phase ok)
check "its pod phase is Succeeded (got '$phase')" '[ "$phase" = Succeeded ]'
finish

# Fail-fast on real processes: a step exits 3 while three siblings run. Each
# sibling's shell traps TERM, logs "got TERM" and exits 0 two seconds later.
# Asserted from what the processes did: every sibling got SIGTERM and exited
# 0 on its own (not 137), and the run is Failed only once none of the run's
# processes is left on the host.
. "$(dirname "$0")/../lib.sh"
need_real_node
sib='trap "log got TERM; sleep 2; log exiting; exit 0" TERM; log started; while :; do sleep 0.1; done'
{
	wf_head ff 20
	real_step boom 'log started; while [ "$(ls /out | grep -c "^s")" -lt 3 ]; do sleep 0.1; done; sleep 1; log failing; exit 3'
	for s in s1 s2 s3; do real_step "$s" "$sib"; done
	run_doc r ff
} | kubectl apply -f - >/dev/null
eventually 60 "the three siblings run (their logs say started)" \
	'(for s in s1 s2 s3; do grep -q started "$RB_OUT/$s.log" || exit 1; done)'
eventually 60 "the run is Failing (boom exited 3)" 'phase_is r Failing'
check "the siblings' processes are still there while they handle TERM" '[ -n "$(procs_of "$NS")" ]'
eventually 60 "the run is Failed" 'phase_is r Failed'
left=$(procs_of "$NS")
check "no process of the run is left on the host when it is Failed (left: ${left:-none})" '[ -z "$left" ]'
check "containerd runs no container of the run" '[ -z "$(ns_tasks_running)" ]'
for s in s1 s2 s3; do
	check "$s got SIGTERM and exited on its own" 'grep -q "got TERM" "$RB_OUT/$s.log" && grep -q exiting "$RB_OUT/$s.log"'
	check "$s's container exit code is 0, not 137 ($(step_exit_codes $s))" '[ "$(step_exit_codes $s)" = 0 ]'
	check "$s is Cancelled" 'step_is r $s Cancelled'
done
check "boom's exit code 3 is in the run's message" 'jp wfr/r "{.status.message}" | grep -q "exit code 3"'
finish

# A sibling that ignores SIGTERM is SIGKILLed when its grace period runs out
# (exit 137), the run's status names that step as killed, and the run does
# not end before that: its process is still there, and the run still
# Failing, inside the grace period. A sibling that handles TERM exits 0.
. "$(dirname "$0")/../lib.sh"
need_real_node
{
	wf_head gk 4
	real_step boom 'while [ ! -f /out/stubborn.log ] || [ ! -f /out/polite.log ]; do sleep 0.1; done; sleep 1; exit 3'
	real_step stubborn 'trap "log got TERM, ignoring it" TERM; log started; while :; do sleep 0.1; done'
	real_step polite 'trap "log got TERM; exit 0" TERM; log started; while :; do sleep 0.1; done'
	run_doc r gk
} | kubectl apply -f - >/dev/null
eventually 60 "stubborn got SIGTERM (and ignores it)" 'grep -q "got TERM" "$RB_OUT/stubborn.log"'
t_term=$SECONDS
sleep 2
check "2 s into its 4 s grace period: stubborn still runs and the run is still Failing" \
	'[ -n "$(procs_of "$NS")" ] && phase_is r Failing'
eventually 60 "the run is Failed" 'phase_is r Failed'
left=$(procs_of "$NS")
check "no process of the run left when it is Failed (left: ${left:-none})" '[ -z "$left" ]'
check "the run ended no sooner than the grace period after the SIGTERM ($((SECONDS - t_term)) s)" \
	'[ $((SECONDS - t_term)) -ge 3 ]'
check "stubborn's container was SIGKILLed: exit code 137 ($(step_exit_codes stubborn))" \
	'[ "$(step_exit_codes stubborn)" = 137 ]'
check "stubborn's step status: exitCode 137" '[ "$(jp wfr/r "{.status.steps[?(@.name==\"stubborn\")].exitCode}")" = 137 ]'
msg=$(jp wfr/r '{.status.steps[?(@.name=="stubborn")].message}')
check "stubborn's step message says it was killed ($msg)" 'grep -q "killed with SIGKILL" <<<"$msg"'
check "polite handled TERM: exit code 0 ($(step_exit_codes polite))" '[ "$(step_exit_codes polite)" = 0 ]'
check "polite's step message says it exited 0" \
	'jp wfr/r "{.status.steps[?(@.name==\"polite\")].message}" | grep -q "exited with code 0"'
finish

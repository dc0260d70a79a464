# The operator SIGKILLed and restarted around a fail-fast on real
# processes: (1) killed mid-teardown, after it asked for the siblings to
# stop; (2) down when the step fails, so the teardown is the restarted
# operator's. Either way every sibling gets SIGTERM and exits 0 on its own,
# and the run is Failed only once none of its processes is left.
. "$(dirname "$0")/../lib.sh"
need_real_node
: "${RUNBOOK_CLUSTER_DIR:?}" "${RUNBOOK_OPERATOR_DIR:?}"
op() { "$RB_SRC/test/operator.sh" "$1" "$RUNBOOK_CLUSTER_DIR" "$RUNBOOK_OPERATOR_DIR"; }
eval "lib_exit=$(trap -p EXIT | sed 's/^trap -- //; s/ EXIT$//')"
trap 'op start >/dev/null 2>&1; eval "$lib_exit"' EXIT
sib='trap "log got TERM; sleep 3; log exiting; exit 0" TERM; log started; while :; do sleep 0.1; done'
for k in 1 2; do
	{
		wf_head "w$k" 20
		real_step "boom$k" "while [ ! -f /out/go$k ]; do sleep 0.1; done; exit 3"
		for s in a b; do real_step "$s$k" "$sib"; done
		run_doc "r$k" "w$k"
	} | kubectl apply -f - >/dev/null
	eventually 60 "r$k: its siblings run" "grep -q started \"\$RB_OUT/a$k.log\" && grep -q started \"\$RB_OUT/b$k.log\""
	if [ $k = 1 ]; then
		touch "$RB_OUT/go1"
		eventually 60 "r1: the siblings got SIGTERM" 'grep -q "got TERM" "$RB_OUT/a1.log" && grep -q "got TERM" "$RB_OUT/b1.log"'
		op kill
		check "r1 is Failing when the operator is killed mid-teardown" 'phase_is r1 Failing'
		sleep 1
		op start >/dev/null
	else
		op kill
		touch "$RB_OUT/go2"
		eventually 30 "r2: boom2 failed while the operator was down" '[ "$(step_exit_codes boom2)" = 3 ]'
		check "r2: its siblings still run, nobody stopped them" '! grep -q "got TERM" "$RB_OUT/a2.log"'
		op start >/dev/null
	fi
	eventually 60 "r$k is Failed" "phase_is r$k Failed"
	left=$(procs_of "$NS")
	check "r$k: no process left when it is Failed (left: ${left:-none})" '[ -z "$left" ]'
	for s in a$k b$k; do
		check "$s got SIGTERM once and exited 0 on its own ($(step_exit_codes $s))" \
			'[ "$(grep -c "got TERM" "$RB_OUT/$s.log")" = 1 ] && grep -q exiting "$RB_OUT/$s.log" && [ "$(step_exit_codes $s)" = 0 ]'
	done
done
finish

# spec.cancel=true on real processes. During the DAG: every running step
# gets SIGTERM, handles it and exits 0, and the run is Cancelled only once no
# process of it is left. During a finally step: the finally step is not
# interrupted (it runs to its end), and the run is Cancelled after it exits.
. "$(dirname "$0")/../lib.sh"
need_real_node
sib='trap "log got TERM; sleep 2; log exiting; exit 0" TERM; log started; while :; do sleep 0.1; done'
{
	wf_head dag 20
	for s in a b c; do real_step "$s" "$sib"; done
	printf -- '---\n'
	wf_head fin 20
	real_step main 'log ran'
	echo "  finally:"
	real_step tidy 'trap "log got TERM" TERM; log started; i=0; while [ $i -lt 40 ]; do sleep 0.1; i=$((i+1)); done; log done'
	run_doc r1 dag
	run_doc r2 fin
} | kubectl apply -f - >/dev/null

# During the DAG.
eventually 60 "a, b and c run" '(for s in a b c; do grep -q started "$RB_OUT/$s.log" || exit 1; done)'
kubectl -n "$NS" patch wfr r1 --type merge -p '{"spec":{"cancel":true}}' >/dev/null
eventually 30 "r1 is Cancelling" 'phase_is r1 Cancelling'
eventually 60 "r1 is Cancelled" 'phase_is r1 Cancelled'
left=$(procs_of "$NS" | wc -l) # r2's tidy may still run: r1's steps are checked by their logs
for s in a b c; do
	check "$s got SIGTERM and exited 0 before r1 was Cancelled" \
		'grep -q "got TERM" "$RB_OUT/$s.log" && grep -q exiting "$RB_OUT/$s.log" && [ "$(step_exit_codes $s)" = 0 ]'
	check "$s is Cancelled" 'step_is r1 $s Cancelled'
done

# During a finally step.
eventually 60 "r2's finally step tidy runs" 'grep -q started "$RB_OUT/tidy.log"'
kubectl -n "$NS" patch wfr r2 --type merge -p '{"spec":{"cancel":true}}' >/dev/null
eventually 30 "r2 records the cancel" '[ "$(jp wfr/r2 "{.status.cancelRequested}")" = true ]'
check "tidy is not interrupted: still running, no SIGTERM" \
	'[ -n "$(procs_of "$NS")" ] && ! grep -q "got TERM" "$RB_OUT/tidy.log"'
eventually 60 "r2 is Cancelled" 'phase_is r2 Cancelled'
left=$(procs_of "$NS")
check "no process of either run left (left: ${left:-none})" '[ -z "$left" ]'
check "containerd runs no container of either run" '[ -z "$(ns_tasks_running)" ]'
check "tidy ran to its end, exit code 0" 'grep -q done "$RB_OUT/tidy.log" && [ "$(step_exit_codes tidy)" = 0 ]'
check "tidy Succeeded" 'step_is r2 tidy Succeeded'
finish

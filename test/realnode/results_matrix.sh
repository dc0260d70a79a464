# Results and matrix on real processes (issue 14). build's container writes
# its result to /dev/termination-log and the kubelet copies it into the
# pod's status; the three combinations of fan get it in their command. One
# combination exits 3: its two running siblings get SIGTERM, handle it,
# and the run is Failed only once no process of it is left; after (which
# depends on fan) never starts.
. "$(dirname "$0")/../lib.sh"
need_real_node
combo='log "$(matrix.v) started with $(steps.build.results.digest)"
if [ "$(matrix.v)" = bad ]; then sleep 3; log "$(matrix.v) failing"; exit 3; fi
trap "log \"$(matrix.v) got TERM\"; exit 0" TERM; while :; do sleep 0.1; done'
{
	wf_head rm 20
	real_step build 'log built; printf "{\"digest\":\"sha256:real-abc\"}" > /dev/termination-log' \
		'results: [{name: digest}],'
	real_step fan "$combo" 'dependsOn: [build], matrix: {params: [{name: v, values: [ok1, bad, ok2]}]},'
	real_step after 'log ran' 'dependsOn: [fan],'
	run_doc rm-1 rm
} | kubectl apply -f - >/dev/null

eventually 90 "rm-1 is Failed" 'phase_is rm-1 Failed'
left=$(procs_of "$NS")
check "no process of the run left when it went Failed (left: ${left:-none})" '[ -z "$left" ]'
check "build's result read from the real termination message" \
	'[ "$(jp wfr/rm-1 "{.status.steps[?(@.name==\"build\")].results[0].value}")" = "sha256:real-abc" ]'
check "every combination got it in its command" \
	'[ "$(grep -c "started with sha256:real-abc" "$RB_OUT/fan.log")" = 3 ]'
check "the bad combination failed with exit code 3" \
	'[ "$(jp wfr/rm-1 "{.status.steps[?(@.index==1)].exitCode}")" = 3 ]'
for v in ok1 ok2; do
	check "$v got SIGTERM and exited 0" 'grep -q "$v got TERM" "$RB_OUT/fan.log"'
done
check "ok1 and ok2 Cancelled" '[ "$(jp wfr/rm-1 "{.status.steps[?(@.phase==\"Cancelled\")].index}")" = "0 2" ]'
check "after never started" 'step_is rm-1 after Skipped && [ ! -e "$RB_OUT/after.log" ]'
check "containerd runs no container of the run" '[ -z "$(ns_tasks_running)" ]'
finish

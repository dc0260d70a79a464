# Crash at every write, a slice (issue 10; the full sweep is make
# test-crash): every 6th write of each scenario of test/crash/crash.py,
# the operator SIGKILLed before it is sent and after it was answered, and
# every 30th watch event, SIGKILLed once the caches applied it; then
# restarted; the invariants and the undisturbed outcome must hold at every
# point. Serial: each point runs an operator of its own in its namespace,
# and the fixture's operator must not reconcile those namespaces.
RB_RECORD=0 # crash.py records each point's namespace itself
. "$(dirname "$0")/../lib.sh"
: "${RUNBOOK_CLUSTER_DIR:?}" "${RUNBOOK_OPERATOR_DIR:?}"
op() { "$RB_SRC/test/operator.sh" "$1" "$RUNBOOK_CLUSTER_DIR" "$RUNBOOK_OPERATOR_DIR"; }
if ! "$RUNBOOK_OPERATOR_DIR/runbook-operator" --version >/dev/null ||
	! grep -qa RUNBOOK_CRASH_AT "$RUNBOOK_OPERATOR_DIR/runbook-operator"; then
	echo "# skipped: this build has no crash hook (RUNBOOK_TEST_HOOKS is on in the debug and asan presets)"
	exit 77
fi
eval "lib_exit=$(trap -p EXIT | sed 's/^trap -- //; s/ EXIT$//')"
trap 'op start >/dev/null 2>&1; eval "$lib_exit"' EXIT
op stop >/dev/null
out=$(python3 "$RB_SRC/test/crash/crash.py" --cluster "$RUNBOOK_CLUSTER_DIR" --bindir "$RUNBOOK_OPERATOR_DIR" \
	--stride "${RB_CRASH_STRIDE:-6}" --jobs "${RB_CRASH_JOBS:-3}" 2>&1)
rc=$?
echo "$out"
check "every crash point converged with the invariants and the undisturbed outcome" '[ $rc -eq 0 ]'
finish

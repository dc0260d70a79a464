# A standby that may not read its Lease (a lease name or namespace its Role
# does not cover: 403 on every try) says so once at warn level, not at
# debug every retry period, and says it again only after a request worked.
# It never leads, so it disturbs nothing: not serial.
. "$(dirname "$0")/../lib.sh"
: "${RUNBOOK_CLUSTER_DIR:?}" "${RUNBOOK_OPERATOR_DIR:?}"
kc=$RUNBOOK_CLUSTER_DIR/operator.kubeconfig # test/operator.sh's ServiceAccount
log=$RB_TMP/op.log
ASAN_OPTIONS=detect_leaks=1 "$RUNBOOK_OPERATOR_DIR/runbook-operator" --kubeconfig "$kc" --namespace "$NS" \
	--health-addr 127.0.0.1:0 --metrics-addr 127.0.0.1:0 --webhook-addr 127.0.0.1:0 --ui-addr 127.0.0.1:0 --leader-elect \
	--leader-elect-namespace "$NS" --leader-elect-lease-name denied --leader-elect-retry-period 300ms \
	>"$log" 2>&1 </dev/null &
pid=$!
eventually 20 "the refusal is logged at warn level" 'grep -q "level=warn msg=\"lease: read failed\".*http=403" "$log"'
sleep 2 # several more refused tries
kill -TERM "$pid"
wait "$pid"
rc=$?
check "said once, not at every retry ($(grep -c "lease: read failed" "$log") lines)" \
	'[ "$(grep -c "lease: read failed" "$log")" = 1 ]'
check "it exits 0 on SIGTERM ($rc)" '[ $rc -eq 0 ]'
check "no sanitizer report" '! grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$log"'
finish

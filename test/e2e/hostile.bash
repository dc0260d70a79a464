# Helpers of the hostile_*.sh tests (issue 10, "Bad input"): sourced after
# test/lib.sh. Not a test itself (CMake registers test/e2e/*.sh only).
: "${RUNBOOK_CLUSTER_DIR:?}"
. "$RUNBOOK_CLUSTER_DIR/env" # API_SERVER, ETCD_ENDPOINT, RUNBOOK_CLUSTER_BIN
OPERATOR_HEALTH=
. "$RUNBOOK_CLUSTER_DIR/operator.env"
RB_OPERATOR_USER=${RB_OPERATOR_USER:-system:serviceaccount:runbook-e2e:runbook-operator-e2e}
RB_PKI=$RUNBOOK_CLUSTER_DIR/pki

# The admin's direct line to the API server (raw bytes, no kubectl).
admin_curl() {
	curl -sS --cacert "$RB_PKI/ca.crt" --cert "$RB_PKI/admin.crt" --key "$RB_PKI/admin.key" "$@"
}

# The operator under test is alive (its pid) and answers /healthz.
operator_alive() {
	local pid
	pid=$(cat "$RUNBOOK_CLUSTER_DIR/pids/operator.pid" 2>/dev/null) || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$OPERATOR_HEALTH/healthz")" = 200 ]
}

# op_deletes RESOURCE [NAMESPACE] : the names of the objects of RESOURCE in
# NS that the operator's user had a DELETE of accepted (audit log). Fails
# (so a check on it fails) when the audit log cannot be read.
op_deletes() {
	python3 "$RB_SRC/test/recorder/recorder.py" deletes --audit "$RUNBOOK_CLUSTER_DIR/logs/audit.log" \
		--namespace "${2:-$NS}" --user "$RB_OPERATOR_USER" --resource "$1" | cut -d' ' -f1
}
# not_deleted_by_operator RESOURCE NAME [NAMESPACE]
not_deleted_by_operator() {
	if [ "${RUNBOOK_TEST_AS_ADMIN:-0}" = 1 ]; then
		echo "# skipped: who deleted $1/$2 (the operator runs as admin)"
		return 0
	fi
	check "the operator never DELETEd $1/$2 (audit log)" "d=\$(op_deletes $1 ${3:-}) && ! grep -qxF '$2' <<<\"\$d\""
}

# etcd_edit KEY PYTHON : rewrites a stored object in etcd, bypassing the API
# server's schema, CEL and pruning (what an admin with etcd access, or a CRD
# without a schema, lets through). PYTHON edits `obj`; RAW maps a string
# (as it appears JSON-encoded) to raw bytes put in its place.
etcd_edit() {
	python3 - "$1" "$2" <<'PY'
import json, os, subprocess, sys
key, code = sys.argv[1], sys.argv[2]
etcd = [os.environ["RUNBOOK_CLUSTER_BIN"] + "/etcdctl", "--endpoints=" + os.environ["ETCD_ENDPOINT"]]
raw = subprocess.run(etcd + ["get", key, "--print-value-only"], check=True, capture_output=True).stdout
obj = json.loads(raw)
RAW = {}
exec(code)
data = json.dumps(obj).encode()
for k, v in RAW.items():
    data = data.replace(json.dumps(k).encode(), v)
subprocess.run(etcd + ["put", key], input=data, check=True, capture_output=True)
PY
}
export RUNBOOK_CLUSTER_BIN ETCD_ENDPOINT

# hostile_finish PATTERN... : finish, but recorder FAIL lines matching one of
# the extended regexps are breaches the test made on purpose (a Job carrying
# the run label without being the run's breaks I6; a phase set to Succeeded
# by hand while a pod runs breaks I1 and I4): printed as expected, not
# counted. Every other recorder line counts as usual.
hostile_finish() {
	record_kill
	if [ -n "$RB_EVENTS" ]; then
		sleep 1
		local audit=() out line pat expected
		if [ -f "$RUNBOOK_CLUSTER_DIR/logs/audit.log" ] && [ "${RUNBOOK_TEST_AS_ADMIN:-0}" != 1 ]; then
			audit=(--audit "$RUNBOOK_CLUSTER_DIR/logs/audit.log" --namespace "$NS" --operator-user "$RB_OPERATOR_USER")
		fi
		echo "# recorder: $RB_EVENTS"
		out=$(python3 "$RB_SRC/test/recorder/recorder.py" check --events "$RB_EVENTS" "${audit[@]}" 2>&1)
		while IFS= read -r line; do
			case $line in
			"ok   - "*) pass "${line#ok   - }" ;;
			"FAIL - "*)
				expected=0
				for pat in "$@"; do [[ ${line#FAIL - } =~ $pat ]] && expected=1; done
				if [ $expected = 1 ]; then echo "# expected (made on purpose): ${line#FAIL - }"; else fail "${line#FAIL - }"; fi
				;;
			*) echo "$line" ;;
			esac
		done <<<"$out"
		RB_EVENTS=
	fi
	check "the operator is alive and /healthz answers 200" 'operator_alive'
	operator_log_on_failure
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

# event_of REASON [OBJECT] : messages of the Events with that reason in NS.
event_of() {
	kget events --field-selector "reason=$1${2:+,involvedObject.name=$2}" \
		-o 'jsonpath={range .items[*]}{.type}{" "}{.message}{"\n"}{end}'
}

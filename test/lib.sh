# Helpers for the shell tests (smoke, e2e). Source it; it needs KUBECONFIG
# (CTest sets it to the fixture cluster's) and sets up a fresh namespace NS
# that is deleted when the test exits.
set -uo pipefail
: "${KUBECONFIG:?KUBECONFIG must point at the test cluster}"
export KUBECONFIG
RB_SRC=${RUNBOOK_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
passed=0
failed=0

pass() { passed=$((passed + 1)); echo "ok   - $*"; }
fail() { failed=$((failed + 1)); echo "FAIL - $*"; }

# check DESCRIPTION COMMAND... : passes when the command succeeds.
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

# eventually SECONDS DESCRIPTION COMMAND... : polls until the command succeeds.
eventually() {
	local secs=$1 what=$2 deadline
	shift 2
	deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		if [ $SECONDS -ge "$deadline" ]; then
			fail "$what (not within ${secs}s)"
			return 1
		fi
		sleep 0.2
	done
	pass "$what"
}

# jsonpath KIND/NAME PATH : prints a field of an object in NS.
jp() { kubectl -n "$NS" get "$1" -o "jsonpath=$2" 2>/dev/null; }

# field_is KIND/NAME PATH VALUE
field_is() { [ "$(jp "$1" "$2")" = "$3" ]; }

# pod_phase JOB : the phase of the (first) pod of a Job in NS.
pod_phase() { kubectl -n "$NS" get pod -l "job-name=$1" -o 'jsonpath={.items[0].status.phase}' 2>/dev/null; }
pod_phase_is() { [ "$(pod_phase "$1")" = "$2" ]; }

# exists KIND/NAME : the object is there in NS.
exists() { kubectl -n "$NS" get "$1" -o name >/dev/null 2>&1; }

# none KIND [SELECTOR] : no object of that kind (matching) in NS.
none() { [ -z "$(kubectl -n "$NS" get "$1" ${2:+-l "$2"} -o name 2>/dev/null)" ]; }

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

# A job manifest: job NAME [ANNOTATIONS_YAML_FLOW] [GRACE]
job_yaml() {
	cat <<JOB
apiVersion: batch/v1
kind: Job
metadata: {name: $1, namespace: $NS}
spec:
  backoffLimit: 0
  template:
    metadata: {annotations: ${2:-{\}}}
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: ${3:-30}
      containers: [{name: step, image: busybox:1.36, command: [sleep, "1"]}]
JOB
}

NS="rb-$(basename "$0" .sh | tr '_' '-' | cut -c1-40)-$RANDOM"
kubectl create namespace "$NS" >/dev/null || { echo "cannot create namespace $NS"; exit 1; }
trap 'kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1' EXIT
# Pods need the namespace's default ServiceAccount (made by the controller
# manager's token controller).
for _ in $(seq 1 100); do kubectl -n "$NS" get sa default >/dev/null 2>&1 && break; sleep 0.1; done

# --- Workflow helpers (e2e) ----------------------------------------------------
run_phase() { jp "wfr/$1" '{.status.phase}'; }
phase_is() { [ "$(run_phase "$1")" = "$2" ]; }
step_phase() { jp "wfr/$1" "{.status.steps[?(@.name==\"$2\")].phase}"; }
step_is() { [ "$(step_phase "$1" "$2")" = "$3" ]; }
cond_reason() { jp "wfr/$1" "{.status.conditions[?(@.type==\"$2\")].reason}"; }
# Pods of a run that still run: not Succeeded or Failed (terminating pods
# included: they are Running with a deletionTimestamp until they are gone).
run_pods() {
	kubectl -n "$NS" get pods -l "runbook.dev/run=$1" \
		-o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' 2>/dev/null | grep -cvE '^(Succeeded|Failed|)$'
}
no_run_pods_except() { # RUN STEP...: no pod of RUN outside the given steps exists
	local run=$1 sel
	shift
	sel="runbook.dev/run=$run"
	[ $# -gt 0 ] && sel="$sel,runbook.dev/step notin ($(
		IFS=,
		echo "$*"
	))"
	[ -z "$(kubectl -n "$NS" get pods -l "$sel" -o name 2>/dev/null)" ]
}
# Prints the operator log's tail when a test failed (CTest shows it).
operator_log_on_failure() {
	if [ "$failed" -gt 0 ] && [ -n "${RUNBOOK_CLUSTER_DIR:-}" ]; then
		echo "--- operator log (tail)"
		tail -n 40 "$RUNBOOK_CLUSTER_DIR/logs/operator.log" 2>/dev/null
		echo "--- run status"
		kubectl -n "$NS" get wfr -o yaml 2>/dev/null | sed -n '/^  status:/,/^- /p' | grep -v -A0 workflowSpec | head -80
	fi
}

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

# check DESCRIPTION 'COMMAND' : passes when the command string, evaluated in
# this shell (lib functions work), succeeds. Exactly one command string: the
# old form `check D [ a ] && [ b ]` ran `[ a ]` as the check and `[ b ]`
# outside it, so a second condition could silently go unchecked.
check() {
	if [ $# -ne 2 ]; then
		fail "${1:-} (check takes one command string: check DESCRIPTION 'COMMAND'; got $# arguments)"
		return 1
	fi
	if eval "$2"; then pass "$1"; else fail "$1"; fi
}

# eventually SECONDS DESCRIPTION 'COMMAND' : polls the command string until it
# succeeds; on timeout the last attempt's stderr is shown.
eventually() {
	if [ $# -ne 3 ]; then
		fail "${2:-} (eventually takes one command string: eventually SECONDS DESCRIPTION 'COMMAND'; got $# arguments)"
		return 1
	fi
	local _rb_deadline=$((SECONDS + $1)) _rb_err=$RB_TMP/eventually.$BASHPID
	until eval "$3" >/dev/null 2>"$_rb_err"; do
		if [ $SECONDS -ge "$_rb_deadline" ]; then
			fail "$2 (not within ${1}s)"
			sed 's/^/    /' "$_rb_err" | tail -n 5
			return 1
		fi
		sleep 0.2
	done
	pass "$2"
}

# The query helpers below never take an API error for "nothing there": a
# failed kubectl prints its error on stderr and the helper returns 2, so the
# check fails (an eventually keeps polling).
# kget ARGS... : kubectl -n NS get ARGS, stdout only when it succeeded.
kget() {
	local out err=$RB_TMP/kget.$BASHPID
	if out=$(kubectl -n "$NS" get "$@" 2>"$err"); then
		printf '%s' "$out"
	else
		echo "kubectl get $*: $(cat "$err")" >&2
		return 2
	fi
}

# jp KIND/NAME PATH : prints a field of an object in NS.
jp() { kget "$1" -o "jsonpath=$2"; }

# field_is KIND/NAME PATH VALUE
field_is() {
	local v
	v=$(jp "$1" "$2") || return 2
	[ "$v" = "$3" ]
}

# pod_phase JOB : the phase of the (first) pod of a Job in NS.
pod_phase() { kget pod -l "job-name=$1" -o 'jsonpath={.items[0].status.phase}'; }
pod_phase_is() {
	local v
	v=$(pod_phase "$1") || return 2
	[ "$v" = "$2" ]
}

# exists KIND/NAME : the object is there in NS (1: NotFound, 2: any other error).
exists() {
	local err=$RB_TMP/exists.$BASHPID
	kubectl -n "$NS" get "$1" -o name >/dev/null 2>"$err" && return 0
	grep -q '(NotFound)' "$err" && return 1
	echo "kubectl get $1: $(cat "$err")" >&2
	return 2
}

# none KIND[/NAME] [SELECTOR] : no object of that kind (matching) in NS.
none() {
	local out err=$RB_TMP/none.$BASHPID
	if out=$(kubectl -n "$NS" get "$1" ${2:+-l "$2"} -o name 2>"$err"); then
		[ -z "$out" ]
	elif grep -q '(NotFound)' "$err"; then
		return 0 # KIND/NAME that is not there
	else
		echo "kubectl get $1: $(cat "$err")" >&2
		return 2
	fi
}

finish() {
	record_stop
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

# --- the invariant recorder (test/recorder, docs/testing.md) -----------------
# e2e tests (or any test with RB_RECORD=1; RB_RECORD=0 turns it off) record
# every event of runs, Jobs and pods in NS; finish checks the invariants.
RB_REC_PID=
RB_EVENTS=
record_start() {
	local dir=${RUNBOOK_CLUSTER_DIR:+$RUNBOOK_CLUSTER_DIR/record}
	dir=${dir:-$(mktemp -d "${TMPDIR:-/tmp}/runbook-record.XXXXXX")}
	mkdir -p "$dir"
	RB_EVENTS=$dir/$NS.jsonl
	# --parent: the recorder also goes when a test replaces the EXIT trap.
	python3 "$RB_SRC/test/recorder/recorder.py" watch --kubeconfig "$KUBECONFIG" --namespace "$NS" \
		--out "$RB_EVENTS" --parent $$ 2>>"$RB_EVENTS.log" &
	RB_REC_PID=$!
	for _ in $(seq 1 100); do
		[ -f "$RB_EVENTS.ready" ] && return 0
		kill -0 "$RB_REC_PID" 2>/dev/null || break
		sleep 0.1
	done
	fail "recorder not watching within 10 s ($(tail -n 3 "$RB_EVENTS.log" 2>/dev/null))"
	record_kill
	RB_EVENTS=
}
record_kill() {
	[ -n "$RB_REC_PID" ] || return 0
	kill -TERM "$RB_REC_PID" 2>/dev/null && wait "$RB_REC_PID" 2>/dev/null
	RB_REC_PID=
}
# record_check_now [SETTLE_SECONDS] : checks what was recorded so far (after a
# settle, default 1 s, so the last changes are in); counts its ok/FAIL lines.
record_check_now() {
	[ -n "$RB_EVENTS" ] || return 0
	sleep "${1:-1}"
	local audit=() line out rc nfail=0
	if [ -n "${RUNBOOK_CLUSTER_DIR:-}" ] && [ -f "$RUNBOOK_CLUSTER_DIR/logs/audit.log" ] &&
		[ "${RUNBOOK_TEST_AS_ADMIN:-0}" != 1 ]; then
		# The operator's user: test/operator.sh's ServiceAccount.
		audit=(--audit "$RUNBOOK_CLUSTER_DIR/logs/audit.log" --namespace "$NS"
			--operator-user "${RB_OPERATOR_USER:-system:serviceaccount:runbook-e2e:runbook-operator-e2e}")
	fi
	echo "# recorder: $RB_EVENTS"
	out=$(python3 "$RB_SRC/test/recorder/recorder.py" check --events "$RB_EVENTS" "${audit[@]}" 2>&1)
	rc=$? # 1 with FAIL lines: violations; anything else without: the checker broke
	while IFS= read -r line; do
		case $line in
		"ok   - "*) pass "${line#ok   - }" ;;
		"FAIL - "*) fail "${line#FAIL - }" && nfail=$((nfail + 1)) ;;
		*) echo "$line" ;;
		esac
	done <<<"$out"
	[ $rc -eq 0 ] || [ $nfail -gt 0 ] || fail "recorder: the checker exited with status $rc"
}
record_stop() {
	[ -n "$RB_REC_PID" ] || return 0
	local before=$failed
	sleep 1 # settle: let the watches deliver the last changes
	record_kill
	record_check_now 0
	RB_EVENTS=
	# Tests show the operator log before finish; show it for the recorder's
	# failures too.
	if [ "$failed" -gt "$before" ] && [ "$before" -eq 0 ]; then operator_log_on_failure; fi
}

RB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/runbook-test.XXXXXX")
NS="rb-$(basename "$0" .sh | tr '_' '-' | cut -c1-40)-$RANDOM"
kubectl create namespace "$NS" >/dev/null || { echo "cannot create namespace $NS"; exit 1; }
trap 'record_kill; kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1; rm -rf "$RB_TMP"' EXIT
case $(basename "$(dirname "$0")") in e2e | realnode) rb_e2e=1 ;; *) rb_e2e=0 ;; esac
if [ "${RB_RECORD:-}" = 1 ] || { [ "${RB_RECORD:-}" != 0 ] && [ $rb_e2e = 1 ]; }; then
	record_start
fi
# Pods need the namespace's default ServiceAccount (made by the controller
# manager's token controller).
for _ in $(seq 1 100); do kubectl -n "$NS" get sa default >/dev/null 2>&1 && break; sleep 0.1; done

# user_kubeconfig FILE USER NAMESPACE : a kubeconfig for the test cluster
# (its server and CA) with USER as the user, in YAML flow form, e.g.
# '{token: "..."}' or '{tokenFile: "/path"}'.
user_kubeconfig() {
	local server ca
	server=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}') || return 2
	ca=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.certificate-authority}') || return 2
	cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "$server", certificate-authority: "$ca"}}]
users: [{name: u, user: $2}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: $3}}]
current-context: c
KC
}

# --- Workflow helpers (e2e) ----------------------------------------------------
run_phase() { jp "wfr/$1" '{.status.phase}'; }
phase_is() { field_is "wfr/$1" '{.status.phase}' "$2"; }
step_phase() { jp "wfr/$1" "{.status.steps[?(@.name==\"$2\")].phase}"; }
step_is() {
	local v
	v=$(step_phase "$1" "$2") || return 2
	[ "$v" = "$3" ]
}
cond_reason() { jp "wfr/$1" "{.status.conditions[?(@.type==\"$2\")].reason}"; }
# run_pods RUN : prints how many pods of a run still run: not Succeeded or
# Failed (terminating pods included: they are Running with a
# deletionTimestamp until they are gone). Prints nothing if the query failed.
run_pods() {
	local phases
	phases=$(kget pods -l "runbook.dev/run=$1" -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}') ||
		return 2
	grep -cvE '^(Succeeded|Failed|)$' <<<"$phases"
	return 0
}
no_run_pods_except() { # RUN STEP...: no pod of RUN outside the given steps exists
	local run=$1 sel out
	shift
	sel="runbook.dev/run=$run"
	[ $# -gt 0 ] && sel="$sel,runbook.dev/step notin ($(
		IFS=,
		echo "$*"
	))"
	out=$(kget pods -l "$sel" -o name) || return 2
	[ -z "$out" ]
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

# --- the real node (test/cluster/node.sh; test/realnode/*.sh) ---------------
# need_real_node : exits 77 (skipped) when the cluster has no real node; under
# CI=true that is a failure instead, so CI cannot pass without these tests.
need_real_node() {
	REAL_NODE=
	[ -n "${RUNBOOK_CLUSTER_DIR:-}" ] && . "$RUNBOOK_CLUSTER_DIR/env"
	if [ -z "${REAL_NODE:-}" ]; then
		if [ "${CI:-}" = true ]; then
			fail "the test cluster has no real node (test/cluster/up.sh said why)"
			finish
			exit 1 # finish only returns its status
		fi
		echo "# skipped: the test cluster has no real node (RUNBOOK_REAL_NODE=auto found this machine unable)"
		exit 77
	fi
	# What the steps write at the moments that matter (started, got TERM,
	# exiting), on the host: their pods are gone by the end of the test, and
	# their logs with them.
	RB_OUT=$RB_TMP/out
	mkdir -p "$RB_OUT"
	chmod 777 "$RB_OUT"
}

# real_step NAME SCRIPT [EXTRA] : one step (YAML flow mapping, for steps: or
# finally:) that runs SCRIPT in busybox sh on the real node, with its pod
# tagged by RUNBOOK_TEST_MARK=$NS in the environment (procs_of finds its
# processes) and `log MSG` appending "SECONDS MSG" to $RB_OUT/NAME.log.
real_step() {
	local script="log() { echo \"\$*\"; echo \"\$(date +%s) \$*\" >>/out/$1.log; }; $2"
	printf '  - {name: %s, image: "runbook.test/busybox:1", command: [sh, -c, %s], %s
     env: [{name: RUNBOOK_TEST_MARK, value: "%s"}], volumeMounts: [{name: out, mountPath: /out}],
     podTemplate: {spec: {nodeSelector: {runbook.dev/real-node: "true"},
       tolerations: [{key: runbook.dev/real-node, operator: Exists, effect: NoSchedule}],
       volumes: [{name: out, hostPath: {path: "%s", type: Directory}}]}}}\n' \
		"$1" "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$script")" "${3:-}" "$NS" "$RB_OUT"
}

# wf_head NAME [GRACE] : a Workflow in NS up to its `steps:` line (then
# real_step lines); run_doc NAME WORKFLOW : "---" and a WorkflowRun of it.
wf_head() {
	printf 'apiVersion: runbook.dev/v1alpha1\nkind: Workflow\nmetadata: {name: %s, namespace: %s}\nspec:\n' "$1" "$NS"
	[ -n "${2:-}" ] && printf '  terminationGracePeriodSeconds: %s\n' "$2"
	printf '  steps:\n'
}
run_doc() {
	printf -- '---\napiVersion: runbook.dev/v1alpha1\nkind: WorkflowRun\nmetadata: {name: %s, namespace: %s}\nspec: {workflowRef: {name: %s}}\n' "$1" "$NS" "$2"
}

# procs_of MARK : PIDs on this host whose environment has RUNBOOK_TEST_MARK=MARK.
procs_of() {
	local p
	for p in /proc/[0-9]*; do
		{ tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qx "RUNBOOK_TEST_MARK=$1" && echo "${p#/proc/}"
	done
	return 0
}

# ns_tasks_running : containers of NS that the real node's containerd still
# runs (pause sandboxes included).
ns_tasks_running() {
	local ids
	ids=$(ctr --address "$REAL_NODE_SOCK" -n k8s.io containers ls -q \
		"labels.\"io.kubernetes.pod.namespace\"==$NS") || return 2
	ctr --address "$REAL_NODE_SOCK" -n k8s.io tasks ls | awk 'NR > 1 && $3 == "RUNNING" {print $1}' |
		grep -Fx -f <(printf '%s\n' "$ids") || true
}

# step_exit_codes STEP : the exit codes the recorder saw on STEP's pods.
step_exit_codes() {
	python3 - "$RB_EVENTS" "$1" <<'PY'
import json, sys
codes = {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("kind") == "Pod" and (e.get("labels") or {}).get("runbook.dev/step") == sys.argv[2] and e.get("exit_codes"):
        codes[e["uid"]] = e["exit_codes"]
print(" ".join(str(c) for cs in codes.values() for c in cs))
PY
}

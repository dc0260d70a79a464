#!/usr/bin/env bash
# CRD validation against a live API server: schema, defaults, CEL rules,
# transition rules, printer columns, short names, category, field selectors,
# status subresource and watch. Needs no operator.
#
# Env: KUBECONFIG (a live cluster), RUNBOOK_SOURCE_DIR (repo root; defaults
# to this file's ../..). Idempotent: works in a fresh namespace of its own,
# deleted on exit; the CRDs are applied server-side (re-applying is a no-op).
set -uo pipefail

src=${RUNBOOK_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
: "${KUBECONFIG:?KUBECONFIG must point at a live cluster}"
export KUBECONFIG
work=$(mktemp -d "${TMPDIR:-/tmp}/rb-crd-test.XXXXXX")
# A private discovery cache: short names and categories must come from this
# cluster's discovery, never from a cache left by another cluster.
export KUBECACHEDIR=$work/kube-cache
ns=rb-crd-$(date +%s)-$$-$RANDOM

cleanup() {
	kubectl delete namespace "$ns" --wait=false --ignore-not-found >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
pass() {
	passed=$((passed + 1))
	echo "PASS: $1"
}
fail() {
	failed=$((failed + 1))
	echo "FAIL: $1" >&2
	[ -z "${2:-}" ] || printf '%s\n' "$2" | sed 's/^/    /' >&2
}
k() { kubectl --request-timeout=30s "$@"; }

# expect_ok DESC CMD... : CMD must succeed.
expect_ok() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then pass "$desc"; else fail "$desc" "$out"; fi
}
# expect_reject DESC PATTERN CMD... : CMD must fail and its output must
# match the extended regex PATTERN (the API server's reason for rejecting).
expect_reject() {
	local desc=$1 pat=$2 out
	shift 2
	if out=$("$@" 2>&1); then
		fail "$desc (was accepted)" "$out"
	elif printf '%s' "$out" | grep -Eq -- "$pat"; then
		pass "$desc"
	else
		fail "$desc (rejected, but output does not match /$pat/)" "$out"
	fi
}
# expect_eq DESC WANT GOT
expect_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "want '$2', got '$3'"; fi
}
# apply_doc: server-side apply of YAML on stdin into the test namespace.
apply_doc() { k apply --server-side -n "$ns" -f -; }

# --- install ------------------------------------------------------------------
if ! out=$(k apply --server-side --force-conflicts -f "$src/crds/" 2>&1); then
	echo "cannot apply CRDs from $src/crds/:" >&2
	echo "$out" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
pass "CRDs apply server-side"
expect_ok "CRDs become Established" \
	k wait --for=condition=Established --timeout=60s \
	crd/workflows.runbook.dev crd/workflowruns.runbook.dev
# Established can come a moment before discovery lists the new kinds.
ok=0
for _ in $(seq 1 60); do
	if k get rwf,wfr -n default >/dev/null 2>&1; then
		ok=1
		break
	fi
	sleep 0.5
done
if [ $ok = 1 ]; then pass "discovery serves rwf and wfr"; else fail "discovery never served rwf, wfr"; fi
expect_ok "namespace $ns created" k create namespace "$ns"

# --- examples -------------------------------------------------------------------
for f in "$src"/manifests/examples/*.yaml; do
	expect_ok "example $(basename "$f") applies" k apply --server-side -n "$ns" -f "$f"
done
expect_ok "a dry-run re-apply of the examples is accepted (no update rule trips)" \
	k apply --server-side --dry-run=server -n "$ns" -f "$src/manifests/examples/"

# --- defaults -------------------------------------------------------------------
apply_doc >/dev/null 2>&1 <<'EOF'
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: defaults}
spec:
  steps:
  - {name: only, image: busybox:1.36}
  finally:
  - {name: last, image: busybox:1.36}
EOF
got=$(k get rwf defaults -n "$ns" -o jsonpath='{.spec.steps[0].retries}|{.spec.finally[0].retries}|{.spec.failurePolicy}|{.spec.concurrencyPolicy}|{.spec.terminationGracePeriodSeconds}' 2>&1)
expect_eq "defaults: retries 0 (steps, finally), FailFast, Allow, grace 30" "0|0|FailFast|Allow|30" "$got"

# --- Workflow rejections --------------------------------------------------------
expect_reject "dependsOn naming an unknown step is rejected by CEL" \
	'dependsOn must name steps of this workflow' apply_doc <<'EOF'
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: bad-dep}
spec:
  steps:
  - {name: a, image: busybox:1.36}
  - {name: b, image: busybox:1.36, dependsOn: [a, nope]}
EOF
expect_eq "the rejected Workflow was not stored" "" \
	"$(k get rwf bad-dep -n "$ns" --ignore-not-found -o name 2>&1)"

expect_reject "a step that depends on itself is rejected" \
	'a step cannot depend on itself' apply_doc <<'EOF'
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: self-dep}
spec:
  steps:
  - {name: a, image: busybox:1.36, dependsOn: [a]}
EOF

expect_reject "a finally step depending on a main step is rejected" \
	'dependsOn of a finally step must name finally steps' apply_doc <<'EOF'
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: fin-dep}
spec:
  steps:
  - {name: a, image: busybox:1.36}
  finally:
  - {name: z, image: busybox:1.36, dependsOn: [a]}
EOF

expect_reject "a main step depending on a finally step is rejected" \
	'dependsOn must name steps of this workflow' apply_doc <<'EOF'
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: main-on-fin}
spec:
  steps:
  - {name: a, image: busybox:1.36, dependsOn: [z]}
  finally:
  - {name: z, image: busybox:1.36}
EOF

expect_reject "a finally step named like a main step is rejected" \
	'finally step cannot have the name of a step' apply_doc <<'EOF'
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: fin-clash}
spec:
  steps:
  - {name: a, image: busybox:1.36}
  finally:
  - {name: a, image: busybox:1.36}
EOF

expect_reject "a step name that is not a DNS label is rejected" \
	'spec\.steps\[0\]\.name.*should match' apply_doc <<'EOF'
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: bad-name}
spec:
  steps:
  - {name: Build_Step, image: busybox:1.36}
EOF

expect_reject "a step name longer than 50 characters is rejected" \
	'spec\.steps\[0\]\.name.*(Too long|at most 50)' apply_doc <<'EOF'
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: long-name}
spec:
  steps:
  - {name: a123456789b123456789c123456789d123456789e123456789f, image: busybox:1.36}
EOF

expect_reject "duplicate step names are rejected (list-map key)" \
	'[Dd]uplicate' apply_doc <<'EOF'
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: dup}
spec:
  steps:
  - {name: a, image: busybox:1.36}
  - {name: a, image: busybox:1.36}
EOF
expect_reject "duplicate step names are rejected on create too" \
	'Duplicate value' k create -n "$ns" -f - <<'EOF'
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: dup}
spec:
  steps:
  - {name: a, image: busybox:1.36}
  - {name: a, image: busybox:1.36}
EOF

expect_reject "duplicate param names are rejected" \
	'[Dd]uplicate' k create -n "$ns" -f - <<'EOF'
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: dup-param}
spec:
  params: [{name: x}, {name: x, default: "1"}]
  steps:
  - {name: a, image: busybox:1.36}
EOF

expect_reject "duplicate dependsOn entries are rejected" \
	'[Dd]uplicate' k create -n "$ns" -f - <<'EOF'
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: dup-dep}
spec:
  steps:
  - {name: a, image: busybox:1.36}
  - {name: b, image: busybox:1.36, dependsOn: [a, a]}
EOF

expect_reject "a Workflow without steps is rejected" \
	'spec\.steps' apply_doc <<'EOF'
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: no-steps}
spec: {}
EOF

expect_reject "a step without image is rejected" \
	'spec\.steps\[0\]\.image.*Required' apply_doc <<'EOF'
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: no-image}
spec:
  steps:
  - {name: a}
EOF

expect_reject "an unknown failurePolicy is rejected" \
	'spec\.failurePolicy.*Unsupported value' apply_doc <<'EOF'
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: bad-policy}
spec:
  failurePolicy: Sometimes
  steps:
  - {name: a, image: busybox:1.36}
EOF

expect_reject "negative retries are rejected" \
	'retries.*greater than or equal to 0' apply_doc <<'EOF'
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: bad-retries}
spec:
  steps:
  - {name: a, image: busybox:1.36, retries: -1}
EOF

expect_reject "podTemplate.spec.containers is rejected" \
	'must not set containers or restartPolicy' apply_doc <<'EOF'
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: pt-containers}
spec:
  steps:
  - name: a
    image: busybox:1.36
    podTemplate:
      spec:
        containers: [{name: x, image: busybox:1.36}]
EOF

expect_reject "env with both value and valueFrom is rejected" \
	'set value or valueFrom, not both' apply_doc <<'EOF'
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: env-both}
spec:
  steps:
  - name: a
    image: busybox:1.36
    env:
    - name: X
      value: "1"
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
EOF

# podTemplate keeps unknown PodSpec fields; env valueFrom keeps its fields.
apply_doc >/dev/null 2>&1 <<'EOF'
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: preserve}
spec:
  steps:
  - name: a
    image: busybox:1.36
    env:
    - name: POD
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    resources:
      requests: {cpu: 100m, memory: 1Gi}
      limits: {cpu: 1}
    podTemplate:
      metadata: {labels: {team: x}}
      spec:
        serviceAccountName: builder
        tolerations: [{key: gpu, operator: Exists}]
EOF
got=$(k get rwf preserve -n "$ns" -o jsonpath='{.spec.steps[0].podTemplate.spec.serviceAccountName}|{.spec.steps[0].podTemplate.spec.tolerations[0].key}|{.spec.steps[0].env[0].valueFrom.fieldRef.fieldPath}|{.spec.steps[0].resources.limits.cpu}' 2>&1)
expect_eq "podTemplate.spec and env valueFrom keep unknown fields" "builder|gpu|metadata.name|1" "$got"

# --- WorkflowRun ------------------------------------------------------------------
apply_doc >/dev/null 2>&1 <<'EOF'
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: to-cancel}
spec:
  workflowRef: {name: hello}
  cancel: true
EOF
expect_reject "spec.cancel true -> false is rejected" \
	'spec.cancel cannot be unset once true' \
	k patch wfr to-cancel -n "$ns" --type=merge -p '{"spec":{"cancel":false}}'
expect_reject "removing spec.cancel after true is rejected" \
	'spec.cancel cannot be unset once true' \
	k patch wfr to-cancel -n "$ns" --type=merge -p '{"spec":{"cancel":null}}'
expect_eq "spec.cancel is still true" "true" \
	"$(k get wfr to-cancel -n "$ns" -o jsonpath='{.spec.cancel}' 2>&1)"

apply_doc >/dev/null 2>&1 <<'EOF'
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: no-cancel}
spec:
  workflowRef: {name: hello}
EOF
expect_ok "a run without spec.cancel can be updated (rule holds with the field absent)" \
	k patch wfr no-cancel -n "$ns" --type=merge -p '{"spec":{"params":[{"name":"x","value":"1"}]}}'
expect_ok "spec.cancel absent -> false is accepted" \
	k patch wfr no-cancel -n "$ns" --type=merge -p '{"spec":{"cancel":false}}'
expect_ok "spec.cancel false -> true is accepted" \
	k patch wfr no-cancel -n "$ns" --type=merge -p '{"spec":{"cancel":true}}'
expect_ok "spec.cancel true -> true is accepted" \
	k patch wfr no-cancel -n "$ns" --type=merge -p '{"spec":{"cancel":true}}'
expect_reject "then true -> false is rejected" \
	'spec.cancel cannot be unset once true' \
	k patch wfr no-cancel -n "$ns" --type=merge -p '{"spec":{"cancel":false}}'

expect_reject "changing spec.workflowRef.name is rejected" \
	'workflowRef.name is immutable' \
	k patch wfr hello-1 -n "$ns" --type=merge -p '{"spec":{"workflowRef":{"name":"diamond"}}}'

expect_reject "a run without workflowRef is rejected" \
	'spec.workflowRef.*Required' apply_doc <<'EOF'
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: no-ref}
spec: {}
EOF
expect_reject "duplicate run params are rejected" \
	'[Dd]uplicate' k create -n "$ns" -f - <<'EOF'
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: dup-param}
spec:
  workflowRef: {name: hello}
  params: [{name: a, value: "1"}, {name: a, value: "2"}]
EOF

# --- status subresource -----------------------------------------------------------
# A run whose Workflow does not exist: an operator running against this
# cluster keeps it Pending, never Succeeded, so a Succeeded can only come
# from the main-resource write the API server must ignore.
apply_doc >/dev/null 2>&1 <<'EOF'
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: status-probe}
spec: {workflowRef: {name: absent}}
EOF
# The write must be accepted (its annotation lands) with the status part
# dropped: a patch refused for any reason would also leave the phase alone.
if out=$(k patch wfr status-probe -n "$ns" --type=merge \
	-p '{"metadata":{"annotations":{"runbook.dev/probe":"1"}},"status":{"phase":"Succeeded"}}' 2>&1); then
	pass "a patch through the main resource that sets status is accepted"
else
	fail "a patch through the main resource that sets status is accepted" "$out"
fi
sleep 1
got=$(k get wfr status-probe -n "$ns" -o jsonpath='{.metadata.annotations.runbook\.dev/probe}|{.status.phase}' 2>&1)
case $got in
"1|Succeeded") fail "a status write through the main resource is ignored" "got phase Succeeded" ;;
"1|"*) pass "a status write through the main resource is ignored (the rest of the patch applied)" ;;
*) fail "a status write through the main resource is ignored" "the patch did not apply: $got" ;;
esac
expect_reject "an unknown status.phase is rejected" \
	'status\.phase.*Unsupported value' \
	k patch wfr no-cancel -n "$ns" --subresource=status --type=merge -p '{"status":{"phase":"Exploded"}}'

# --- printer columns, short names, category, field selectors -------------------
header=$(k get wfr -n "$ns" 2>&1 | head -n1)
if printf '%s' "$header" | grep -Eq '^NAME +WORKFLOW +PHASE +PROGRESS +STEP +AGE *$'; then
	pass "kubectl get wfr shows NAME WORKFLOW PHASE PROGRESS STEP AGE"
else
	fail "kubectl get wfr columns" "$header"
fi
header=$(k get rwf -n "$ns" 2>&1 | head -n1)
if printf '%s' "$header" | grep -Eq '^NAME +READY +AGE *$'; then
	pass "kubectl get rwf shows NAME READY AGE"
else
	fail "kubectl get rwf columns" "$header"
fi
# Status columns show the status values, whoever wrote them (the operator,
# when one runs against this cluster, or this patch).
ok=0
for _ in 1 2 3 4 5 6 7 8 9 10; do
	k patch wfr hello-1 -n "$ns" --subresource=status --type=merge \
		-p '{"status":{"phase":"Running","progress":"1/2","currentStep":"greet"}}' >/dev/null 2>&1
	want=$(k get wfr hello-1 -n "$ns" -o jsonpath='{.spec.workflowRef.name} {.status.phase} {.status.progress} {.status.currentStep}')
	row=$(k get wfr hello-1 -n "$ns" --no-headers 2>&1)
	set -- $want
	step_col="(<none> +)?"
	[ -n "${4:-}" ] && step_col="$4 +"
	if [ $# -ge 3 ] && printf '%s' "$row" | grep -Eq "^hello-1 +$1 +$2 +$3 +$step_col[0-9]"; then
		ok=1
		break
	fi
	sleep 1
done
if [ $ok = 1 ]; then pass "printer columns show workflowRef.name, phase, progress, currentStep"; else fail "printer column values" "$row"; fi

got=$(k get rwf -n "$ns" -o name 2>&1 | sort | tr '\n' ' ')
case " $got " in *" workflow.runbook.dev/hello "*) pass "short name rwf lists Workflows" ;;
*) fail "short name rwf" "$got" ;; esac
got=$(k get wfr -n "$ns" -o name 2>&1 | sort | tr '\n' ' ')
case " $got " in *" workflowrun.runbook.dev/hello-1 "*) pass "short name wfr lists WorkflowRuns" ;;
*) fail "short name wfr" "$got" ;; esac
got=$(k get runbook -n "$ns" -o name 2>&1 | tr '\n' ' ')
case " $got " in *" workflow.runbook.dev/hello "*" workflowrun.runbook.dev/hello-1 "* | *" workflowrun.runbook.dev/hello-1 "*" workflow.runbook.dev/hello "*)
	pass "category 'runbook' lists both kinds" ;;
*) fail "kubectl get runbook" "$got" ;; esac
got=$(k get wfr -n "$ns" --field-selector spec.workflowRef.name=diamond -o name 2>&1 | tr '\n' ' ')
expect_eq "field selector spec.workflowRef.name" "workflowrun.runbook.dev/diamond-1 " "$got"

# --- watch ------------------------------------------------------------------------
# --watch-only prints nothing from the initial list: any line naming the run
# is a real watch event, caused by the annotation made one second in.
(sleep 1 && k annotate wfr diamond-1 -n "$ns" runbook.dev/test-touch="$(date +%s%N)" --overwrite >/dev/null 2>&1) &
toucher=$!
out=$(kubectl get wfr -n "$ns" --watch-only --output-watch-events --request-timeout=5s 2>&1)
wait "$toucher"
if printf '%s' "$out" | grep -Eq 'MODIFIED +diamond-1'; then
	pass "a watch on workflowruns delivers a MODIFIED event"
else
	fail "watch on workflowruns" "$out"
fi
out=$(kubectl get wfr -n "$ns" -w --request-timeout=5s 2>&1)
if printf '%s' "$out" | grep -q '^hello-1 '; then
	pass "kubectl get wfr -w shows the runs"
else
	fail "kubectl get wfr -w" "$out"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# matrix (issue 14): a 3x2 fan-out where one combination fails tears down
# its running siblings at once (fail-fast across the fan-out), skips the
# dependents and ends only when their pods are gone; a fan-out over a
# step's result (a JSON array) with maxParallel runs one Job per value,
# <run>-<step>-<index>, and publishes its results as a JSON array in
# combination order. On kwok: runbook.dev/test-matrix-index picks the
# combination that fails (docs/testing.md).
. "$(dirname "$0")/../lib.sh"
cat <<'Y' | sed "s/\$NS/$NS/" | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: grid, namespace: $NS}
spec:
  terminationGracePeriodSeconds: 5
  steps:
  - name: test
    image: busybox:1.36
    args: ["--os=$(matrix.os)", "--v=$(matrix.v)"]
    matrix:
      params:
      - {name: os, values: [linux, mac, win]}
      - {name: v, values: ["1", "2"]}
    podTemplate:
      metadata:
        annotations:
          runbook.dev/test-duration: 120s
          runbook.dev/test-exit-code: "3"
          runbook.dev/test-matrix-index: "3"
          runbook.dev/test-fail-after: 4s
          runbook.dev/test-sigterm-exit: 300ms
  - {name: report, image: busybox:1.36, dependsOn: [test]}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: grid-1, namespace: $NS}
spec: {workflowRef: {name: grid}}
---
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: spread, namespace: $NS}
spec:
  steps:
  - name: list
    image: busybox:1.36
    results: [{name: targets}]
    podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 300ms, runbook.dev/test-termination-message: '{"targets":["eu","us","ap","sa"]}'}}}
  - name: deploy
    image: busybox:1.36
    dependsOn: [list]
    args: ["--region=$(matrix.region)"]
    matrix:
      params: [{name: region, values: "$(steps.list.results.targets)"}]
      maxParallel: 2
    results: [{name: url}]
    podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1s, runbook.dev/test-termination-message: '{"url":"https://x"}'}}}
  - {name: notify, image: busybox:1.36, dependsOn: [deploy], args: ["$(steps.deploy.results.url)"]}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: spread-1, namespace: $NS}
spec: {workflowRef: {name: spread}}
Y
check "grid-1: one combination fails, the run Fails" \
	'kubectl -n "$NS" wait --for=jsonpath="{.status.phase}"=Failed wfr/grid-1 --timeout=90s'
check "  combination 3 (mac, 2) Failed, and its Job was grid-1-test-3" \
	'[ "$(jp wfr/grid-1 "{.status.steps[?(@.index==3)].phase}")" = Failed ] && [ "$(jp wfr/grid-1 "{.status.steps[?(@.index==3)].job}")" = grid-1-test-3 ] && [ "$(jp wfr/grid-1 "{.status.steps[?(@.index==3)].matrix.os}")" = mac ]'
check "  its running siblings were torn down: Cancelled, not run to the end" \
	'[ "$(jp wfr/grid-1 "{.status.steps[?(@.phase==\"Cancelled\")].index}")" = "0 1 2 4 5" ]'
check "  the run ended long before the siblings' 120 s" \
	's=$(jp wfr/grid-1 "{.status.startTime}"); e=$(jp wfr/grid-1 "{.status.completionTime}"); [ $(( $(date -d "$e" +%s) - $(date -d "$s" +%s) )) -lt 60 ]'
check "  the step itself Failed, naming the combination" \
	'[ "$(step_phase grid-1 test | cut -d" " -f1)" = Failed ] && jp wfr/grid-1 "{.status.message}" | grep -q "step \"test\[3\]\" failed: exit code 3"'
check "  its dependent Skipped, no Job" \
	'step_is grid-1 report Skipped && ! kubectl -n "$NS" get job grid-1-report >/dev/null 2>&1'
check "  no pod of the run is still running" \
	'[ -z "$(kubectl -n "$NS" get pods -l runbook.dev/run=grid-1 --field-selector=status.phase=Running -o name)" ]'
check "  the Jobs carry their index" \
	'[ "$(jp job/grid-1-test-3 "{.metadata.labels.runbook\.dev/matrix-index}")" = 3 ] && [ "$(jp job/grid-1-test-3 "{.spec.template.spec.containers[0].args}")" = "[\"--os=mac\",\"--v=2\"]" ]'

check "spread-1: a fan-out over a step's result Succeeds" \
	'kubectl -n "$NS" wait --for=condition=Succeeded wfr/spread-1 --timeout=120s'
check "  one Job per value, in order" \
	'for i in 0 1 2 3; do kubectl -n "$NS" get job "spread-1-deploy-$i" >/dev/null || exit 1; done; [ "$(jp job/spread-1-deploy-2 "{.spec.template.spec.containers[0].args[0]}")" = --region=ap ]'
check "  four combination entries with their values" \
	'[ "$(jp wfr/spread-1 "{.status.steps[?(@.name==\"deploy\")].matrix.region}")" = "eu us ap sa" ]'
check "  the step's results: a JSON array in combination order" \
	'[ "$(jp wfr/spread-1 "{.status.steps[?(@.name==\"notify\")].phase}")" = Succeeded ] && [ "$(jp job/spread-1-notify "{.spec.template.spec.containers[0].args[0]}")" = "[\"https://x\",\"https://x\",\"https://x\",\"https://x\"]" ]'
check "  never more than 2 combinations at once (maxParallel)" \
	'python3 - "$(kubectl -n "$NS" get jobs -l runbook.dev/run=spread-1,runbook.dev/step=deploy -o jsonpath="{range .items[*]}{.status.startTime} {.status.completionTime}{\"\n\"}{end}")" <<"P"
import sys, datetime
iv = [l.split() for l in sys.argv[1].splitlines() if l.strip()]
t = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
ev = sorted([(t(a), 1) for a, b in iv] + [(t(b), -1) for a, b in iv], key=lambda e: (e[0], e[1]))
n = m = 0
for _, d in ev:
    n += d; m = max(m, n)
sys.exit(0 if len(iv) == 4 and m <= 2 else 1)
P'
finish

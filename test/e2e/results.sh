#!/usr/bin/env bash
# results (issue 14): a step's container writes {"name": "value"} to its
# termination message (on kwok: the annotation
# runbook.dev/test-termination-message, docs/testing.md); the controller
# records the declared names in status.steps[].results and builds the
# dependents' Jobs from them: a Job's args, a `when`, a finally step that
# reads phases and the run's status, and spec.results -> status.results.
# A declared result not written fails its step (ResultMissing) and the
# run follows failurePolicy. A reference that could race its producer is
# refused before any run starts.
. "$(dirname "$0")/../lib.sh"
cat <<'Y' | sed "s/\$NS/$NS/" | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: ship, namespace: $NS}
spec:
  steps:
  - name: build
    image: busybox:1.36
    results: [{name: digest}, {name: size}, {name: tag, default: latest}]
    podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 300ms, runbook.dev/test-termination-message: '{"digest":"sha256:abc$HOME","size":12,"junk":"x"}'}}}
  - name: deploy
    image: busybox:1.36
    dependsOn: [build]
    args: ["--image=app@$(steps.build.results.digest)", "$(steps.build.results.tag)"]
    env: [{name: SIZE, value: "$(steps.build.results.size)"}]
    when: [{input: "$(steps.build.results.size)", operator: notin, values: ["0"]}]
    podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 300ms}}}
  - name: canary
    image: busybox:1.36
    dependsOn: [build]
    when: [{input: "$(steps.build.results.tag)", operator: in, values: [canary]}]
    results: [{name: url}]
    podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 300ms}}}
  - name: after-canary
    image: busybox:1.36
    dependsOn: [canary]
    args: ["$(steps.canary.results.url)"]
  - name: after-deploy
    image: busybox:1.36
    dependsOn: [canary, deploy]
    podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 300ms}}}
  finally:
  - name: notify
    image: busybox:1.36
    args: ["$(run.status)", "$(steps.deploy.phase)", "$(steps.canary.phase)", "$(steps.build.results.digest)"]
    podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 300ms}}}
  results:
  - {name: image, value: "app@$(steps.build.results.digest)"}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: ship-1, namespace: $NS}
spec: {workflowRef: {name: ship}}
Y
args_of() { jp "job/$1" '{.spec.template.spec.containers[0].args}'; }
check "ship-1 Succeeded" 'kubectl -n "$NS" wait --for=condition=Succeeded wfr/ship-1 --timeout=90s'
check "  build's results recorded (declared names only, a default, a number as text)" \
	'[ "$(jp wfr/ship-1 "{.status.steps[?(@.name==\"build\")].results}")" = "[{\"name\":\"digest\",\"value\":\"sha256:abc\$HOME\"},{\"name\":\"size\",\"value\":\"12\"},{\"name\":\"tag\",\"value\":\"latest\"}]" ]'
check "  deploy's Job args carry the result (\$ doubled for the kubelet)" \
	'[ "$(args_of ship-1-deploy)" = "[\"--image=app@sha256:abc\$\$HOME\",\"latest\"]" ]'
check "  and its env" '[ "$(jp job/ship-1-deploy "{.spec.template.spec.containers[0].env[0].value}")" = 12 ]'
check "  build's container reads its results from File" \
	'[ "$(jp job/ship-1-build "{.spec.template.spec.containers[0].terminationMessagePolicy}")" = File ]'
check "  canary: when on a result is false, Skipped WhenConditionFalse" \
	'step_is ship-1 canary Skipped && [ "$(jp wfr/ship-1 "{.status.steps[?(@.name==\"canary\")].reason}")" = WhenConditionFalse ]'
check "  after-canary reads canary's result: Skipped too, no Job" \
	'step_is ship-1 after-canary Skipped && ! kubectl -n "$NS" get job ship-1-after-canary >/dev/null 2>&1'
check "  after-deploy (depends on canary, reads nothing of it) ran" 'step_is ship-1 after-deploy Succeeded'
check "  the finally step read the run's status, phases and a result" \
	'[ "$(args_of ship-1-notify)" = "[\"Succeeded\",\"Succeeded\",\"Skipped\",\"sha256:abc\$\$HOME\"]" ]'
check "  status.results published" \
	'[ "$(jp wfr/ship-1 "{.status.results[0].value}")" = "app@sha256:abc\$HOME" ]'

cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: forgetful, namespace: $NS}
spec:
  steps:
  - name: build
    image: busybox:1.36
    results: [{name: digest}]
    podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 300ms, runbook.dev/test-termination-message: '{"other":"1"}'}}}
  - {name: deploy, image: busybox:1.36, dependsOn: [build], args: ["\$(steps.build.results.digest)"]}
  finally:
  - {name: notify, image: busybox:1.36, args: ["\$(run.status)", "\$(steps.build.phase)"], podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 300ms}}}}
---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: forgetful-1, namespace: $NS}
spec: {workflowRef: {name: forgetful}}
Y
check "a declared result not written: the run Fails" \
	'kubectl -n "$NS" wait --for=jsonpath="{.status.phase}"=Failed wfr/forgetful-1 --timeout=90s'
check "  the step Failed with ResultMissing, naming the result" \
	'[ "$(jp wfr/forgetful-1 "{.status.steps[?(@.name==\"build\")].reason}")" = ResultMissing ] && jp wfr/forgetful-1 "{.status.message}" | grep -q "did not write its result \"digest\""'
check "  its dependent never got a Job" '! kubectl -n "$NS" get job forgetful-1-deploy >/dev/null 2>&1'
check "  the finally step was told" '[ "$(args_of forgetful-1-notify)" = "[\"Failed\",\"Failed\"]" ]'

cat <<Y | kubectl apply -f - >/dev/null
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: racy, namespace: $NS}
spec:
  steps:
  - {name: build, image: busybox:1.36, results: [{name: digest}]}
  - {name: deploy, image: busybox:1.36, args: ["\$(steps.build.results.digest)"]}
Y
check "a result read by a step that does not depend on its producer: Stalled" \
	'kubectl -n "$NS" wait --for=condition=Stalled workflow/racy --timeout=30s'
check "  saying the read could race" \
	'jp workflow/racy "{.status.conditions[?(@.type==\"Stalled\")].message}" | grep -q "could race"'
check "results on a finally step are refused by the API server" \
	'! kubectl apply -f - >/dev/null 2>&1 <<Z
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: badfin, namespace: $NS}
spec:
  steps: [{name: a, image: busybox:1.36}]
  finally: [{name: f, image: busybox:1.36, results: [{name: r}]}]
Z'
finish

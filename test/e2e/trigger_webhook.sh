# Triggers, the webhook (issue 12): real HTTP clients (curl, openssl dgst)
# against the fixture operator's --webhook-addr, a real API server behind.
# Each answer's exact status, and what it starts: a signed GitHub delivery
# starts one run with the mapped params, its redelivery answers 200 and
# starts nothing; every refused delivery (bad or missing signature, unknown
# Trigger, body too large, not JSON, wrong media type, filter miss, missing
# pointer, stale generic timestamp, over the rate) starts nothing. Chunked
# bodies, GitLab tokens and the generic scheme work. The Trigger's status
# counts the deliveries and says Ready; a missing Secret is 503 and
# Ready=False SecretNotFound.
. "$(dirname "$0")/../lib.sh"
: "${RUNBOOK_CLUSTER_DIR:?}"
. "$RUNBOOK_CLUSTER_DIR/operator.env"
: "${OPERATOR_WEBHOOK:?the fixture operator has no webhook listener}"
SECRET="It's a Secret to Everybody"

kubectl apply -f - >/dev/null <<YAML
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: build, namespace: $NS}
spec:
  params:
  - name: sha
  - name: event
  - name: ref
    default: refs/heads/unknown
  steps:
  - name: a
    image: busybox
    command: ["echo", "\$(params.sha)", "\$(params.event)", "\$(params.ref)"]
---
apiVersion: v1
kind: Secret
metadata: {name: hook, namespace: $NS}
stringData: {token: "$SECRET"}
---
apiVersion: runbook.dev/v1alpha1
kind: Trigger
metadata: {name: gh, namespace: $NS}
spec:
  workflowRef: {name: build}
  webhook:
    secretRef: {name: hook, key: token}
    signature: github
    filter:
      headers: {X-GitHub-Event: [push]}
    params:
    - {name: sha, pointer: /after}
    - {name: event, header: X-GitHub-Event}
    - {name: ref, pointer: /ref}
  runTemplate:
    metadata:
      labels: {team: ci}
---
apiVersion: runbook.dev/v1alpha1
kind: Trigger
metadata: {name: gl, namespace: $NS}
spec:
  workflowRef: {name: build}
  webhook:
    secretRef: {name: hook, key: token}
    signature: gitlab
    params:
    - {name: sha, pointer: /checkout_sha}
    - {name: event, value: gitlab}
---
apiVersion: runbook.dev/v1alpha1
kind: Trigger
metadata: {name: gen, namespace: $NS}
spec:
  workflowRef: {name: build}
  webhook:
    secretRef: {name: hook, key: token}
    params:
    - {name: sha, pointer: /sha}
    - {name: event, value: generic}
---
apiVersion: runbook.dev/v1alpha1
kind: Trigger
metadata: {name: badcron, namespace: $NS}
spec:
  workflowRef: {name: build}
  schedule: {cron: "61 * * * *"}
---
apiVersion: runbook.dev/v1alpha1
kind: Trigger
metadata: {name: badzone, namespace: $NS}
spec:
  workflowRef: {name: build}
  schedule: {cron: "@daily", timeZone: Mars/Olympus_Mons}
---
apiVersion: runbook.dev/v1alpha1
kind: Trigger
metadata: {name: nowf, namespace: $NS}
spec:
  workflowRef: {name: not-there}
  schedule: {cron: "@daily"}
---
apiVersion: runbook.dev/v1alpha1
kind: Trigger
metadata: {name: nosecret, namespace: $NS}
spec:
  workflowRef: {name: build}
  webhook:
    secretRef: {name: absent, key: token}
YAML

# send TRIGGER BODY [CURL ARGS]: POSTs BODY; prints the status code, keeps
# the answer in $RB_TMP/answer.
send() {
	local t=$1 body=$2
	shift 2
	printf '%s' "$body" >"$RB_TMP/body"
	curl -s -o "$RB_TMP/answer" -w '%{http_code}' --max-time 20 -X POST "$OPERATOR_WEBHOOK/hooks/$NS/$t" \
		-H 'Content-Type: application/json' "$@" --data-binary @"$RB_TMP/body"
}
hmac() { printf '%s' "$1" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/.* //'; }
gh() { # BODY DELIVERY [EVENT]: a GitHub-signed delivery
	send gh "$1" -H "X-GitHub-Event: ${3:-push}" -H "X-GitHub-Delivery: $2" -H "X-Hub-Signature-256: sha256=$(hmac "$1")"
}
answer() { python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); print(a.get(sys.argv[2]) if not isinstance(a.get(sys.argv[2]),dict) else a[sys.argv[2]]["name"])' "$RB_TMP/answer" "$1"; }
runs_of() { kget wfr -l "runbook.dev/trigger=$1" -o name | grep -c . ; }
param_of() { jp "wfr/$1" "{.spec.params[?(@.name==\"$2\")].value}"; }

eventually 30 "the Triggers are Ready" \
	'[ "$(jp rtr/gh "{.status.conditions[?(@.type==\"Ready\")].status}")" = True ] &&
	 [ "$(jp rtr/gen "{.status.conditions[?(@.type==\"Ready\")].status}")" = True ]'

ready_reason() { jp "rtr/$1" "{.status.conditions[?(@.type==\"Ready\")].reason}"; }
eventually 30 "what the CRD cannot check is reported in Ready: a bad cron field, an unknown zone, a missing Workflow" \
	'[ "$(ready_reason badcron)" = InvalidSchedule ] && [ "$(ready_reason badzone)" = InvalidSchedule ] &&
	 [ "$(ready_reason nowf)" = WorkflowNotFound ]'
check "  with a message naming the field" \
	'jp rtr/badcron "{.status.conditions[0].message}" | grep -q "minute" &&
	 jp rtr/badzone "{.status.conditions[0].message}" | grep -q "timeZone"'
check "the printer columns say the Trigger's kind" '[ "$(jp rtr/badcron "{.status.kind}")" = schedule ] && [ "$(jp rtr/gh "{.status.kind}")" = webhook ]'

push='{"ref":"refs/heads/main","after":"4f1e2d3c","repository":{"full_name":"acme/app"}}'
code=$(gh "$push" delivery-1)
check "a signed GitHub push is answered 201 ($code)" '[ "$code" = 201 ] && [ "$(answer reason)" = Created ]'
run=$(answer run)
check "the run is named after the delivery ($run)" '[[ "$run" =~ ^gh-[0-9a-f]{10}$ ]]'
check "its params come from the body and the headers" \
	'[ "$(param_of "$run" sha)" = 4f1e2d3c ] && [ "$(param_of "$run" event)" = push ] && [ "$(param_of "$run" ref)" = refs/heads/main ]'
check "it carries the trigger label, the template's label and the delivery annotation" \
	'[ "$(jp "wfr/$run" "{.metadata.labels.runbook\.dev/trigger}")" = gh ] &&
	 [ "$(jp "wfr/$run" "{.metadata.labels.team}")" = ci ] &&
	 [ "$(jp "wfr/$run" "{.metadata.annotations.runbook\.dev/delivery}")" = delivery-1 ] &&
	 [ -z "$(jp "wfr/$run" "{.metadata.ownerReferences}")" ]'
eventually 60 "the run it started succeeds like any other" 'phase_is "$run" Succeeded'
code=$(gh "$push" delivery-1)
check "the same delivery again is answered 200 with the same run ($code)" \
	'[ "$code" = 200 ] && [ "$(answer run)" = "$run" ]'

code=$(send gh "$push" -H 'X-GitHub-Event: push' -H 'X-GitHub-Delivery: bad-1' -H "X-Hub-Signature-256: sha256=$(hmac "x$push")")
check "a wrong signature is 401 ($code)" '[ "$code" = 401 ]'
msg_wrong=$(answer message)
code=$(send gh "$push" -H 'X-GitHub-Event: push' -H 'X-GitHub-Delivery: bad-2')
check "a missing signature is 401 with the same message ($code)" '[ "$code" = 401 ] && [ "$(answer message)" = "$msg_wrong" ]'
code=$(send gh 'not json' -H 'X-GitHub-Event: push' -H 'X-GitHub-Delivery: bad-3' -H "X-Hub-Signature-256: sha256=$(hmac 'not json')")
check "a signed body that is not JSON is 400 ($code)" '[ "$code" = 400 ]'
code=$(send gh "$push" -H 'Content-Type: text/plain' -H 'X-GitHub-Event: push' -H 'X-GitHub-Delivery: bad-4' -H "X-Hub-Signature-256: sha256=$(hmac "$push")")
check "a body that is not application/json is 415 ($code)" '[ "$code" = 415 ]'
code=$(gh "$push" bad-5 issues)
check "a delivery the filter does not take is 202, skipped, naming why ($code)" \
	'[ "$code" = 202 ] && answer skipped | grep -q "X-GitHub-Event"'
nosha='{"ref":"refs/heads/main"}'
code=$(gh "$nosha" bad-6)
check "a pointer missing from the body, with no default, is 422 naming it ($code)" \
	'[ "$code" = 422 ] && answer message | grep -q "/after"'
code=$(send nope "$push")
check "an unknown Trigger is 404 ($code)" '[ "$code" = 404 ]'
big=$(python3 -c 'print("{\"a\":\"" + "x" * (2 * 1024 * 1024) + "\"}")')
code=$(gh "$big" bad-7)
check "a 2 MiB body is 413 ($code)" '[ "$code" = 413 ]'
code=$(send nosecret '{}')
check "a Trigger whose Secret is missing answers 503 with Retry-After ($code)" '[ "$code" = 503 ]'
eventually 30 "and says Ready=False, SecretNotFound" \
	'[ "$(jp rtr/nosecret "{.status.conditions[?(@.type==\"Ready\")].reason}")" = SecretNotFound ]'

# Chunked: GitLab and many proxies send them.
gl='{"object_kind":"push","checkout_sha":"77aa"}'
code=$(send gl "$gl" -H 'Transfer-Encoding: chunked' -H "X-Gitlab-Token: $SECRET" -H 'X-Gitlab-Event-UUID: gl-1')
check "a GitLab delivery, chunked, with its token, is 201 ($code)" '[ "$code" = 201 ] && [ "$(param_of "$(answer run)" sha)" = 77aa ]'
code=$(send gl "$gl" -H "X-Gitlab-Token: ${SECRET}x" -H 'X-Gitlab-Event-UUID: gl-2')
check "a wrong GitLab token is 401 ($code)" '[ "$code" = 401 ]'

ts=$(date +%s)
g='{"sha":"c0ffee"}'
code=$(send gen "$g" -H "X-Runbook-Timestamp: $ts" -H "X-Runbook-Signature: sha256=$(hmac "$ts.$g")" -H 'Idempotency-Key: gen-1')
check "a generic delivery (curl + openssl dgst) is 201 ($code)" '[ "$code" = 201 ] && [ "$(param_of "$(answer run)" sha)" = c0ffee ]'
old=$((ts - 600))
code=$(send gen "$g" -H "X-Runbook-Timestamp: $old" -H "X-Runbook-Signature: sha256=$(hmac "$old.$g")" -H 'Idempotency-Key: gen-2')
check "a generic delivery signed 10 minutes ago is 401: no replay ($code)" '[ "$code" = 401 ]'

check "every refused delivery started nothing: one run per accepted delivery" \
	'[ "$(runs_of gh)" = 1 ] && [ "$(runs_of gl)" = 1 ] && [ "$(runs_of gen)" = 1 ] && [ "$(runs_of nosecret)" = 0 ]'

# Over the rate (the fixture's default: 10/s, burst 20): 40 distinct
# deliveries at once.
for i in $(seq 1 40); do
	b="{\"ref\":\"refs/heads/main\",\"after\":\"r$i\"}"
	printf '%s\0' "$b"
done | xargs -0 -P 20 -I{} sh -c 'd=$(printf "%s" "$1" | sha256sum | cut -c1-12); s=$(printf "%s" "$1" | openssl dgst -sha256 -hmac "$2" | sed "s/.* //");
	curl -s -o /dev/null -w "%{http_code}\n" -X POST "$3" -H "Content-Type: application/json" -H "X-GitHub-Event: push" -H "X-GitHub-Delivery: $d" -H "X-Hub-Signature-256: sha256=$s" --data-binary "$1"' _ {} "$SECRET" "$OPERATOR_WEBHOOK/hooks/$NS/gh" >"$RB_TMP/burst"
n201=$(grep -c '^201$' "$RB_TMP/burst")
n429=$(grep -c '^429$' "$RB_TMP/burst")
check "a burst of 40 is partly refused with 429 ($n201 created, $n429 refused)" \
	'[ "$n429" -gt 0 ] && [ $((n201 + n429)) = 40 ]'
eventually 20 "and only the created ones exist" '[ "$(runs_of gh)" = $((1 + n201)) ]'
code=$(curl -s -o /dev/null -D "$RB_TMP/headers" -w '%{http_code}' -X POST "$OPERATOR_WEBHOOK/hooks/$NS/nosecret" -H 'Content-Type: application/json' -d '{}')
check "503 answers carry Retry-After" 'grep -qi "^retry-after: [0-9]" "$RB_TMP/headers"'

# The missing Secret appears: Ready follows within the leader's minute,
# with no delivery and no change to the Trigger.
kubectl -n "$NS" create secret generic absent --from-literal=token="$SECRET" >/dev/null
eventually 75 "a Secret created later makes its Trigger Ready" '[ "$(ready_reason nosecret)" = Ready ]'

eventually 30 "the Trigger's status counts the deliveries by result" \
	'[ "$(jp rtr/gh "{.status.deliveries.created}")" = $((1 + n201)) ] &&
	 [ "$(jp rtr/gh "{.status.deliveries.duplicate}")" = 1 ] &&
	 [ "$(jp rtr/gh "{.status.deliveries.unauthorized}")" = 2 ] &&
	 [ "$(jp rtr/gh "{.status.deliveries.skipped}")" = 1 ]'
finish

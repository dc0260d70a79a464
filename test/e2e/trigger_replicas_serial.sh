# Triggers across replicas and failures (issue 12), two leader-elected
# replicas, each with its webhook listener:
#   - the same delivery POSTed to both at once, ten times over: one run
#     each time, one answer 201 and the other 200 (or both see the run);
#   - a schedule "*/1" on the test clock (RUNBOOK_TEST_CLOCK: a minute
#     every 4 s, test builds only) fires each slot once, in order, across a
#     SIGKILL of the leader: no slot twice, none lost;
#   - a third replica serves the webhook over TLS (--webhook-tls-cert/key)
#     and picks up a rotated certificate without a restart;
#   - with kube-apiserver stopped, a delivery is 503 with Retry-After; the
#     same delivery after the restart is 201 (last: the informers' relist
#     backoff after the outage would slow what follows).
. "$(dirname "$0")/../lib.sh"
: "${RUNBOOK_CLUSTER_DIR:?}" "${RUNBOOK_OPERATOR_DIR:?}"
if ! grep -qa RUNBOOK_TEST_CLOCK "$RUNBOOK_OPERATOR_DIR/runbook-operator"; then
	echo "# skipped: this build has no test clock (RUNBOOK_TEST_HOOKS is on in the debug and asan presets)"
	exit 77
fi
op() { "$RB_SRC/test/operator.sh" "$1" "$RUNBOOK_CLUSTER_DIR" "$RUNBOOK_OPERATOR_DIR"; }
log=$RUNBOOK_CLUSTER_DIR/logs
SECRET=s3cret-for-replicas
SPEED=15 # one virtual minute every 4 s
CLOCK_REF=$(date +%s)
pids=()
hports=()
wports=()
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
replica() { # N [FLAGS...]
	local n=$1
	shift
	hports[$n]=$(free_port)
	wports[$n]=$(free_port)
	RUNBOOK_TEST_CLOCK="$CLOCK_REF:$SPEED" ASAN_OPTIONS=detect_leaks=1 setsid "$RUNBOOK_OPERATOR_DIR/runbook-operator" \
		--kubeconfig "$KUBECONFIG" --leader-elect --leader-elect-namespace "$NS" \
		--leader-elect-lease-duration 2s --leader-elect-renew-deadline 1500ms \
		--leader-elect-retry-period 250ms --health-addr "127.0.0.1:${hports[$n]}" --metrics-addr 0 \
		--webhook-addr "127.0.0.1:${wports[$n]}" --ui-addr 0 "$@" >>"$log/trigger-replica-$n.log" 2>&1 </dev/null &
	pids[$n]=$!
}
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:${hports[$1]}/readyz")" = 200 ]; }
holder() { kubectl -n "$NS" get lease runbook-operator -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }
leader_index() {
	local h
	h=$(holder)
	[ -n "$h" ] || return 1
	for i in 1 2; do grep -q "identity=$h" "$log/trigger-replica-$i.log" 2>/dev/null && { echo "$i"; return 0; }; done
	return 1
}
cleanup() {
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	"$RB_SRC/test/cluster/ctl.sh" "$RUNBOOK_CLUSTER_DIR" start kube-apiserver >/dev/null 2>&1 || true
	op start >/dev/null 2>&1
	eval "$lib_exit"
}
eval "lib_exit=$(trap -p EXIT | sed 's/^trap -- //; s/ EXIT$//')"
trap cleanup EXIT
op stop >/dev/null
rm -f "$log"/trigger-replica-*.log

kubectl apply -f - >/dev/null <<YAML
apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: w, namespace: $NS}
spec:
  params: [{name: id, default: none}]
  steps: [{name: a, image: busybox, command: ["echo", "\$(params.id)"]}]
---
apiVersion: v1
kind: Secret
metadata: {name: hook, namespace: $NS}
stringData: {token: "$SECRET"}
---
apiVersion: runbook.dev/v1alpha1
kind: Trigger
metadata: {name: hook, namespace: $NS}
spec:
  workflowRef: {name: w}
  webhook:
    secretRef: {name: hook, key: token}
    params: [{name: id, pointer: /id}]
YAML
replica 1
replica 2
eventually 30 "both replicas are ready" 'ready 1 && ready 2'
eventually 20 "one of them leads" 'leader_index'
eventually 30 "the Trigger is Ready" '[ "$(jp rtr/hook "{.status.conditions[?(@.type==\"Ready\")].status}")" = True ]'

post() { # PORT BODY KEY TS: a generic-signed delivery; prints the status
	local sig
	sig=$(printf '%s' "$4.$2" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/.* //')
	curl -s -o /dev/null -w '%{http_code}' --max-time 20 -X POST "http://127.0.0.1:$1/hooks/$NS/hook" \
		-H 'Content-Type: application/json' -H "Idempotency-Key: $3" -H "X-Runbook-Timestamp: $4" \
		-H "X-Runbook-Signature: sha256=$sig" --data-binary "$2"
}

# --- one delivery, both replicas, at once ------------------------------------
codes=""
for i in $(seq 1 10); do
	ts=$(date +%s)
	post "${wports[1]}" "{\"id\":\"d$i\"}" "same-$i" "$ts" >"$RB_TMP/a" &
	other=$!
	post "${wports[2]}" "{\"id\":\"d$i\"}" "same-$i" "$ts" >"$RB_TMP/b"
	wait "$other" # not a bare wait: the replicas are children too
	codes+="$(cat "$RB_TMP/a")/$(cat "$RB_TMP/b") "
done
check "each delivery sent to both replicas at once is answered 201 or 200 by both ($codes)" \
	'! echo "$codes" | tr " " "\n" | grep -v "^$" | grep -qvE "^(201/200|200/201|200/200|201/201)$"'
check "never 201 twice for one delivery" '! echo "$codes" | grep -q "201/201"'
eventually 20 "and one run per delivery: 10 runs" \
	'[ "$(kget wfr -l runbook.dev/trigger=hook -o name | grep -c .)" = 10 ]'
# Both replicas report what they answered: the counters sum over them, and
# their writes settle rather than answer each other's (each putting back
# its own lastResult) forever.
eventually 20 "the Trigger's status counts all 20 answers: 10 created, 10 duplicates" \
	'[ "$(jp rtr/hook "{.status.deliveries.created}")" = 10 ] && [ "$(jp rtr/hook "{.status.deliveries.duplicate}")" = 10 ]'
sleep 2
rv0=$(jp rtr/hook '{.metadata.resourceVersion}')
sleep 5
rv1=$(jp rtr/hook '{.metadata.resourceVersion}')
check "  then settles: no write over 5 s (rv $rv0 -> $rv1)" '[ "$rv0" = "$rv1" ]'

# --- a schedule across a leader SIGKILL ---------------------------------------
kubectl apply -f - >/dev/null <<YAML
apiVersion: runbook.dev/v1alpha1
kind: Trigger
metadata: {name: tick, namespace: $NS}
spec:
  workflowRef: {name: w}
  schedule:
    cron: "*/1 * * * *"
    params: [{name: id, value: tick}]
YAML
slots() { kget wfr -l runbook.dev/trigger=tick -o 'jsonpath={range .items[*]}{.metadata.name}{"\n"}{end}' | sed 's/^tick-//' | sort -n; }
eventually 40 "the schedule fires (3 slots)" '[ "$(slots | grep -c .)" -ge 3 ]'
first=$(leader_index)
kill -KILL "${pids[$first]}"
replica "$first" # back as a standby, as a kubelet would restart it
eventually 40 "the other replica leads" 'i=$(leader_index) && [ "$i" != "$first" ] || grep -q "msg=leading" "$log/trigger-replica-$first.log"'
n0=$(slots | grep -c .)
eventually 60 "the schedule goes on (3 more slots after the takeover)" '[ "$(slots | grep -c .)" -ge $((n0 + 3)) ]'
kubectl -n "$NS" patch rtr tick --type merge -p '{"spec":{"schedule":{"suspend":true}}}' >/dev/null
sleep 2
s=$(slots | tr '\n' ' ')
check "every slot fired once, consecutive minutes, none lost across the SIGKILL ($s)" \
	'python3 -c "import sys; m=[int(x) for x in sys.argv[1:]]; sys.exit(0 if m == list(range(m[0], m[0]+len(m))) else 1)" $s'
check "each scheduled run carries its slot's time" \
	'n=$(slots | head -1) && [ "$(jp "wfr/tick-$n" "{.metadata.annotations.runbook\.dev/scheduled-time}")" = "$(date -u -d "@$((n * 60))" +%FT%TZ)" ]'
check "status.lastScheduleTime is the last slot" \
	'n=$(slots | tail -1) && [ "$(jp rtr/tick "{.status.lastScheduleTime}")" = "$(date -u -d "@$((n * 60))" +%FT%TZ)" ]'
# --- TLS, and a certificate rotated under a running replica -------------------
tls=$RB_TMP/tls
mkdir -p "$tls"
mkcert() { # NAME: a self-signed pair for 127.0.0.1 in $tls/NAME.{crt,key}
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=127.0.0.1" \
		-addext "subjectAltName=IP:127.0.0.1" -keyout "$tls/$1.key" -out "$tls/$1.crt" 2>/dev/null
}
mkcert one
mkcert two
cp "$tls/one.crt" "$tls/tls.crt"
cp "$tls/one.key" "$tls/tls.key"
replica 3 --webhook-tls-cert "$tls/tls.crt" --webhook-tls-key "$tls/tls.key"
eventually 30 "a third replica, with TLS, is ready" 'ready 3'
spost() { # CA KEY: a signed delivery over https; prints the status
	local ts sig b="{\"id\":\"$2\"}"
	ts=$(date +%s)
	sig=$(printf '%s' "$ts.$b" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/.* //')
	curl -s -o /dev/null -w '%{http_code}' --max-time 20 --cacert "$1" -X POST "https://127.0.0.1:${wports[3]}/hooks/$NS/hook" \
		-H 'Content-Type: application/json' -H "Idempotency-Key: $2" -H "X-Runbook-Timestamp: $ts" \
		-H "X-Runbook-Signature: sha256=$sig" --data-binary "$b"
}
code=$(spost "$tls/one.crt" tls-1)
check "a delivery over TLS, verified against the served certificate, is 201 ($code)" '[ "$code" = 201 ]'
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:${wports[3]}/hooks/$NS/hook" -X POST -d '{}')
check "plain HTTP is not served on the TLS listener ($code)" '[ "$code" != 201 ] && [ "$code" != 202 ] && [ "$code" != 401 ]'
# Rotate as cert-manager does: write both files anew.
cp "$tls/two.key" "$tls/tls.key.new" && mv "$tls/tls.key.new" "$tls/tls.key"
cp "$tls/two.crt" "$tls/tls.crt.new" && mv "$tls/tls.crt.new" "$tls/tls.crt"
eventually 20 "the rotated certificate is served without a restart" '[ "$(spost "$tls/two.crt" tls-2)" = 201 ]'
check "  and the old one no longer verifies" '[ "$(spost "$tls/one.crt" tls-3)" = 000 ]'
kill -TERM "${pids[3]}"
wait "${pids[3]}"
rc=$?
check "the TLS replica exits 0 on SIGTERM ($rc)" '[ "$rc" = 0 ]'
unset 'pids[3]'

# --- the API server away: 503, then 201 ------------------------------------------
# The leader cannot renew its Lease and exits 1 (docs/operations.md); the
# standby keeps serving webhooks, so the delivery goes to the standby.
lead=$(leader_index)
sb=$((3 - lead))
"$RB_SRC/test/cluster/ctl.sh" "$RUNBOOK_CLUSTER_DIR" stop kube-apiserver
sleep 11 # past the Secret cache's 10 s: both the Secret read and the create fail
ts=$(date +%s)
code=$(curl -s -o /dev/null -D "$RB_TMP/h" -w '%{http_code}' --max-time 30 -X POST "http://127.0.0.1:${wports[$sb]}/hooks/$NS/hook" \
	-H 'Content-Type: application/json' -H 'Idempotency-Key: outage-1' -H "X-Runbook-Timestamp: $ts" \
	-H "X-Runbook-Signature: sha256=$(printf '%s' "$ts.{\"id\":\"outage\"}" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/.* //')" \
	--data-binary '{"id":"outage"}')
check "with kube-apiserver stopped a delivery is 503 ($code) with Retry-After" \
	'[ "$code" = 503 ] && grep -qi "^retry-after:" "$RB_TMP/h"'
"$RB_SRC/test/cluster/ctl.sh" "$RUNBOOK_CLUSTER_DIR" start kube-apiserver
for i in 1 2; do # restart what exited, as the kubelet would
	kill -0 "${pids[$i]}" 2>/dev/null || replica "$i"
done
eventually 60 "a replica leads again after the restart" 'leader_index'
eventually 60 "the same delivery after the restart is 201" \
	'[ "$(post "${wports[$sb]}" "{\"id\":\"outage\"}" outage-1 "$(date +%s)")" = 201 ]'
check "and exactly one run exists for it" \
	'[ "$(kget wfr -l runbook.dev/trigger=hook -o name | grep -c .)" = 13 ]'
eventually 30 "both replicas are ready again" 'ready 1 && ready 2'

for i in 1 2; do
	kill -TERM "${pids[$i]}" 2>/dev/null
done
for i in 1 2; do
	wait "${pids[$i]}"
	rc=$?
	check "replica $i exits 0 on SIGTERM ($rc)" '[ "$rc" = 0 ]'
done
pids=()
check "no sanitizer report in the replicas' logs" '! grep -l "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$log"/trigger-replica-*.log'
finish

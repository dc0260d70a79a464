# A CRD applied with kubectl is served, and a watch on it streams events.
. "$(dirname "$0")/../lib.sh"
grp="smoke$RANDOM.runbook.dev"
cat <<CRD | kubectl apply -f - >/dev/null
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.$grp}
spec:
  group: $grp
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
CRD
# lib.sh's own EXIT trap (recorder, namespace, temp files) runs after ours.
eval "lib_exit=$(trap -p EXIT | sed 's/^trap -- //; s/ EXIT$//')"
trap 'kubectl delete crd widgets.$grp --wait=false >/dev/null 2>&1; eval "$lib_exit"' EXIT
eventually 60 "CRD is Established" 'kubectl wait --for=condition=Established "crd/widgets.$grp" --timeout=1s'
eventually 30 "resource is served" 'kubectl -n "$NS" get "widgets.$grp"'
watch_out=$(mktemp)
kubectl -n "$NS" get "widgets.$grp" --watch-only --output-watch-events --request-timeout=8s \
	-o 'jsonpath={.type} {.object.metadata.name}{"\n"}' >"$watch_out" 2>/dev/null &
wpid=$!
sleep 1
printf 'apiVersion: %s/v1\nkind: Widget\nmetadata: {name: w1, namespace: %s}\nspec: {size: 3}\n' "$grp" "$NS" |
	kubectl apply -f - >/dev/null
kubectl -n "$NS" delete "widgets.$grp" w1 >/dev/null
eventually 10 "watch saw ADDED" 'grep -qx "ADDED w1" "$watch_out"'
eventually 10 "watch saw DELETED" 'grep -qx "DELETED w1" "$watch_out"'
kill "$wpid" 2>/dev/null
rm -f "$watch_out"
finish

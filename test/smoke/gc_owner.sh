# The garbage collector deletes a child whose ownerReference names a deleted
# owner (and keeps a child of a live owner).
. "$(dirname "$0")/../lib.sh"
kubectl -n "$NS" create configmap owner >/dev/null
kubectl -n "$NS" create configmap keeper >/dev/null
uid=$(jp configmap/owner '{.metadata.uid}')
kuid=$(jp configmap/keeper '{.metadata.uid}')
child() {
	cat <<C
apiVersion: v1
kind: ConfigMap
metadata:
  name: $1
  namespace: $NS
  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: $2, uid: $3, controller: true, blockOwnerDeletion: true}]
C
}
child child owner "$uid" | kubectl apply -f - >/dev/null
child kept keeper "$kuid" | kubectl apply -f - >/dev/null
kubectl -n "$NS" delete configmap owner --wait=false >/dev/null
# absent KIND/NAME: the API says it is not there (an API error is not "absent").
absent() { local o; o=$(kubectl -n "$NS" get "$1" --ignore-not-found -o name) && [ -z "$o" ]; }
eventually 60 "child of the deleted owner is collected" 'absent configmap/child'
sleep 1
check "child of the live owner is still there" 'exists configmap/kept'
finish

#!/usr/bin/env bash
# Builds the local control plane from Go modules and caches the binaries by
# version outside the repo, so a second run starts in seconds:
#   $RUNBOOK_CACHE/cluster/<k8s>-<etcd>-<kwok>/bin/{kube-apiserver,...,kwok}
# Prints the bin directory on stdout. Idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
ver() { awk -v m="$2" '$1==m {print $2; exit} $1=="require" && $2==m {print $3; exit}' "$here/$1/go.mod"; }
K8S=$(ver k8s k8s.io/kubernetes)
ETCD=$(ver etcd go.etcd.io/etcd/server/v3)
KWOK=$(ver kwok sigs.k8s.io/kwok)
cache=${RUNBOOK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/runbook}
bin="$cache/cluster/k8s-$K8S-etcd-$ETCD-kwok-$KWOK/bin"
mkdir -p "$bin"
log() { echo "build.sh: $*" >&2; }
# One build at a time per cache: a second caller (two suites, `make lint`
# beside `make test`) waits here and then finds the binaries built.
exec 9>"$bin/../.lock"
flock 9

# The version the Kubernetes binaries report (k8s' own hack/lib/version.sh
# stamps the same variables).
minor=$(echo "$K8S" | cut -d. -f2)
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ld="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ld="$ld -X $p.gitVersion=$K8S -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=$now"
done

if [ ! -x "$bin/kube-scheduler" ]; then
	log "building Kubernetes $K8S (cold: ~12 min on 2 cores)"
	tmp=$(mktemp -d "$bin/.k8s.XXXX")
	(cd "$here/k8s" && go build -trimpath -tags=selinux,notest,grpcnotrace \
		-ldflags="$ld" -o "$tmp/" \
		k8s.io/kubernetes/cmd/kube-apiserver \
		k8s.io/kubernetes/cmd/kube-controller-manager \
		k8s.io/kubernetes/cmd/kube-scheduler)
	# Move the scheduler last: its presence marks a complete build.
	mv "$tmp/kube-apiserver" "$tmp/kube-controller-manager" "$bin/"
	mv "$tmp/kube-scheduler" "$bin/"
	rmdir "$tmp"
fi
# kubelet and kube-proxy are for the real node (test/cluster/node.sh); their
# own step, so a cache made before the real node existed stays valid.
if [ ! -x "$bin/kube-proxy" ]; then
	log "building kubelet and kube-proxy $K8S (cold: ~3 min on 2 cores)"
	(cd "$here/k8s" && go build -trimpath -tags=selinux,notest,grpcnotrace \
		-ldflags="$ld" -o "$bin/kubelet.tmp" k8s.io/kubernetes/cmd/kubelet &&
		go build -trimpath -tags=selinux,notest,grpcnotrace \
			-ldflags="$ld" -o "$bin/kube-proxy.tmp" k8s.io/kubernetes/cmd/kube-proxy &&
		mv "$bin/kubelet.tmp" "$bin/kubelet" && mv "$bin/kube-proxy.tmp" "$bin/kube-proxy")
fi
if [ ! -x "$bin/etcdctl" ]; then
	log "building etcd $ETCD"
	(cd "$here/etcd" && go build -trimpath -ldflags="-s -w" -o "$bin/etcd.tmp" go.etcd.io/etcd/server/v3 &&
		mv "$bin/etcd.tmp" "$bin/etcd" &&
		go build -trimpath -ldflags="-s -w" -o "$bin/etcdctl.tmp" go.etcd.io/etcd/etcdctl/v3 &&
		mv "$bin/etcdctl.tmp" "$bin/etcdctl")
fi
if [ ! -x "$bin/kwok" ]; then
	log "building kwok $KWOK"
	(cd "$here/kwok" && go build -trimpath -ldflags="-s -w" -o "$bin/kwok.tmp" sigs.k8s.io/kwok/cmd/kwok &&
		mv "$bin/kwok.tmp" "$bin/kwok")
fi
echo "$bin"

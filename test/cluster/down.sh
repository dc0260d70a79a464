#!/usr/bin/env bash
# Stops exactly the processes test/cluster/up.sh started in DIR (by PID), in
# reverse order, and removes the cluster's state. Safe to call twice.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
dir=${1:?usage: $0 DIR}
[ -d "$dir" ] || exit 0
# The real node first: it needs the API server to drain nothing, but its
# containers must not outlive the cluster.
"$here/node.sh" down "$dir"
# Clients first (in parallel), then the apiserver, then its storage.
for c in kwok kube-scheduler kube-controller-manager; do
	comp_stop "$dir" "$c" &
done
wait
comp_stop "$dir" kube-apiserver
comp_stop "$dir" etcd
rm -rf "$dir/etcd-data"
echo "cluster stopped: $dir"

#!/usr/bin/env bash
# Stops, starts or restarts one component of a running test cluster, for
# tests that need the control plane to misbehave for real.
# Usage: test/cluster/ctl.sh DIR stop|start|restart|kill COMPONENT
#   COMPONENT: etcd kube-apiserver kube-controller-manager kube-scheduler kwok
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
dir=${1:?usage}
verb=${2:?usage}
c=${3:?usage}
[ -x "$dir/run/$c.sh" ] || { echo "ctl.sh: no component $c in $dir" >&2; exit 2; }
. "$dir/env"
case $verb in
stop) comp_stop "$dir" "$c" ;;
kill) comp_stop "$dir" "$c" KILL ;;
start | restart)
	[ "$verb" = restart ] && comp_stop "$dir" "$c"
	comp_start "$dir" "$c"
	if [ "$c" = kube-apiserver ]; then
		wait_for 120 kube-apiserver api_ready "$dir"
	fi
	;;
*) echo "ctl.sh: unknown verb $verb" >&2; exit 2 ;;
esac

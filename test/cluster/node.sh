#!/usr/bin/env bash
# The real node of a test cluster: containerd + runc (Debian's packages),
# kubelet and kube-proxy (built by build.sh), a bridge pod network, and
# images made on this machine (image/build.sh), so pods run as real
# processes that get real signals. Next to the kwok nodes, tainted
# runbook.dev/real-node:NoSchedule and labelled runbook.dev/real-node=true.
#
#   node.sh can                 exit 0 if this machine can run one, else say why
#   node.sh up DIR              start it for the cluster in DIR (after up.sh's
#                               control plane; up.sh calls this)
#   node.sh down DIR            stop it and undo everything it did to the host
#   node.sh load DIR IMAGE.tar  import an OCI archive into its containerd
#
# kubelet hard-codes a few host paths (/var/lib/kubelet/device-plugins,
# /var/log/pods, /var/log/containers), and there is one cgroup tree and one
# set of sysctls, so there is one real node per machine: the cluster that has
# it holds /run/runbook-node.lock until down.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
NODE=runbook-real-node
RUN=/run/runbook-node # sockets and containerd state: short paths, tmpfs
LOCK=/run/runbook-node.lock
SOCK=$RUN/containerd.sock
BRIDGE=runbook0
POD_CIDR=10.244.0.0/24
# Sysctls kubelet (and the bridge plugin) change; saved at up, restored at down.
SYSCTLS="vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
	kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.ipv4.ip_forward
	net.ipv4.conf.all.route_localnet"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH

can() { # prints why not, on stderr
	local why=""
	if [ "$(id -u)" -ne 0 ]; then
		why="not root"
	elif ! grep -qw overlay /proc/filesystems; then
		why="no overlayfs in this kernel"
	elif ! command -v containerd >/dev/null || ! command -v runc >/dev/null ||
		[ ! -x /usr/lib/cni/bridge ]; then
		why="containerd, runc or the CNI plugins are not installed (.ci/deps.sh installs them)"
	elif [ ! -d /sys/fs/cgroup/memory ] && [ ! -f /sys/fs/cgroup/cgroup.controllers ]; then
		why="no memory cgroup"
	elif ! (exec 8>"$LOCK" && flock -n 8); then
		why="another test cluster on this machine has the real node ($LOCK)"
	fi
	[ -z "$why" ] && return 0
	echo "$why" >&2
	return 1
}

node_ip() { # the first global IPv4 address: kubelet refuses loopback
	ip -4 -o addr show scope global | awk '{split($4, a, "/"); print a[1]; exit}'
}

up() {
	local dir=$1 nd=$1/node bin ip ports
	. "$dir/env"
	bin=$RUNBOOK_CLUSTER_BIN
	can
	mkdir -p "$nd" "$RUN"
	# The lock holder is a component like the others, so down stops it by
	# PID: one process (sh execs sleep) that holds the lock itself, no
	# child that could keep it after its parent is gone.
	w_script "$dir" node-lock sh -c 'exec 9>"$0" && flock -n 9 && exec sleep infinity' "$LOCK"
	comp_start "$dir" node-lock
	sleep 0.3
	comp_alive "$dir" node-lock || { echo "node.sh: could not take $LOCK" >&2; return 1; }
	ip=$(node_ip)
	[ -n "$ip" ] || { echo "node.sh: no global IPv4 address for the node" >&2; return 1; }
	read -r KUBELET_PORT KUBELET_HEALTH PROXY_METRICS PROXY_HEALTH <<<"$(free_ports 4)"
	for s in $SYSCTLS; do
		echo "$s=$(sysctl -n "$s" 2>/dev/null || echo)"
	done >"$nd/sysctl.saved"
	# Host paths kubelet makes outside its root: removed at down only if
	# they did not exist before.
	for p in /var/lib/kubelet /var/log/pods /var/log/containers; do
		[ -e "$p" ] || echo "$p"
	done >"$nd/made-paths"

	(
		cd "$dir/pki"
		openssl req -newkey rsa:2048 -nodes -subj "/O=system:nodes/CN=system:node:$NODE" \
			-keyout node.key -out node.csr 2>/dev/null
		openssl x509 -req -in node.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
			-extfile client.ext -out node.crt 2>/dev/null
		rm -f node.csr
	)
	sed -e "s|$dir/pki/admin|$dir/pki/node|g" -e "s|name: admin|name: node|; s|user: admin|user: node|" \
		"$dir/kubeconfig" >"$nd/kubeconfig"

	mkdir -p "$nd/cni" "$nd/cni-ipam" "$nd/containerd" "$nd/kubelet" "$nd/opt"
	cat >"$nd/cni/10-runbook.conflist" <<CNI
{"cniVersion": "1.0.0", "name": "runbook", "plugins": [
  {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR"}]],
            "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$nd/cni-ipam"}}]}
CNI
	# restrict_oom_score_adj: without CAP_SYS_RESOURCE (some VMs' root) runc
	# cannot lower oom_score_adj and every sandbox fails with "can't get final
	# child's PID from pipe: EOF". netns_mounts_under_state_dir keeps the pod
	# network namespaces under $RUN, not /var/run/netns.
	cat >"$nd/containerd.toml" <<TOML
version = 2
root = "$nd/containerd"
state = "$RUN/containerd"
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$nd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "runbook.test/pause:1"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$nd/cni"
TOML
	# failCgroupV1: this kind of machine is on cgroup v1. The eviction
	# thresholds are low so a full CI disk does not evict test pods.
	cat >"$nd/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://$SOCK
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTH
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $dir/pki/ca.crt}
authorization: {mode: Webhook}
registerWithTaints: [{key: runbook.dev/real-node, effect: NoSchedule}]
resolvConf: /etc/resolv.conf
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
rotateCertificates: false
serializeImagePulls: false
shutdownGracePeriod: 0s
YAML
	w_script "$dir" containerd env PATH="$PATH" containerd --config "$nd/containerd.toml"
	w_script "$dir" kubelet env PATH="$PATH" "$bin/kubelet" --config="$nd/kubelet.yaml" \
		--kubeconfig="$nd/kubeconfig" --root-dir="$nd/kubelet" --cert-dir="$nd/kubelet/pki" --hostname-override="$NODE" \
		--node-ip="$ip" --node-labels=runbook.dev/real-node=true,type=real --v=1
	w_script "$dir" kube-proxy env PATH="$PATH" "$bin/kube-proxy" --kubeconfig="$dir/kubeconfig" \
		--hostname-override="$NODE" --proxy-mode=iptables --cluster-cidr="$POD_CIDR" \
		--conntrack-max-per-core=0 --conntrack-tcp-timeout-established=0 \
		--conntrack-tcp-timeout-close-wait=0 --iptables-localhost-nodeports=false \
		--metrics-bind-address="127.0.0.1:$PROXY_METRICS" \
		--healthz-bind-address="127.0.0.1:$PROXY_HEALTH" --v=1
	cat >>"$dir/env" <<ENV
REAL_NODE=$NODE
REAL_NODE_IP=$ip
REAL_NODE_SOCK=$SOCK
KUBELET_PORT=$KUBELET_PORT
ENV
	export KUBECONFIG=$dir/kubeconfig
	kubectl create clusterrolebinding runbook-real-node --clusterrole=system:node \
		--user="system:node:$NODE" >/dev/null
	# Pods reach the API server as in any cluster: the kubernetes Service
	# (10.0.0.1:443), which kube-proxy sends to this EndpointSlice; up.sh
	# binds the API server to all addresses when the real node is on.
	kubectl apply -f - >/dev/null <<SLICE
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: kubernetes, namespace: default, labels: {kubernetes.io/service-name: kubernetes}}
addressType: IPv4
endpoints: [{addresses: ["$ip"], conditions: {ready: true}}]
ports: [{name: https, port: $API_PORT, protocol: TCP}]
SLICE

	comp_start "$dir" containerd
	wait_for 30 containerd ctr --address "$SOCK" version || node_fail "$dir" "containerd did not start" containerd
	"$here/image/build.sh" "$nd/images" >/dev/null
	for t in "$nd"/images/*.tar; do
		ctr --address "$SOCK" -n k8s.io images import "$t" >/dev/null
	done
	comp_start "$dir" kubelet
	comp_start "$dir" kube-proxy
	node_ready() {
		[ "$(kubectl get node "$NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]
	}
	wait_for 120 "real node Ready" node_ready || node_fail "$dir" "real node not Ready" kubelet
}

node_fail() { # DIR MESSAGE LOG
	echo "node.sh: $2; last lines of $1/logs/$3.log:" >&2
	tail -n 30 "$1/logs/$3.log" >&2 || true
	exit 1
}

# Every process in the node's pod cgroups (all controllers), deepest first.
pod_cgroups() {
	find /sys/fs/cgroup -depth -type d -path '*/kubepods*' 2>/dev/null
}

down() {
	local dir nd pid i m
	dir=$(cd "$1" && pwd) # absolute: mounts are matched by path
	nd=$dir/node
	[ -f "$dir/run/containerd.sh" ] || [ -f "$dir/pids/node-lock.pid" ] || return 0
	set +e # best effort from here on: undo as much as can be undone
	comp_stop "$dir" kube-proxy
	comp_stop "$dir" kubelet
	# Containers outlive kubelet and containerd (their shims are their
	# parents): kill what is in the pod cgroups, then the shims.
	for i in 1 2 3; do
		for c in $(pod_cgroups); do
			for pid in $(cat "$c/cgroup.procs" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
		done
		sleep 0.2
	done
	for pid in $(pgrep -f "containerd-shim.*-address $SOCK" || true); do kill -KILL "$pid" 2>/dev/null || true; done
	comp_stop "$dir" containerd
	# Unmount what kubelet, containerd and CNI mounted (deepest first);
	# again while any is left (a mount can be busy for a moment).
	for i in 1 2 3 4 5 6 7 8 9 10; do
		m=$(awk '{print $5}' /proc/self/mountinfo | grep -E "^($nd|$RUN)(/|$)" | sort -r)
		[ -n "$m" ] || break
		for x in $m; do umount -l "$x" 2>/dev/null; done
		sleep 0.3
	done
	[ -z "$m" ] || echo "node.sh: still mounted after 3 s: $m" >&2
	for c in $(pod_cgroups); do rmdir "$c" 2>/dev/null || true; done
	ip link del "$BRIDGE" 2>/dev/null || true
	if [ -x "$RUNBOOK_CLUSTER_BIN/kube-proxy" ]; then
		"$RUNBOOK_CLUSTER_BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true
	fi
	# kubelet's own chains (KUBE-KUBELET-CANARY, KUBE-FIREWALL, ...), which
	# --cleanup leaves: flush them all, then delete them.
	for ipt in iptables ip6tables; do
		for t in nat filter mangle; do
			for ch in $($ipt -t $t -S 2>/dev/null | awk '$1=="-N" && $2 ~ /^KUBE-/ {print $2}'); do
				$ipt -t $t -S 2>/dev/null | awk -v c="$ch" '$1=="-A" && $0 ~ ("-j " c "( |$)")' |
					sed 's/^-A/-D/' | while read -r rule; do eval "$ipt -t $t $rule" 2>/dev/null || true; done
				$ipt -t $t -F "$ch" 2>/dev/null || true
			done
			for ch in $($ipt -t $t -S 2>/dev/null | awk '$1=="-N" && $2 ~ /^KUBE-/ {print $2}'); do
				$ipt -t $t -X "$ch" 2>/dev/null || true
			done
		done
	done
	if [ -f "$nd/sysctl.saved" ]; then
		while IFS='=' read -r k v; do
			[ -n "$v" ] && sysctl -qw "$k=$v" 2>/dev/null || true
		done <"$nd/sysctl.saved"
	fi
	if [ -f "$nd/made-paths" ]; then
		while read -r m; do
			[ -n "$m" ] && rm -rf "$m"
		done <"$nd/made-paths"
	fi
	rm -rf "$nd" "$RUN"
	rm -f "$dir/run/containerd.sh" "$dir/run/kubelet.sh" "$dir/run/kube-proxy.sh"
	comp_stop "$dir" node-lock
}

load() { # DIR IMAGE.tar
	ctr --address "$SOCK" -n k8s.io images import "$2"
}

case ${1:-} in
can) can ;;
up) up "${2:?usage: $0 up DIR}" ;;
down)
	. "${2:?usage: $0 down DIR}/env" 2>/dev/null || true
	down "$2"
	;;
load) load "${2:?usage}" "${3:?usage: $0 load DIR IMAGE.tar}" ;;
*)
	echo "usage: $0 can | up DIR | down DIR | load DIR IMAGE.tar" >&2
	exit 2
	;;
esac

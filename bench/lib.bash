# bench/lib.bash - what the benchmark scripts (bench/run.sh, webhook.sh,
# bench/peers/run.sh) share: a build that another module's edit in progress
# may break for a moment, and a local control plane of their own, stopped on
# exit. Sourced from the repository root.

# bench_build NAME LOG CMD...: runs CMD (a build) up to three times, a
# minute apart; on the third failure prints the log's tail and exits 1.
bench_build() {
	local name=$1 log=$2 try
	shift 2
	for try in 1 2 3; do
		if "$@" >"$log" 2>&1; then return 0; fi
		if [ $try = 3 ]; then
			tail -n 30 "$log" >&2
			echo "$name: the release build fails (log: $log)" >&2
			exit 1
		fi
		echo "$name: release build failed (attempt $try); retrying in 60 s" >&2
		sleep 60
	done
}

# bench_cluster NAME DIR KEEP [UP ARGS...]: a fresh control plane in DIR
# (test/cluster/up.sh DIR UP ARGS...), KUBECONFIG pointing at it, and torn
# down when the script exits, pass or fail, unless KEEP is 1.
bench_cluster() {
	BENCH_NAME=$1 BENCH_DIR=$2 BENCH_KEEP_IT=$3
	shift 3
	test/cluster/down.sh "$BENCH_DIR" >/dev/null 2>&1 || true
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
	test/cluster/up.sh "$BENCH_DIR" "$@" | tail -n 1
	export KUBECONFIG=$BENCH_DIR/kubeconfig
}

bench_cleanup() {
	local rc=$?
	if [ "${BENCH_KEEP_IT:-0}" = 1 ]; then
		echo "$BENCH_NAME: cluster left running: export KUBECONFIG=$BENCH_DIR/kubeconfig"
	else
		test/cluster/down.sh "$BENCH_DIR" >/dev/null 2>&1 || true
	fi
	exit $rc
}

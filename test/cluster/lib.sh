# Shared by up.sh, down.sh and ctl.sh. Each component of a cluster directory
# has a start script DIR/run/NAME.sh, a pid file DIR/pids/NAME.pid and a log
# DIR/logs/NAME.log, so one component can be stopped and started again.

comp_pid() { cat "$1/pids/$2.pid" 2>/dev/null; }

comp_alive() {
	local pid
	pid=$(comp_pid "$1" "$2") && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

comp_start() { # DIR NAME
	local dir=$1 name=$2
	if comp_alive "$dir" "$name"; then return 0; fi
	# setsid: the component outlives the shell that started it (ctest runs
	# each test in its own process) and ignores the terminal's signals.
	setsid "$dir/run/$name.sh" >>"$dir/logs/$name.log" 2>&1 </dev/null &
	echo $! >"$dir/pids/$name.pid"
}

comp_stop() { # DIR NAME [SIGNAL] - waits until the process is gone
	local dir=$1 name=$2 sig=${3:-TERM} pid i
	pid=$(comp_pid "$dir" "$name") || return 0
	[ -n "$pid" ] || return 0
	kill "-$sig" "$pid" 2>/dev/null || { rm -f "$dir/pids/$name.pid"; return 0; }
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
		sleep 0.2
	fi
	rm -f "$dir/pids/$name.pid"
}

wait_for() { # SECONDS DESCRIPTION COMMAND... - polls every 0.2 s
	local secs=$1 what=$2 deadline
	shift 2
	deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		if [ $SECONDS -ge $deadline ]; then
			echo "timed out after ${secs}s waiting for $what" >&2
			return 1
		fi
		sleep 0.2
	done
}

api_ready() { # DIR
	curl -fsS --max-time 2 --cacert "$1/pki/ca.crt" --cert "$1/pki/admin.crt" \
		--key "$1/pki/admin.key" "https://127.0.0.1:$API_PORT/readyz" | grep -qx ok
}

free_ports() { # N - N free loopback ports, on one line
	python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

w_script() { # DIR NAME CMD... - writes DIR/run/NAME.sh, the component's start script
	local dir=$1 name=$2
	shift 2
	{
		echo "#!/bin/sh"
		printf 'exec'
		printf ' %q' "$@"
		echo
	} >"$dir/run/$name.sh"
	chmod +x "$dir/run/$name.sh"
}

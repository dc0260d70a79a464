#!/usr/bin/env bash
# The real node's images, made from this machine's files (no registry):
#   runbook.test/pause:1     the pod sandbox, pause.c linked statically
#   runbook.test/busybox:1   Debian's busybox-static with a link per applet
# Writes OUT/pause.tar and OUT/busybox.tar (OCI archives for
# `ctr images import`). Pods use them with imagePullPolicy: Never.
# Usage: test/cluster/image/build.sh OUT
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: $0 OUT}
mkdir -p "$out"
bb=$(command -v busybox) || { echo "image/build.sh: busybox-static is not installed" >&2; exit 1; }
cc -static -O2 -Wall -Wextra -Werror -o "$out/pause" "$here/pause.c"
python3 "$here/mkoci.py" "$out/pause.tar" runbook.test/pause:1 --entrypoint /pause --file "$out/pause:/pause"
python3 "$here/mkoci.py" "$out/busybox.tar" runbook.test/busybox:1 --busybox "$bb" --cmd sh
rm -f "$out/pause"

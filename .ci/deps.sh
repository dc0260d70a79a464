#!/usr/bin/env bash
# Installs what building and testing Runbook needs, and nothing that is
# already there: Debian packages, then the control-plane binaries (built
# from Go modules into a per-version cache, see test/cluster/build.sh).
# Idempotent; a second run takes a second or two.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pkgs=(build-essential cmake ninja-build pkg-config clang clang-tidy clang-format cppcheck
	valgrind libclang-rt-14-dev llvm libcurl4-openssl-dev libjson-c-dev libwebsockets-dev
	libuv1-dev libssl-dev libyaml-dev openssl curl python3 bc
	containerd runc containernetworking-plugins iptables busybox-static
	buildah debootstrap gnuplot-nox
	chromium fonts-liberation)
# The second line is the real node of the test cluster (test/cluster/node.sh,
# docs/testing.md): Debian's containerd 1.6 and runc, the CNI plugins, and
# busybox for the test image. The third builds the operator image without a
# registry (operator/image.sh); gnuplot draws the soak's RSS plot (test/soak).
# The fourth: Debian's Chromium, the real browser of the UI tests (test/ui,
# driven by playwright-core from npm, pinned in test/ui/package-lock.json),
# and a font for its screenshots.
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v go >/dev/null || { echo "deps: Go is required to build the test control plane" >&2; exit 1; }
command -v kubectl >/dev/null || { echo "deps: kubectl is required" >&2; exit 1; }
command -v node >/dev/null && command -v npm >/dev/null || { echo "deps: Node.js and npm are required for the UI tests (test/ui)" >&2; exit 1; }
"$here/../test/cluster/build.sh" >/dev/null

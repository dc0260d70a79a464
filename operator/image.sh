#!/usr/bin/env bash
# Builds the operator image (operator/Dockerfile) with buildah, with no
# registry and no daemon, and exports it as an OCI archive that
# `ctr images import`, `kind load image-archive` and the like take.
#
#   operator/image.sh [OUT_DIR]        (default build/image; make image)
#
# The Dockerfile starts FROM debian:bookworm-slim, which needs a registry.
# Instead its BASE argument gets a local stand-in: a debootstrap
# --variant=minbase bookworm root from the Debian mirror apt uses on this
# machine, committed as localhost/runbook-base:bookworm-minbase. That is
# made once and cached, like the control-plane binaries, under
#   ${RUNBOOK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/runbook}/image/
#     base-bookworm-minbase-<arch>.tar   the debootstrap root (kept, so a
#                                        wiped storage/ is refilled fast)
#     storage/ run/                      buildah's own storage (vfs), so
#                                        nothing lands in /var/lib/containers
# Delete that directory to start over (for instance for a newer bookworm).
#
# Needs root (debootstrap, and buildah's chroot isolation), buildah and
# debootstrap (.ci/deps.sh installs both).
set -euo pipefail

die() {
	echo "image.sh: $*" >&2
	exit 1
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$repo/build/image}

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap and buildah's chroot isolation need it)"
for tool in buildah debootstrap; do
	command -v "$tool" >/dev/null || die "$tool is not installed (.ci/deps.sh installs it)"
done

# The image's tag is the project's version, the one --version prints.
version=$(sed -nE 's/^project\(runbook VERSION ([0-9][0-9A-Za-z.+-]*).*/\1/p' "$repo/CMakeLists.txt")
[ -n "$version" ] || die "no project(runbook VERSION ...) in CMakeLists.txt"

suite=bookworm # the Dockerfile's default base is debian:bookworm-slim
arch=$(dpkg --print-architecture)
base=localhost/runbook-base:$suite-minbase
image=localhost/runbook-operator:$version

cache=${RUNBOOK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/runbook}/image
mkdir -p "$cache" "$out"
out=$(cd "$out" && pwd)
# oci-archive:PATH:REF splits at the first colon.
case $out in *:*) die "OUT_DIR must not contain ':' ($out)" ;; esac

# One builder at a time per cache: a second caller waits, then finds the
# base made and reuses it instead of bootstrapping it again.
exec 9>"$cache/lock"
if ! flock -n 9; then
	echo "image.sh: waiting for another build using $cache" >&2
	flock 9
fi

bah() { buildah --root "$cache/storage" --runroot "$cache/run" --storage-driver vfs "$@"; }

# The Debian mirror apt uses here: the first non-security URI of the
# deb822 .sources files, else of the one-line .list files. In a network that
# reaches only that mirror, any other would fail.
mirror() {
	local parts=/etc/apt/sources.list.d/ list=/etc/apt/sources.list f uri=
	eval "$(apt-config shell parts Dir::Etc::sourceparts/d list Dir::Etc::sourcelist/f 2>/dev/null || true)"
	for f in "$parts"*.sources; do
		[ -r "$f" ] || continue
		uri=$(awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")
		[ -n "$uri" ] && break
	done
	if [ -z "$uri" ]; then
		# deb [options] URI suite components
		uri=$(cat "$list" "$parts"*.list 2>/dev/null |
			awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\//) { if ($i !~ /security/) { print $i; exit } break } }')
	fi
	echo "${uri:-http://deb.debian.org/debian}"
}

tmp=
cleanup() {
	[ -n "$tmp" ] || return 0
	# debootstrap mounts proc and sys in the target; an interrupted run
	# leaves them mounted.
	grep -o " $tmp/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

tarball=$cache/base-$suite-minbase-$arch.tar
t0=$(date +%s)
if bah inspect --type image "$base" >/dev/null 2>&1; then
	echo "image.sh: base $base cached in $cache/storage"
else
	if [ ! -s "$tarball" ]; then
		url=$(mirror)
		# apt's proxy, if one is configured, for debootstrap's downloads too.
		proxy=
		eval "$(apt-config shell proxy Acquire::http::Proxy 2>/dev/null || true)"
		if [ -n "$proxy" ] && [ "$proxy" != DIRECT ] && [ -z "${http_proxy:-}" ]; then
			export http_proxy=$proxy
		fi
		echo "image.sh: debootstrap --variant=minbase $suite ($arch) from the apt mirror $url"
		tmp=$(mktemp -d "$cache/rootfs.XXXXXX")
		debootstrap --variant=minbase --arch="$arch" "$suite" "$tmp/root" "$url" >"$cache/debootstrap.log" 2>&1 ||
			die "debootstrap failed; see $cache/debootstrap.log"
		# What a container base does not carry: downloaded lists and
		# packages (the Dockerfile runs apt-get update itself).
		rm -rf "$tmp/root"/var/lib/apt/lists/* "$tmp/root"/var/cache/apt/archives/*.deb
		tar --numeric-owner --xattrs -C "$tmp/root" -cf "$tarball.part" .
		mv "$tarball.part" "$tarball"
		cleanup
		tmp=
	fi
	echo "image.sh: committing $tarball as $base"
	ctr=$(bah from --pull=never scratch)
	bah add --quiet "$ctr" "$tarball" / >/dev/null
	bah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		--cmd /bin/bash --label "org.opencontainers.image.description=debootstrap --variant=minbase $suite, a local stand-in for debian:$suite-slim" \
		"$ctr"
	bah commit --quiet --rm "$ctr" "$base" >/dev/null
fi
t1=$(date +%s)

echo "image.sh: building $image (base $base)"
bah bud --pull=never --isolation=chroot --build-arg "BASE=$base" \
	-t "$image" -f "$repo/operator/Dockerfile" "$repo"
# A rebuild untags the previous image; drop it, and the build stage's
# leftovers, so the cache does not grow with each build.
bah rmi --prune >/dev/null 2>&1 || true
t2=$(date +%s)

archive=$out/runbook-operator.oci.tar
rm -f "$archive"
# The reference inside the archive is the full name, so
# `ctr images import` names the image localhost/runbook-operator:VERSION.
bah push --quiet "$image" "oci-archive:$archive:$image"
t3=$(date +%s)

unpacked=$(bah images --format '{{.Size}}' "$image" | head -n1)
echo "image.sh: times: base $((t1 - t0)) s, build $((t2 - t1)) s, export $((t3 - t2)) s"
echo "archive: $archive"
echo "image:   $image"
echo "size:    $(du -h "$archive" | cut -f1) archive (compressed layers), $unpacked unpacked"

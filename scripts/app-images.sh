#!/usr/bin/env bash
# Builds the real-application image the integration tests run under Docker, containerd and
# yoroi directly, cached under bin/ by recipe (make passes DIR):
#   app-images.sh DIR
# DIR/rootfs       a Debian bookworm root filesystem (debootstrap minbase) with Debian's
#                  nginx, PostgreSQL, Redis, Python 3 and Node.js packages, and wrk (the
#                  load generator make bench runs beside nginx)
# DIR/rootfs.tar   the same for docker import
# DIR/apps.tar     the same as an OCI image in a docker-archive, for ctr images import
# Packages come from Debian's archive (apt-get in a chroot, in a private mount namespace so
# that nothing stays mounted on the host); services are never started while installing.
set -euo pipefail

dir=$1
ref=docker.io/library/apps:yoroi
packages=(nginx-light redis-server postgresql python3 nodejs wrk)

rm -rf "$dir.tmp"
mkdir -p "$dir.tmp"
root=$dir.tmp/rootfs
debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$dir.tmp/debootstrap.log"
# Debian's maintainer scripts start services unless policy-rc.d forbids it.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
unshare --mount --propagation private -- sh -ec '
	mount -t proc proc "$1/proc"
	shift
	root=$1; shift
	DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -qq --no-install-recommends "$@"
	DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get clean
' sh "$root" "$root" "${packages[@]}" >"$dir.tmp/apt.log" 2>&1
rm -f "$root/usr/sbin/policy-rc.d"
rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/dev/*
# The package's own cluster is not used: each test initialises its data directory.
rm -rf "$root"/var/lib/postgresql/*/main "$root"/etc/postgresql/*/main
dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${Package} ${Version}\n' "${packages[@]}" >"$dir.tmp/versions.txt"

tar -C "$root" -cf "$dir.tmp/rootfs.tar" .
layout=$dir.tmp/oci
unpacked=$dir.tmp/unpacked
umoci init --layout "$layout"
umoci new --image "$layout:apps"
umoci unpack --image "$layout:apps" "$unpacked"
tar -C "$unpacked/rootfs" -xf "$dir.tmp/rootfs.tar"
umoci repack --image "$layout:apps" "$unpacked"
umoci config --image "$layout:apps" --config.cmd /bin/sh
skopeo copy -q "oci:$layout:apps" "docker-archive:$dir.tmp/apps.tar:$ref"
rm -rf "$layout" "$unpacked"
rm -rf "$dir" && mv "$dir.tmp" "$dir"

#!/usr/bin/env bash
# Installs what yoroi's build, demo and tests need on Debian, only when it is missing.
set -euo pipefail

packages=(busybox-static libseccomp-dev libc6-dev musl-tools pkg-config jq gcc make git procps apparmor
	docker.io containerd podman umoci skopeo containernetworking-plugins iproute2 runc crun hyperfine
	gcc-multilib debootstrap gawk tini qemu-system-x86 e2fsprogs)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm installs bats for runc's test suite; a node.js from elsewhere (NodeSource) brings its
# own npm, which Debian's package would conflict with.
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: missing ${missing[*]}; run as root" >&2
		exit 1
	fi
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v go >/dev/null 2>&1; then
	if [ -x /usr/local/go/bin/go ]; then
		echo "install-deps: Go is in /usr/local/go/bin; add it to PATH" >&2
	else
		echo "install-deps: Go 1.26 or newer is required (https://go.dev/dl)" >&2
	fi
	exit 1
fi

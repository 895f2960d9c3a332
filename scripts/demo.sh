#!/usr/bin/env bash
# Runs one container with yoroi and shows, from inside it, what was enforced.
set -euo pipefail
yoroi=$(readlink -f "${1:-bin/yoroi}")
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (yoroi creates real containers)" >&2; exit 1; }

work=$(mktemp -d /tmp/yoroi-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bundle/rootfs/bin" "$work/bundle/rootfs/"{proc,sys,dev,tmp,run,etc}
cp "$(command -v busybox)" "$work/bundle/rootfs/bin/busybox"
for applet in $(busybox --list); do
	[ "$applet" = busybox ] || ln -s busybox "$work/bundle/rootfs/bin/$applet"
done
echo 'root:x:0:0:root:/:/bin/sh' > "$work/bundle/rootfs/etc/passwd"

"$yoroi" spec --bundle "$work/bundle"
show='
echo "== inside the container =="
echo "uid_map:     $(cat /proc/self/uid_map | tr -s " ")"
grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status | sed "s/\t/ /"
if touch /yoroi-write-test 2>/dev/null; then echo "root fs:     WRITABLE"; else echo "root fs:     read-only"; fi
echo "pid 1:       $(cat /proc/1/comm)  (own pid namespace)"
echo "hostname:    $(hostname)"
'
jq --arg s "$show" '.process.terminal = false | .process.args = ["sh", "-c", $s]' \
	"$work/bundle/config.json" > "$work/config.json" && mv "$work/config.json" "$work/bundle/config.json"

"$yoroi" --root "$work/state" run --bundle "$work/bundle" "yoroi-demo-$$"

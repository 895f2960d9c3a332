#!/usr/bin/env bash
# Runs one container with yoroi and shows, from inside it, what was enforced.
set -euo pipefail
yoroi=$(readlink -f "${1:-bin/yoroi}")
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (yoroi creates real containers)" >&2; exit 1; }

work=$(mktemp -d /tmp/yoroi-demo.XXXXXX)
# The container's root is an unprivileged host uid: it walks to its id-mapped rootfs.
chmod 711 "$work"
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
cp /bin/busybox /tmp/true 2>/dev/null
if /tmp/true 2>/dev/null; then echo "/tmp:        writable, EXECUTABLE"; else echo "/tmp:        writable, not executable (noexec + Landlock)"; fi
if cat /proc/1/cmdline | grep -q "^sh"; then echo "landlock:    workload runs as pid 1 after the launcher restricted it"; fi
echo "pids.max:    $(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max 2>/dev/null)"
echo "pid 1:       $(cat /proc/1/comm)  (own pid namespace)"
echo "hostname:    $(hostname)"
if unshare -U true 2>/dev/null; then echo "unshare -U:  ALLOWED"; else echo "unshare -U:  denied by seccomp (and audited by the monitor)"; fi
sleep 0.3 # long enough for the posture check to read the running workload
'
jq --arg s "$show" '.process.terminal = false | .process.args = ["sh", "-c", $s]' \
	"$work/bundle/config.json" > "$work/config.json" && mv "$work/config.json" "$work/bundle/config.json"

# The demo uses the built-in policy (no config.toml) and keeps its audit log here.
printf '[audit]\npath = "%s"\n' "$work/audit.jsonl" > "$work/config.toml"
export YOROI_CONFIG="$work/config.toml"

echo "== yoroi policy explain: what create will enforce on this bundle =="
"$yoroi" policy explain --bundle "$work/bundle"
echo
"$yoroi" --root "$work/state" run --bundle "$work/bundle" "yoroi-demo-$$"
echo "== posture check: the workload as the host's kernel shows it, compared with the policy =="
grep '"event":"posture"' "$work/audit.jsonl"
echo
echo "== the container's monitor: denied syscalls and execve calls, from the host =="
grep '"event":"seccomp-denied"' "$work/audit.jsonl" | head -3
grep '"event":"execve"' "$work/audit.jsonl" | sed -n '2,4p'
echo
echo "== an insecure request: the same bundle asking for CAP_SYS_ADMIN =="
jq '.process.capabilities.bounding += ["CAP_SYS_ADMIN"]' "$work/bundle/config.json" > "$work/config.json" \
	&& mv "$work/config.json" "$work/bundle/config.json"
rc=0
"$yoroi" --root "$work/state" run --bundle "$work/bundle" "yoroi-demo-refused-$$" || rc=$?
if [ "$rc" -eq 0 ]; then
	echo "demo: the insecure request was NOT refused" >&2
	exit 1
fi
echo "(exit status $rc, and nothing was created: $(ls "$work/state" | wc -l) containers in the state root)"
echo
echo "== audit log: $(wc -l < "$work/audit.jsonl") lines, e.g. the refusal =="
grep '"event":"refusal"' "$work/audit.jsonl"

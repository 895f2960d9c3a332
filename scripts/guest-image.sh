#!/usr/bin/env bash
# Builds the guest the VM tests boot under QEMU (TCG), cached under bin/ by recipe (make
# passes DIR):
#   guest-image.sh DIR
# DIR/root.img     an ext4 root filesystem: Debian bookworm with its 6.1 and 6.12 cloud
#                  kernels, systemd, D-Bus, Docker (Debian's, for its AppArmor profile),
#                  umoci and skopeo (the tests build their images), AppArmor, SELinux's default policy with the reference
#                  policy's container module (container_t, container_file_t: Debian's
#                  source has it, its binary policy does not), every file labelled so that
#                  the same image boots with either LSM, busybox-static
# DIR/vmlinuz-6.1, DIR/initrd.img-6.1, DIR/vmlinuz-6.12, DIR/initrd.img-6.12
#                  the guest's kernels and their own initramfs
# At boot the guest runs /usr/local/sbin/yoroi-guest: it mounts the second disk (the test
# payload the host builds for each run), runs its run.sh with the output on the second
# serial port, and powers off. It runs as a systemd unit, or as pid 1 (init=) for a guest
# without systemd. The guest has no network device.
set -euo pipefail

dir=$1
packages=(linux-image-cloud-amd64 linux-image-6.12-cloud-amd64 systemd-sysv dbus apparmor
	selinux-policy-default policycoreutils selinux-policy-dev selinux-policy-src zstd busybox-static
	kmod docker.io umoci skopeo)

rm -rf "$dir.tmp"
mkdir -p "$dir.tmp"
root=$dir.tmp/root
debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$dir.tmp/debootstrap.log" 2>&1
# bookworm's updates and security archive too: the 6.12 kernel comes from there.
cat >"$root/etc/apt/sources.list" <<'EOF'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
# yoroi's own module (scripts/selinux/yoroi.te), as an operator installs it.
cp "$(dirname "$0")/selinux/yoroi.te" "$root/tmp/yoroi.te"
unshare --mount --propagation private -- sh -ec '
	root=$1; shift
	mount -t proc proc "$root/proc"
	mount -t sysfs sys "$root/sys"
	mount --rbind /dev "$root/dev"
	export DEBIAN_FRONTEND=noninteractive
	chroot "$root" apt-get update -qq
	chroot "$root" apt-get install -y -qq --no-install-recommends "$@"
	chroot "$root" apt-get clean
	# The reference policy'"'"'s container module, built from Debian'"'"'s policy source.
	chroot "$root" sh -ec "
		mkdir -p /tmp/container-policy && cd /tmp/container-policy
		tar --zstd -xf /usr/src/selinux-policy-src.tar.zst --strip-components=4 \
			selinux-policy-src/policy/modules/services/container.te \
			selinux-policy-src/policy/modules/services/container.fc
		cp /tmp/yoroi.te .
		make -f /usr/share/selinux/devel/Makefile container.pp yoroi.pp
		semodule -n -i container.pp yoroi.pp
		cd / && rm -rf /tmp/container-policy /tmp/yoroi.te"
	# Every file labelled with the default policy: the SELinux guest boots enforcing on it.
	chroot "$root" setfiles -F /etc/selinux/default/contexts/files/file_contexts /
' sh "$root" "${packages[@]}" >"$dir.tmp/apt.log" 2>&1
rm -f "$root/usr/sbin/policy-rc.d"
rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*

echo guest >"$root/etc/hostname"
echo '/dev/vda / ext4 rw,errors=panic 0 1' >"$root/etc/fstab"
# SELinux stays off unless the kernel command line turns it on (security=selinux).
printf 'SELINUX=permissive\nSELINUXTYPE=default\n' >"$root/etc/selinux/config"
# Nothing but the test: no login prompts, timers or network waits.
for unit in serial-getty@ttyS0.service getty@tty1.service apt-daily.timer apt-daily-upgrade.timer \
	e2scrub_all.timer fstrim.timer systemd-networkd-wait-online.service docker.service docker.socket \
	containerd.service; do
	ln -sf /dev/null "$root/etc/systemd/system/$unit"
done

cat >"$root/usr/local/sbin/yoroi-guest" <<'EOF'
#!/bin/sh
# Runs the test payload (second disk) with its output on the second serial port, then
# powers the guest off. As pid 1 (a guest without systemd) it first mounts what systemd
# would have.
if [ $$ -eq 1 ]; then
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev
	mount -t tmpfs -o mode=0755 tmpfs /run
	mount -t tmpfs tmpfs /tmp
	mount -t cgroup2 cgroup2 /sys/fs/cgroup
	mount -t securityfs securityfs /sys/kernel/security
	mount -o remount,rw /
fi
mkdir -p /payload
mount -o ro /dev/vdb /payload
/payload/run.sh >/dev/ttyS1 2>&1
echo "yoroi-guest: exit $?" >/dev/ttyS1
sync
echo o >/proc/sysrq-trigger
EOF
chmod 755 "$root/usr/local/sbin/yoroi-guest"
cat >"$root/etc/systemd/system/yoroi-guest.service" <<'EOF'
[Unit]
Description=yoroi's tests in this guest
After=multi-user.target dbus.service apparmor.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/yoroi-guest

[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/yoroi-guest.service "$root/etc/systemd/system/multi-user.target.wants/yoroi-guest.service"

for v in 6.1 6.12; do
	cp "$root"/boot/vmlinuz-"$v".*-cloud-amd64 "$dir.tmp/vmlinuz-$v"
	cp "$root"/boot/initrd.img-"$v".*-cloud-amd64 "$dir.tmp/initrd.img-$v"
done
dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${Package} ${Version}\n' "${packages[@]}" >"$dir.tmp/versions.txt"
# ext4 populated from the tree (extended attributes, SELinux labels included), no loop mount.
mke2fs -q -t ext4 -L guest -d "$root" "$dir.tmp/root.img" 3G
rm -rf "$root"
rm -rf "$dir" && mv "$dir.tmp" "$dir"

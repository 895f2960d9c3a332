#!/usr/bin/env bash
# Prepares peers' test suites for the integration tests, each cached under bin/ by version:
#   peer-suites.sh bats DIR VERSION             bats-core from npm
#   peer-suites.sh images DIR                   busybox and Debian rootfs tarballs
#   peer-suites.sh runc-tests DIR VERSION IMAGES runc's tests/ from its Go module, helpers built
#   peer-suites.sh runtime-tools DIR VERSION    OCI runtime-tools validation binaries
# Nothing of the suites is committed here: they come from their own modules and packages at
# test time, unmodified (only the executable bits the module zip drops are restored).
set -euo pipefail
export GOFLAGS=-mod=mod

# shellcheck source=scripts/cache.sh
. "$(dirname "$0")/cache.sh"

cmd_bats() {
	local dir=$1 version=$2
	stage "$dir"
	npm install --silent --no-audit --no-fund --prefix "$dir.tmp" "bats@$version" >/dev/null
	commit "$dir"
}

# busybox: busybox-static with hardlinked applets and Docker's busybox image passwd and
# group (runc's tests look users and groups up by name). debian: a bookworm minbase rootfs
# by debootstrap, uncompressed (runc's tests extract it for every test; tar detects that
# it is not compressed whatever its name).
cmd_images() {
	local dir=$1
	stage "$dir"
	local rootfs=$dir.tmp/busybox
	mkdir -p "$rootfs"/{bin,dev,etc,home,root,tmp,usr/sbin,var/spool/mail,var/www,proc,sys}
	chmod 1777 "$rootfs/tmp"
	chmod 700 "$rootfs/root"
	cp "$(command -v busybox)" "$rootfs/bin/busybox"
	for applet in $(busybox --list); do
		[ "$applet" = busybox ] || ln "$rootfs/bin/busybox" "$rootfs/bin/$applet"
	done
	cat >"$rootfs/etc/passwd" <<-'EOF'
		root:x:0:0:root:/root:/bin/sh
		daemon:x:1:1:daemon:/usr/sbin:/bin/false
		bin:x:2:2:bin:/bin:/bin/false
		sys:x:3:3:sys:/dev:/bin/false
		sync:x:4:100:sync:/bin:/bin/sync
		mail:x:8:8:mail:/var/spool/mail:/bin/false
		www-data:x:33:33:www-data:/var/www:/bin/false
		operator:x:37:37:Operator:/var:/bin/false
		nobody:x:65534:65534:nobody:/home:/bin/false
	EOF
	local g
	: >"$rootfs/etc/group"
	for g in root:0 daemon:1 bin:2 sys:3 adm:4 tty:5 disk:6 lp:7 mail:8 kmem:9 wheel:10:root \
		cdrom:11 dialout:18 floppy:19 video:28 audio:29 tape:32 www-data:33 operator:37 utmp:43 \
		plugdev:46 staff:50 lock:54 netdev:82 users:100 nogroup:65534; do
		IFS=: read -r name gid members <<<"$g"
		echo "$name:x:$gid:${members:-}" >>"$rootfs/etc/group"
	done
	tar -C "$rootfs" -cJf "$dir.tmp/busybox-amd64.tar.xz" .
	rm -rf "$rootfs"

	debootstrap --variant=minbase bookworm "$dir.tmp/debian" http://deb.debian.org/debian >"$dir.tmp/debootstrap.log"
	tar -C "$dir.tmp/debian" --exclude './dev/*' --exclude './usr/share/doc/*' \
		--exclude './usr/share/man/*' --exclude './usr/share/locale/*' \
		--exclude './var/cache/apt/*' --exclude './var/lib/apt/lists/*' \
		-cf "$dir.tmp/debian-amd64.tar.xz" .
	rm -rf "$dir.tmp/debian"
	commit "$dir"
}

cmd_runc_tests() {
	local dir=$1 version=$2 images=$3 src
	src=$(module_dir github.com/opencontainers/runc "$version")
	stage "$dir"
	cp -r "$src/." "$dir.tmp/"
	chmod -R u+w "$dir.tmp"
	find "$dir.tmp/tests" -name '*.sh' -exec chmod +x {} +
	(cd "$dir.tmp" && go build -tags seccomp -o tests/cmd/_bin/ ./tests/cmd/...)
	ln -s "$images/busybox-amd64.tar.xz" "$images/debian-amd64.tar.xz" "$dir.tmp/tests/integration/testdata/"
	commit "$dir"
}

cmd_runtime_tools() {
	local dir=$1 version=$2 src
	src=$(module_dir github.com/opencontainers/runtime-tools "$version")
	stage "$dir"
	local build=$dir.tmp/src
	cp -r "$src/." "$build/"
	chmod -R u+w "$build"
	# The module zip holds vendor/modules.txt without the vendored sources.
	rm -rf "$build/vendor"
	(cd "$build" &&
		CGO_ENABLED=0 go build -tags "netgo osusergo" -o ../ ./cmd/runtimetest &&
		go build -o ../ ./validation/...)
	cp "$build/rootfs-amd64.tar.gz" "$dir.tmp/"
	rm -rf "$build"
	commit "$dir"
}

case "${1:-}" in
bats) cmd_bats "$2" "$3" ;;
images) cmd_images "$2" ;;
runc-tests) cmd_runc_tests "$2" "$3" "$4" ;;
runtime-tools) cmd_runtime_tools "$2" "$3" ;;
*)
	echo "usage: $0 bats|images|runc-tests|runtime-tools DIR [VERSION] [IMAGES]" >&2
	exit 2
	;;
esac

#!/usr/bin/env bash
# Builds the newer engines and clients the integration tests drive, from the Go module proxy,
# each cached under bin/ by version:
#   engines.sh docker DIR DAEMON_VERSION CLI_VERSION    dockerd + docker-proxy (moby v2) and the docker CLI
#   engines.sh cri-tools DIR VERSION REGISTRY_VERSION   critest, crictl and a distribution registry
#   engines.sh kubernetes DIR VERSION ETCD_VERSION      kubelet, kube-apiserver, kubectl and etcd
# Nothing of them is committed here: each comes from its own module, unmodified.
set -euo pipefail
export GOFLAGS=-mod=mod

# shellcheck source=scripts/cache.sh
. "$(dirname "$0")/cache.sh"

# writable_copy MODULE VERSION DEST: a module's source where it can be built in place.
writable_copy() {
	cp -r "$(module_dir "$1" "$2")/." "$3"
	chmod -R u+w "$3"
}

# Docker: moby v2's daemon as its release build links it (static, no Wasm NRI), and the
# CLI from docker/cli, which has no go.mod: its vendor.mod is one (the vendored sources
# are not in the module zip, so they come from the proxy). The proxy does not serve
# swarmkit v2.1.3, which vendor.mod names; the daemon's own swarmkit (a pseudo-version of
# the same line, which the daemon build fetches) stands in for it.
cmd_docker() {
	local dir=$1 daemon=$2 cli=$3
	stage "$dir"
	local major
	major=$(sed -E 's/^v?([0-9]+)\..*/\1/' <<<"$cli")
	GOBIN=$dir.tmp CGO_ENABLED=1 go install -trimpath \
		-tags "netgo osusergo static_build nri_no_wasm" \
		-ldflags "-X github.com/moby/moby/v2/dockerversion.Version=$major.0.0-moby-$daemon -X github.com/moby/moby/v2/dockerversion.GitCommit=$daemon -extldflags -static" \
		"github.com/moby/moby/v2/cmd/dockerd@$daemon" "github.com/moby/moby/v2/cmd/docker-proxy@$daemon"
	local src=$dir.tmp/cli-src
	mkdir -p "$src"
	writable_copy github.com/docker/cli "$cli+incompatible" "$src"
	rm -rf "$src/vendor"
	(cd "$src" && cp vendor.mod go.mod && cp vendor.sum go.sum &&
		go mod edit -replace github.com/moby/swarmkit/v2@v2.1.3=github.com/moby/swarmkit/v2@v2.1.3-0.20260828175525-ad0357aedfca &&
		CGO_ENABLED=0 go build -trimpath -ldflags "-X github.com/docker/cli/cli/version.Version=${cli#v}" -o ../docker ./cmd/docker)
	rm -rf "$src"
	commit "$dir"
}

# cri-tools: critest (the CRI validation suite, a Ginkgo test binary) and crictl, and a
# distribution registry the suite's images are served from on loopback.
cmd_cri_tools() {
	local dir=$1 version=$2 registry=$3
	stage "$dir"
	local src=$dir.tmp/src
	mkdir -p "$src"
	writable_copy sigs.k8s.io/cri-tools "$version" "$src"
	rm -rf "$src/vendor"
	(cd "$src" && CGO_ENABLED=0 go build -trimpath -o ../crictl ./cmd/crictl &&
		CGO_ENABLED=0 go test -c -trimpath -o ../critest ./cmd/critest)
	rm -rf "$src"
	GOBIN=$dir.tmp CGO_ENABLED=0 go install -trimpath "github.com/distribution/distribution/v3/cmd/registry@$registry"
	commit "$dir"
}

# Kubernetes: k8s.io/kubernetes is not meant to be required as a module (its go.mod points
# its staging modules at ./staging): a wrapper module requires it and takes each staging
# module at its published version (v0.MINOR.PATCH). etcd's server the same way, through
# its etcdmain package.
cmd_kubernetes() {
	local dir=$1 version=$2 etcd=$3
	stage "$dir"
	local src=$dir.tmp/src
	local staging m
	staging=$(grep -E '^\s*k8s.io/[a-z0-9-]+ => ./staging' "$(module_dir k8s.io/kubernetes "$version")/go.mod" | awk '{print $1}')
	# The version Kubernetes' own build stamps (hack/lib/version.sh): without it the
	# binaries call themselves v0.0.0-master.
	local minor=${version#v1.} ldflags="" pkg
	minor=${minor%%.*}
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
	done
	wrapper_module "$src/kubernetes" 'import _ "k8s.io/kubernetes/cmd/kubelet"' "k8s.io/kubernetes@$version"
	for m in $staging; do
		(cd "$src/kubernetes" && go mod edit -replace "$m=$m@v0.${version#v1.}")
	done
	(cd "$src/kubernetes" && go mod tidy >/dev/null 2>&1 || true
		CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$dir.tmp/" \
			k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl)
	wrapper_module "$src/etcd" 'import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }' "go.etcd.io/etcd/server/v3@$etcd"
	(cd "$src/etcd" && go mod tidy >/dev/null 2>&1 || true
		CGO_ENABLED=0 go build -trimpath -ldflags "-X go.etcd.io/etcd/api/v3/version.GitSHA=$etcd" -o "$dir.tmp/etcd" .)
	rm -rf "$src"
	commit "$dir"
}

# wrapper_module DIR BODY REQUIREMENT: a main package in DIR whose body (after "package
# main") is BODY, in a module that requires REQUIREMENT (MODULE@VERSION).
wrapper_module() {
	mkdir -p "$1"
	printf 'module yoroi.test/%s\n\ngo 1.25\n' "$(basename "$1")" >"$1/go.mod"
	printf 'package main\n\n%s\n' "$2" >"$1/main.go"
	(cd "$1" && go mod edit -require "$3")
}

case "${1:-}" in
docker) cmd_docker "$2" "$3" "$4" ;;
cri-tools) cmd_cri_tools "$2" "$3" "$4" ;;
kubernetes) cmd_kubernetes "$2" "$3" "$4" ;;
*)
	echo "usage: $0 docker DIR DAEMON_VERSION CLI_VERSION | cri-tools DIR VERSION REGISTRY_VERSION | kubernetes DIR VERSION ETCD_VERSION" >&2
	exit 2
	;;
esac

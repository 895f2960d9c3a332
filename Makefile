# yoroi: a hardened OCI container runtime.
GO        ?= go
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
BUILDTAGS ?= seccomp urfave_cli_no_docs
# The release this tree leads to, and the commit it was built from (semver build metadata).
RELEASE   := 0.1.0-dev
VERSION   ?= $(RELEASE)+$(shell git describe --always --dirty 2>/dev/null || echo unknown)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null)
# yoroi is linked statically (like runc's releases): its sealed copy runs inside the
# container as the Landlock launcher, where the host's libc is not.
STATIC_TAGS := netgo osusergo
GOFLAGS_BUILD := -trimpath -tags "$(BUILDTAGS) $(STATIC_TAGS)" -ldflags "-X main.version=$(VERSION) -X main.commit=$(COMMIT) -extldflags -static"
# ... and with musl, not glibc. A static glibc program measures the CPU's caches as it
# starts, with a few hundred CPUID instructions, and each one traps to the hypervisor on a
# virtual machine: 0.47 ms per process on this project's machines (a program that only
# returns: 565 µs with glibc, 66-98 µs with musl), paid by each of the three processes of
# yoroi's binary a start runs (the runtime, the container's init, the Landlock launcher)
# and of an exec. MUSL_DIR holds what musl-gcc's own include path lacks: the kernel's
# headers and libseccomp's (Debian's static libseccomp links with musl; see
# runtime/internal/libccompat).
MUSL_DIR  := $(CURDIR)/bin/musl
CGO_MUSL  := CC=musl-gcc CGO_CFLAGS="-O2 -g -I$(MUSL_DIR)/include" CGO_LDFLAGS="-L$(MUSL_DIR)/lib"
MULTIARCH := $(shell gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
# Shims are built as containerd's Makefile builds its own (SHIM_GO_BUILDTAGS, CGO_ENABLED=0):
# no_grpc leaves the gRPC service stubs of containerd's API out (a shim serves ttrpc only).
# yoroi's shim also leaves out typeurl's gogo/protobuf handler (no_gogo): containerd 2.x's
# types are all google.golang.org/protobuf.
CONTAINERD_SHIM_TAGS := urfave_cli_no_docs no_grpc
SHIM_TAGS            := $(CONTAINERD_SHIM_TAGS) no_gogo
export CGO_ENABLED := 1

.PHONY: all build musl install deps demo test unit integration fuzz lint clean containerd2 bench bench-smoke peer-suites engines apps-image guest-image tools stats

all: build

## build: compile bin/yoroi (cgo, -tags seccomp, static) and bin/containerd-shim-yoroi-v2
## (static without cgo and with containerd's shim build tags, as containerd builds its shims)
build: musl
	$(CGO_MUSL) $(GO) build $(GOFLAGS_BUILD) -o bin/yoroi ./cmd/yoroi
	CGO_ENABLED=0 $(GO) build -trimpath -tags "$(SHIM_TAGS)" -o bin/containerd-shim-yoroi-v2 ./cmd/containerd-shim-yoroi-v2

# musl: the headers and library musl-gcc needs beside its own, as links to Debian's.
musl:
	mkdir -p $(MUSL_DIR)/include $(MUSL_DIR)/lib
	ln -sfn /usr/include/linux $(MUSL_DIR)/include/linux
	ln -sfn /usr/include/asm-generic $(MUSL_DIR)/include/asm-generic
	ln -sfn /usr/include/$(MULTIARCH)/asm $(MUSL_DIR)/include/asm
	ln -sfn /usr/include/seccomp.h $(MUSL_DIR)/include/seccomp.h
	ln -sfn /usr/include/seccomp-syscalls.h $(MUSL_DIR)/include/seccomp-syscalls.h
	ln -sfn /usr/lib/$(MULTIARCH)/libseccomp.a $(MUSL_DIR)/lib/libseccomp.a

## install: install yoroi and its containerd shim into $(BINDIR) (default /usr/local/bin)
install: build
	install -D -m 0755 bin/yoroi $(DESTDIR)$(BINDIR)/yoroi
	install -D -m 0755 bin/containerd-shim-yoroi-v2 $(DESTDIR)$(BINDIR)/containerd-shim-yoroi-v2

# containerd 2.x for the tests, built from the Go module proxy (Debian ships 1.6).
CONTAINERD2_VERSION ?= v2.4.2
CONTAINERD2_DIR     := $(CURDIR)/bin/containerd-$(CONTAINERD2_VERSION)
$(CONTAINERD2_DIR)/containerd:
	GOBIN=$(CONTAINERD2_DIR) GOFLAGS=-mod=mod $(GO) install \
		github.com/containerd/containerd/v2/cmd/containerd@$(CONTAINERD2_VERSION) \
		github.com/containerd/containerd/v2/cmd/ctr@$(CONTAINERD2_VERSION)
# containerd's runc shim, built as containerd's Makefile builds it.
$(CONTAINERD2_DIR)/containerd-shim-runc-v2:
	CGO_ENABLED=0 GOBIN=$(CONTAINERD2_DIR) GOFLAGS=-mod=mod $(GO) install -tags "$(CONTAINERD_SHIM_TAGS)" \
		github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$(CONTAINERD2_VERSION)
# The same runc shim from the containerd library yoroi's shim is built on (go.mod), for
# the shim memory comparison at equal library version.
SHIM_LIB_VERSION = $(shell $(GO) list -m -f '{{.Version}}' github.com/containerd/containerd/v2)
SAMELIB_SHIM     := $(CURDIR)/bin/runc-shim-samelib/containerd-shim-runc-v2
$(SAMELIB_SHIM):
	CGO_ENABLED=0 GOBIN=$(dir $@) GOFLAGS=-mod=mod $(GO) install -tags "$(CONTAINERD_SHIM_TAGS)" \
		github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$(SHIM_LIB_VERSION)

# The newest runc, built from its module, for the benchmarks and for comparing seccomp
# filters in the integration tests.
RUNC_VERSION ?= v1.5.3
RUNC_DIR     := $(CURDIR)/bin/runc-$(RUNC_VERSION)
$(RUNC_DIR)/runc:
	GOBIN=$(RUNC_DIR) GOFLAGS=-mod=mod $(GO) install -tags seccomp -ldflags "-X main.gitCommit=$(RUNC_VERSION)" \
		github.com/opencontainers/runc@$(RUNC_VERSION)

# gVisor's runsc, the benchmarks' sandboxing peer (make bench), built from its module: gVisor
# publishes no Go module versions, so a pseudo-version of its go branch pins it.
RUNSC_VERSION ?= v0.0.0-20260905035102-160fafc42237
RUNSC         := $(CURDIR)/bin/runsc-$(RUNSC_VERSION)/runsc
$(RUNSC):
	CGO_ENABLED=0 GOBIN=$(dir $@) GOFLAGS=-mod=mod $(GO) install gvisor.dev/gvisor/runsc@$(RUNSC_VERSION)

# Peers' test suites, run against yoroi by the integration tests (integration/peers):
# runc's own bats suite from runc's module, bats from npm, the OCI runtime-tools
# validation binaries, and the images runc's tests use, built here. Cached by version.
BATS_VERSION          ?= 1.13.0
RUNTIME_TOOLS_VERSION ?= v0.9.1-0.20251114084447-edf4cb3d2116
# Bump when scripts/peer-suites.sh changes what it builds.
PEER_RECIPE       ?= 2
BATS_DIR          := $(CURDIR)/bin/bats-$(BATS_VERSION)
PEER_IMAGES_DIR   := $(CURDIR)/bin/peer-images-$(PEER_RECIPE)
RUNC_TESTS_DIR    := $(CURDIR)/bin/runc-tests-$(RUNC_VERSION)-$(PEER_RECIPE)
RUNTIME_TOOLS_DIR := $(CURDIR)/bin/runtime-tools-$(RUNTIME_TOOLS_VERSION)-$(PEER_RECIPE)
$(BATS_DIR):
	./scripts/peer-suites.sh bats $@ $(BATS_VERSION)
$(PEER_IMAGES_DIR):
	./scripts/peer-suites.sh images $@
$(RUNC_TESTS_DIR): | $(PEER_IMAGES_DIR)
	./scripts/peer-suites.sh runc-tests $@ $(RUNC_VERSION) $(PEER_IMAGES_DIR)
$(RUNTIME_TOOLS_DIR):
	./scripts/peer-suites.sh runtime-tools $@ $(RUNTIME_TOOLS_VERSION)
# Newer engines than Debian's, for the integration tests (scripts/engines.sh), cached by
# version: Docker 29 (moby v2's daemon and the docker CLI) and the CRI validation suite
# (cri-tools' critest and crictl, with a distribution registry to serve its images).
DOCKER_DAEMON_VERSION ?= v2.0.0-beta.24
DOCKER_CLI_VERSION    ?= v29.10.0
CRI_TOOLS_VERSION     ?= v1.37.0
REGISTRY_VERSION      ?= v3.1.2
ENGINES_RECIPE        ?= 1
DOCKER29_DIR   := $(CURDIR)/bin/docker-$(DOCKER_DAEMON_VERSION)-cli-$(DOCKER_CLI_VERSION)-$(ENGINES_RECIPE)
CRI_TOOLS_DIR  := $(CURDIR)/bin/cri-tools-$(CRI_TOOLS_VERSION)-registry-$(REGISTRY_VERSION)-$(ENGINES_RECIPE)
$(DOCKER29_DIR):
	./scripts/engines.sh docker $@ $(DOCKER_DAEMON_VERSION) $(DOCKER_CLI_VERSION)
$(CRI_TOOLS_DIR):
	./scripts/engines.sh cri-tools $@ $(CRI_TOOLS_VERSION) $(REGISTRY_VERSION)
# A Kubernetes node for the kubernetes-node guest: kubelet, kube-apiserver, kubectl, etcd.
KUBERNETES_VERSION ?= v1.37.2
ETCD_VERSION       ?= v3.6.16
KUBERNETES_DIR := $(CURDIR)/bin/kubernetes-$(KUBERNETES_VERSION)-etcd-$(ETCD_VERSION)-$(ENGINES_RECIPE)
$(KUBERNETES_DIR):
	./scripts/engines.sh kubernetes $@ $(KUBERNETES_VERSION) $(ETCD_VERSION)
## engines: build Docker 29, the CRI validation suite and a Kubernetes node into bin/
engines: $(DOCKER29_DIR) $(CRI_TOOLS_DIR) $(KUBERNETES_DIR)

# Real applications for the integration tests: a Debian bookworm image with Debian's nginx,
# PostgreSQL, Redis, Python 3 and Node.js (scripts/app-images.sh), cached under bin/ by
# the recipe's content.
APPS_RECIPE := $(shell sha256sum scripts/app-images.sh | cut -c1-12)
APPS_DIR    := $(CURDIR)/bin/apps-bookworm-$(APPS_RECIPE)
$(APPS_DIR):
	rm -rf $(wildcard $(CURDIR)/bin/apps-bookworm-*)
	./scripts/app-images.sh $@
## apps-image: build the real-application image the integration tests run
apps-image: $(APPS_DIR)

# The guest the VM tests boot under QEMU (scripts/guest-image.sh): Debian bookworm with its
# 6.1 kernel, systemd, AppArmor and SELinux, cached under bin/ by the recipe's content.
GUEST_RECIPE := $(shell cat scripts/guest-image.sh scripts/selinux/yoroi.te | sha256sum | cut -c1-12)
GUEST_DIR    := $(CURDIR)/bin/guest-bookworm-$(GUEST_RECIPE)
$(GUEST_DIR):
	rm -rf $(wildcard $(CURDIR)/bin/guest-bookworm-*)
	./scripts/guest-image.sh $@
## guest-image: build the VM tests' guest image
guest-image: $(GUEST_DIR)

## peer-suites: prepare runc's bats suite and the OCI runtime-tools validation suite
peer-suites: $(BATS_DIR) $(PEER_IMAGES_DIR) $(RUNC_TESTS_DIR) $(RUNTIME_TOOLS_DIR)

## tools: every tool, suite and image the tests and benchmarks use, cached under bin/.
## Independent of each other: .ci/run builds them with -j, the longest first (three of
## them are debootstraps, waiting on the network while the Go builds use the CPUs).
tools: $(GUEST_DIR) $(KUBERNETES_DIR) $(DOCKER29_DIR) $(APPS_DIR) $(RUNSC) $(RUNC_TESTS_DIR) \
	$(CRI_TOOLS_DIR) $(CONTAINERD2_DIR)/containerd $(CONTAINERD2_DIR)/containerd-shim-runc-v2 \
	$(SAMELIB_SHIM) $(RUNC_DIR)/runc $(RUNTIME_TOOLS_DIR) $(PEER_IMAGES_DIR) $(BATS_DIR)

BENCH_FLAGS = -yoroi bin/yoroi -shim bin/containerd-shim-yoroi-v2 -runc-new $(RUNC_DIR)/runc -containerd2 $(CONTAINERD2_DIR) \
	-runc-shim-samelib $(SAMELIB_SHIM) -runsc $(RUNSC) -apps $(APPS_DIR)

## bench: yoroi vs runc, crun and gVisor's runsc (start latency, real applications, syscall
## cost, id-mapped rootfs, attribution, containerd, shim memory, concurrency); writes
## bench/results/latest.md (BENCH_ARGS="-sections apps,syscall" runs some)
BENCH_ARGS ?=
bench: deps build containerd2 $(RUNC_DIR)/runc $(SAMELIB_SHIM) $(RUNSC) $(APPS_DIR)
	$(GO) run ./bench $(BENCH_FLAGS) $(BENCH_ARGS)

bench-smoke: build containerd2 $(RUNC_DIR)/runc $(SAMELIB_SHIM) $(RUNSC) $(APPS_DIR)
	$(GO) run ./bench $(BENCH_FLAGS) $(BENCH_ARGS) -smoke -out $(CURDIR)/bin/bench-smoke.md

## containerd2: build containerd and ctr $(CONTAINERD2_VERSION) into bin/
containerd2: $(CONTAINERD2_DIR)/containerd $(CONTAINERD2_DIR)/containerd-shim-runc-v2

## deps: install the Debian packages yoroi's build, demo and tests need (root)
deps:
	./scripts/install-deps.sh

## demo: run one hardened container and show what was enforced
demo: deps build
	./scripts/demo.sh bin/yoroi

## test: lint, unit tests, a short fuzz run, integration tests with real containers and
## daemons, and one iteration of the benchmark harness (root)
test: deps lint build unit fuzz bench-smoke integration

# The runtime package's tests run real containers through its API: the test binary is
# what libcontainer re-executes as the container's init, so it is linked statically, as
# bin/yoroi is (with musl). Coverage per package is printed.
unit: musl
	$(CGO_MUSL) $(GO) test -count=1 -cover -tags "$(BUILDTAGS) $(STATIC_TAGS)" -ldflags "-extldflags -static" $$($(GO) list ./... | grep -v -e /integration -e /bench -e /shim -e /scripts)
	CGO_ENABLED=0 $(GO) test -count=1 -cover -tags "$(SHIM_TAGS)" ./shim/...
	CGO_ENABLED=0 $(GO) test -count=1 ./bench/

# The peers' suites print their totals ("N passed, N failed") to PEER_RESULTS/totals.txt,
# shown after the run whatever its outcome; their TAP output is kept beside it.
PEER_RESULTS := $(CURDIR)/bin/peer-results
integration: containerd2 $(RUNC_DIR)/runc peer-suites engines $(APPS_DIR) $(GUEST_DIR)
	rm -rf $(PEER_RESULTS) && mkdir -p $(PEER_RESULTS)
	YOROI_BINARY=$(CURDIR)/bin/yoroi CONTAINERD2_DIR=$(CONTAINERD2_DIR) RUNC_NEWEST=$(RUNC_DIR)/runc \
	BATS=$(BATS_DIR)/node_modules/bats/bin/bats RUNC_TESTS=$(RUNC_TESTS_DIR) RUNTIME_TOOLS=$(RUNTIME_TOOLS_DIR) \
	DOCKER29_DIR=$(DOCKER29_DIR) CRI_TOOLS_DIR=$(CRI_TOOLS_DIR) KUBERNETES_DIR=$(KUBERNETES_DIR) \
	PEER_RESULTS=$(PEER_RESULTS) APPS_IMAGE=$(APPS_DIR) GUEST_IMAGE=$(GUEST_DIR) \
		$(GO) test -count=1 -timeout 50m -tags "$(BUILDTAGS)" ./integration/...; \
	status=$$?; cat $(PEER_RESULTS)/totals.txt 2>/dev/null; exit $$status

## fuzz: a short run of every fuzz target (FUZZTIME each)
FUZZTIME ?= 50000x
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseConfig$$' -fuzztime $(FUZZTIME) ./hardening
	$(GO) test -run '^$$' -fuzz '^FuzzApply$$' -fuzztime $(FUZZTIME) ./hardening
	$(GO) test -run '^$$' -fuzz '^FuzzImageRef$$' -fuzztime $(FUZZTIME) ./hardening
	$(GO) test -run '^$$' -fuzz '^FuzzSecretValueTests$$' -fuzztime $(FUZZTIME) ./hardening
	$(GO) test -run '^$$' -fuzz '^FuzzParseSpec$$' -fuzztime $(FUZZTIME) ./runtime

## lint: gofmt and go vet
lint:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './bin/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags "$(BUILDTAGS)" ./...
	CGO_ENABLED=0 $(GO) vet -tags "$(SHIM_TAGS)" ./shim/... ./cmd/containerd-shim-yoroi-v2/

## stats: the longest and most complex functions (design reviews)
stats:
	$(GO) run ./scripts/codestats -top 12

clean:
	rm -rf bin

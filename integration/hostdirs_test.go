package integration

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The daemons the tests start (containerd 1.6 and 2.x, Docker 20.10 and 29, the kubelet's
// containerd) keep their state, sockets and containers in the tests' directories. The
// host's own daemons' directories must not gain anything: a test that wrote to them could
// take the socket or the state of a containerd or Docker the host runs.
var hostDaemonDirs = []string{
	"/run/containerd",     // containerd's state, the runc shim's root, ctr's FIFOs
	"/var/lib/containerd", // containerd's root
	"/run/docker",         // Docker's exec root
	"/run/docker.sock",    // Docker's socket (/var/run is /run)
	"/var/lib/docker",     // Docker's data root
	"/run/nri",            // containerd 2.x's NRI socket
	"/run/netns",          // the CRI's network namespaces
	"/var/lib/cni",        // host-local's addresses, libcni's cache
}

// unavoidableHostPaths are what no configuration moves, each made by the daemon itself:
// containerd's shim library puts every shim's socket in /run/containerd/s (a constant,
// containerd 1.6 to 2.4; each socket is removed as its shim exits), dockerd makes
// /run/docker/plugins (its plugin socket directory, a constant), and containerd's CRI
// keeps libcni's cache of results in /var/lib/cni/results (no option moves it).
// Directories only: a file left in them is still a leak, except a result in CNI's cache,
// which names the test's network and container.
var unavoidableHostPaths = []string{"/run/containerd", "/run/containerd/s", "/run/docker", "/run/docker/plugins", "/var/lib/cni", "/var/lib/cni/results"}

// hostDirsSnapshot lists the paths under hostDaemonDirs, with whether each is a
// directory: all of them, but for the first maxHostDirPaths of a tree as large as a
// working Docker's data root on a host that has one.
func hostDirsSnapshot() map[string]bool {
	const maxHostDirPaths = 100000
	seen := map[string]bool{}
	for _, root := range hostDaemonDirs {
		n := 0
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			seen[path] = d.IsDir()
			if n++; n >= maxHostDirPaths {
				return fs.SkipAll
			}
			return nil
		})
	}
	return seen
}

// hostDirsLeaks is what after has that before had not, less the unavoidable.
func hostDirsLeaks(before, after map[string]bool) error {
	var leaks []string
	for path, dir := range after {
		if _, ok := before[path]; ok {
			continue
		}
		if dir && slices.Contains(unavoidableHostPaths, path) {
			continue
		}
		if !dir && filepath.Dir(path) == "/var/lib/cni/results" && strings.HasPrefix(filepath.Base(path), "yoroi-test-") {
			continue
		}
		leaks = append(leaks, path)
	}
	if len(leaks) == 0 {
		return nil
	}
	slices.Sort(leaks)
	if len(leaks) > 20 {
		leaks = append(leaks[:20], fmt.Sprintf("… %d more", len(leaks)-20))
	}
	return errors.New("the tests left paths in the host daemons' directories:\n  " + strings.Join(leaks, "\n  "))
}

// removeNewEmptyDirs removes the unavoidable directories the tests made (absent before),
// deepest first, where they are empty again: the host is left as it was. A directory a
// daemon of the host's uses meanwhile is not empty, and os.Remove leaves it.
func removeNewEmptyDirs(before map[string]bool) {
	made := slices.DeleteFunc(slices.Clone(unavoidableHostPaths), func(p string) bool { _, ok := before[p]; return ok })
	slices.SortFunc(made, func(a, b string) int { return len(b) - len(a) })
	for _, p := range made {
		_ = os.Remove(p)
	}
}

func TestHostDirsLeaks(t *testing.T) {
	before := map[string]bool{"/run/containerd": true, "/run/containerd/runc": true}
	clean := map[string]bool{"/run/containerd": true, "/run/containerd/runc": true, "/run/containerd/s": true,
		"/var/lib/cni": true, "/var/lib/cni/results": true, "/var/lib/cni/results/yoroi-test-0123-eth0": false}
	if err := hostDirsLeaks(before, clean); err != nil {
		t.Errorf("the unavoidable reported: %v", err)
	}
	leaky := map[string]bool{"/run/containerd": true, "/run/containerd/runc": true, "/run/containerd/runc/k8s.io": true,
		"/run/containerd/s": true, "/run/containerd/s/0123": false, "/run/nri/nri.sock": false}
	err := hostDirsLeaks(before, leaky)
	if err == nil {
		t.Fatal("leaks not reported")
	}
	for _, want := range []string{"/run/containerd/runc/k8s.io", "/run/containerd/s/0123", "/run/nri/nri.sock"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s not reported: %v", want, err)
		}
	}
}

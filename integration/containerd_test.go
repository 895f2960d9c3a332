package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	introspection "github.com/containerd/containerd/api/services/introspection/v1"
	apitypes "github.com/containerd/containerd/api/types"
	"github.com/containerd/containerd/api/types/runc/options"
	runtimeoptions "github.com/containerd/containerd/api/types/runtimeoptions/v1"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
)

// containerd is a containerd daemon of a given major version started for a test.
type containerd struct {
	*daemon
	ctr  string
	sock string
	v2   bool
}

const containerd16Config = `version = 2
root = "%[1]s/root"
state = "%[1]s/state"
[grpc]
  address = "%[1]s/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  disable_apparmor = true
  restrict_oom_score_adj = true
  sandbox_image = "` + pauseRef + `"
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "%[1]s/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      Root = "%[1]s/runc"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.yoroi]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.yoroi.options]
      BinaryName = "%[2]s"
      Root = "%[1]s/yoroi"
`

// containerd2Header is where a containerd 2.x of a test keeps its state and sockets: its
// directory (%[1]s), NRI's socket included (its default is /var/run/nri/nri.sock).
// yoroi's shim keeps its containers' state in state/yoroi (shim.DefaultRoot). What no
// configuration moves: every shim's socket is in /run/containerd/s, a constant of
// containerd's shim library (removed as each shim exits; TestMain checks that nothing
// else is left in the host daemons' directories).
const containerd2Header = `version = 3
root = "%[1]s/root"
state = "%[1]s/state"
[grpc]
  address = "%[1]s/containerd.sock"
[plugins."io.containerd.nri.v1.nri"]
  socket_path = "%[1]s/nri.sock"
  plugin_path = "%[1]s/nri/plugins"
  plugin_config_path = "%[1]s/nri/conf.d"
`

const containerd2Config = containerd2Header + `[plugins."io.containerd.cri.v1.images".pinned_images]
  sandbox = "` + pauseRef + `"
[plugins."io.containerd.cri.v1.runtime"]
  enable_selinux = false
  disable_apparmor = true
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.yoroi]
    runtime_type = "io.containerd.yoroi.v2"
  [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.yoroi-binary]
    runtime_type = "io.containerd.yoroi.v2"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.yoroi-binary.options]
      ConfigPath = "%[1]s/yoroi-binary.toml"
  [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.yoroi-shim-cgroup]
    runtime_type = "io.containerd.yoroi.v2"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.yoroi-shim-cgroup.options]
      ShimCgroup = "` + shimCgroup + `"
  [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.yoroi-no-pivot]
    runtime_type = "io.containerd.yoroi.v2"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.yoroi-no-pivot.options]
      NoPivotRoot = true
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = "%[1]s/cni"
`

// shimCgroup is the cgroup the handler yoroi-shim-cgroup puts its shims in (runc's option
// ShimCgroup).
const shimCgroup = "/yoroi-it-shims"

// cniConfig: a bridge with host-local addresses, so that pods get a network namespace;
// the addresses handed out are recorded in the test's directory (%[3]s), not in
// host-local's default /var/lib/cni/networks. (libcni's cache of results stays in
// /var/lib/cni/results, which containerd's CRI does not let a configuration move.)
const cniConfig = `{"cniVersion": "0.4.0", "name": "yoroi-test", "plugins": [
  {"type": "bridge", "bridge": "%[1]s", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "dataDir": "%[3]s", "ranges": [[{"subnet": "%[2]s"}]]}},
  {"type": "loopback"}]}`

// startContainerd starts Debian's containerd 1.6 (v2 false) or the containerd 2.x the
// Makefile builds ($CONTAINERD2_DIR), with test images imported. binaryName is the
// runtime binary the CRI handlers that name one use.
func startContainerd(t *testing.T, v2 bool, binaryName string) *containerd {
	t.Helper()
	return startContainerdEnv(t, v2, binaryName, nil)
}

// startContainerdEnv starts containerd with env added to its environment (which its
// shims, and yoroi, inherit).
func startContainerdEnv(t *testing.T, v2 bool, binaryName string, env []string) *containerd {
	t.Helper()
	testImages(t)
	dir := privateDir(t)
	bin, ctr, tmpl, bridge, subnet := "containerd", "ctr", containerd16Config, "yoroi-c16", "10.88.0.0/24"
	if v2 {
		d := os.Getenv("CONTAINERD2_DIR")
		if d == "" {
			t.Fatal("CONTAINERD2_DIR is not set: run the tests through make (make test builds containerd 2.x)")
		}
		bin, ctr, tmpl, bridge, subnet = filepath.Join(d, "containerd"), filepath.Join(d, "ctr"), containerd2Config, "yoroi-c2", "10.88.1.0/24"
	}
	for _, p := range []string{bin, ctr} {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "cni"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cni", "10-yoroi.conflist"), []byte(fmt.Sprintf(cniConfig, bridge, subnet, filepath.Join(dir, "cni-ipam"))), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", bridge).Run() })
	// CRI hands non-runc runtime types generic options: a TOML file of runc's options,
	// which containerd-shim-yoroi-v2 translates.
	if err := os.WriteFile(filepath.Join(dir, "yoroi-binary.toml"), []byte(fmt.Sprintf("BinaryName = %q\n", binaryName)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(tmpl, dir, binaryName)), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "containerd.sock")
	c := &containerd{ctr: ctr, sock: sock, v2: v2}
	c.daemon = startDaemon(t, "containerd", dir, env, sock, bin, "--config", cfg)
	for _, ns := range []string{"default", "k8s.io"} {
		for _, img := range []string{images.busybox, images.pause} {
			if out, err := c.run("-n", ns, "images", "import", img); err != nil {
				t.Fatalf("import %s: %v: %s", img, err, out)
			}
		}
	}
	return c
}

// run runs ctr against the daemon, with the flags that keep what it starts in the
// daemon's directory: the IO FIFOs of the tasks it runs, starts or execs (ctr's default
// is /run/containerd/fifo), and the state of runc's shim where the command names runc
// (its default is /run/containerd/runc).
func (c *containerd) run(args ...string) (string, error) {
	return runClient(c.ctr, append([]string{"--address", c.sock}, c.ownDirs(args)...)...)
}

// ownDirs inserts the flags run describes after ctr's subcommand.
func (c *containerd) ownDirs(args []string) []string {
	i := 0
	if len(args) > 1 && (args[0] == "-n" || args[0] == "--namespace") {
		i = 2
	}
	if i >= len(args) {
		return args
	}
	var flags []string
	switch sub := args[i]; {
	case sub == "run":
		flags = []string{"--fifo-dir", filepath.Join(c.dir, "fifo")}
		if !slices.Contains(args, "--runtime") || slices.Contains(args, "io.containerd.runc.v2") {
			flags = append(flags, "--runc-root", filepath.Join(c.dir, "runc"))
		}
	case (sub == "task" || sub == "tasks" || sub == "t") && i+1 < len(args) && (args[i+1] == "exec" || args[i+1] == "start"):
		i++
		flags = []string{"--fifo-dir", filepath.Join(c.dir, "fifo")}
	default:
		return args
	}
	return append(append(append([]string{}, args[:i+1]...), flags...), args[i+1:]...)
}

// Debian's containerd 1.6 runs yoroi through its own runc shim with BinaryName: 1.6 cannot
// load shims built on containerd 2.x's library (bootstrap and task API v3).
func TestContainerd16RuncShimWithYoroi(t *testing.T) {
	c := startContainerd(t, false, yoroiBin)
	tools := toolsDir(t)
	out, err := c.run("run", "--rm", "--runtime", "io.containerd.runc.v2", "--runc-binary", yoroiBin,
		"--mount", "type=bind,src="+tools+",dst=/tools,options=rbind:ro", busyboxRef, uniqueID("ctr16"), "sh", "-c", hardeningProbe)
	if err != nil {
		t.Fatalf("ctr run: %v\n%s", err, out)
	}
	assertHardened(t, "containerd 1.6 + runc.v2 shim + yoroi", out)
}

func TestContainerd2YoroiShim(t *testing.T) {
	c := startContainerd(t, true, yoroiBin)
	tools := toolsDir(t)
	mount := "type=bind,src=" + tools + ",dst=/tools,options=rbind:ro"
	out, err := c.run("run", "--rm", "--runtime", "io.containerd.yoroi.v2", "--mount", mount, busyboxRef, uniqueID("ctr2"), "sh", "-c", hardeningProbe)
	if err != nil {
		t.Fatalf("ctr run: %v\n%s", err, out)
	}
	assertHardened(t, "containerd 2.x + containerd-shim-yoroi-v2", out)

	// A detached task: the shim listens on a socket file in a private directory, never
	// on an abstract socket (CVE-2020-15257).
	id := uniqueID("ctr2-detached")
	if out, err := c.run("run", "-d", "--runtime", "io.containerd.yoroi.v2", busyboxRef, id, "sleep", "1000"); err != nil {
		t.Fatalf("ctr run -d: %v\n%s", err, out)
	}
	defer func() {
		_, _ = c.run("task", "kill", "-s", "KILL", id)
		_, _ = c.run("task", "delete", "-f", id)
		_, _ = c.run("container", "delete", id)
		// The shim deleted the container where it created it.
		if _, err := os.Stat(filepath.Join(c.dir, "state", "yoroi", "default", id)); err == nil {
			t.Errorf("yoroi's state for %s is left after the task's delete", id)
		}
	}()
	addr := shimAddress(t, filepath.Join(c.dir, "state", "io.containerd.runtime.v2.task", "default", id))
	path, ok := strings.CutPrefix(addr, "unix://")
	if !ok || strings.HasPrefix(path, "@") || strings.HasPrefix(path, "\x00") {
		t.Fatalf("shim address %q is not a socket file", addr)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode()&os.ModeSocket == 0 {
		t.Fatalf("shim socket %s: %v %v", path, st, err)
	}
	if pst, err := os.Stat(filepath.Dir(path)); err != nil || pst.Mode().Perm()&0o022 != 0 {
		t.Errorf("shim socket directory %s is writable by others: %v", filepath.Dir(path), pst.Mode())
	}
	// The container's state is in this containerd's state directory (shim.DefaultRoot),
	// not in runc's /run/containerd/runc: no options named a root.
	if _, err := os.Stat(filepath.Join(c.dir, "state", "yoroi", "default", id, "state.json")); err != nil {
		t.Errorf("yoroi's state for %s is not in the containerd's state directory: %v", id, err)
	}
	if _, err := os.Stat(filepath.Join("/run/containerd/runc/default", id)); err == nil {
		t.Errorf("yoroi's state for %s is in runc's root", id)
	}
	// exec through the shim.
	out, err = c.run("task", "exec", "--exec-id", "probe", id, "sh", "-c", "grep NoNewPrivs /proc/self/status")
	if err != nil || !strings.Contains(out, "NoNewPrivs:\t1") {
		t.Errorf("task exec: %v %q", err, out)
	}

	// containerd restarted (an upgrade): the shim and the container keep running, and the
	// new daemon reconnects to the shim it finds in the task's bootstrap.json.
	c.restart(c.sock)
	if out, err := c.run("task", "ls"); err != nil || !strings.Contains(out, id) || !strings.Contains(out, "RUNNING") {
		t.Errorf("task ls after a containerd restart: %v\n%s", err, out)
	}
	out, err = c.run("task", "exec", "--exec-id", "probe-after-restart", id, "sh", "-c", "grep NoNewPrivs /proc/self/status")
	if err != nil || !strings.Contains(out, "NoNewPrivs:\t1") {
		t.Errorf("task exec after a containerd restart: %v %q", err, out)
	}

	// containerd asks the shim binary ("info", through the introspection API) for the
	// runtime's features and options; the CRI plugin tells the kubelet from them whether
	// a handler supports user namespaces. Generic runtime options, which containerd hands
	// every runtime type but runc's, come back as runc's; ones that do not parse are refused.
	for _, tc := range []struct {
		name       string
		opts       proto.Message
		binaryName string // BinaryName in the options info returns
		err        string
	}{
		{name: "no options"},
		{name: "runc's options", opts: &options.Options{BinaryName: yoroiBin}, binaryName: yoroiBin},
		{name: "generic options", opts: &runtimeoptions.Options{ConfigBody: []byte(fmt.Sprintf("BinaryName = %q\n", yoroiBin))}, binaryName: yoroiBin},
		{name: "empty generic options", opts: &runtimeoptions.Options{}},
		{name: "unknown key", opts: &runtimeoptions.Options{ConfigBody: []byte("BinaryNmae = \"yoroi\"\n")}, err: "runtime options: unknown key"},
	} {
		info, err := shimInfo(t, c.sock, tc.opts)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("info, %s: error %v, want one containing %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("info, %s: %v", tc.name, err)
			continue
		}
		if f := info.GetFeatures(); f == nil || !strings.Contains(string(f.GetValue()), `"user"`) {
			t.Errorf("info, %s: features %v do not list the user namespace", tc.name, f)
		}
		var got string
		if o := info.GetOptions(); o != nil {
			v, err := typeurl.UnmarshalAny(o)
			ro, ok := v.(*options.Options)
			if err != nil || !ok {
				t.Errorf("info, %s: options %T %v, want runc's", tc.name, v, err)
				continue
			}
			got = ro.BinaryName
		}
		if got != tc.binaryName {
			t.Errorf("info, %s: BinaryName %q, want %q", tc.name, got, tc.binaryName)
		}
	}
}

// shimInfo is what containerd's CRI plugin asks at start-up for each handler: the
// runtime info of io.containerd.yoroi.v2 with the given runtime options.
func shimInfo(t *testing.T, sock string, opts proto.Message) (*apitypes.RuntimeInfo, error) {
	t.Helper()
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rr := &apitypes.RuntimeRequest{RuntimePath: "io.containerd.yoroi.v2"}
	if opts != nil {
		if rr.Options, err = typeurl.MarshalAnyToProto(opts); err != nil {
			t.Fatal(err)
		}
	}
	req, err := typeurl.MarshalAnyToProto(rr)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := introspection.NewIntrospectionClient(conn).PluginInfo(ctx(t), &introspection.PluginInfoRequest{Type: "io.containerd.runtime.v2", ID: "task", Options: req})
	if err != nil {
		return nil, err
	}
	var info apitypes.RuntimeInfo
	if err := typeurl.UnmarshalTo(resp.GetExtra(), &info); err != nil {
		t.Fatal(err)
	}
	return &info, nil
}

// shimAddress reads the shim's address from the task directory (containerd 2.x writes
// bootstrap.json, 1.x an address file).
func shimAddress(t *testing.T, taskDir string) string {
	t.Helper()
	if data, err := os.ReadFile(filepath.Join(taskDir, "bootstrap.json")); err == nil {
		var b struct {
			Address string `json:"address"`
		}
		if err := json.Unmarshal(data, &b); err != nil {
			t.Fatal(err)
		}
		return b.Address
	}
	data, err := os.ReadFile(filepath.Join(taskDir, "address"))
	if err != nil {
		t.Fatalf("no shim address in %s: %v", taskDir, err)
	}
	return strings.TrimSpace(string(data))
}

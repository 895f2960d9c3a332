package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	cri "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// criClient is a minimal Kubernetes CRI client (what the kubelet does, through the
// RuntimeClass handler), driving containerd's CRI plugin.
type criClient struct {
	t  *testing.T
	rt cri.RuntimeServiceClient
}

func newCRIClient(t *testing.T, sock string) *criClient {
	t.Helper()
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &criClient{t: t, rt: cri.NewRuntimeServiceClient(conn)}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return c
}

// pod runs a sandbox with handler, a container in it with /tools mounted read-only, and
// returns the probe's output from an ExecSync in that container; it removes both.
func (c *criClient) pod(handler, tools string, userns *cri.UserNamespace) string {
	t := c.t
	t.Helper()
	nsOpts := &cri.NamespaceOption{Network: cri.NamespaceMode_POD, Pid: cri.NamespaceMode_CONTAINER, Ipc: cri.NamespaceMode_POD, UsernsOptions: userns}
	sbCfg := sandboxConfig(t, "pod")
	sbCfg.Linux = &cri.LinuxPodSandboxConfig{SecurityContext: &cri.LinuxSandboxSecurityContext{NamespaceOptions: nsOpts}}
	sbID, remove := c.runSandbox(handler, sbCfg)
	defer remove()
	cfg := sleeperConfig(&cri.Mount{ContainerPath: "/tools", HostPath: tools, Readonly: true})
	cfg.LogPath = "app.log"
	cfg.Linux = &cri.LinuxContainerConfig{SecurityContext: &cri.LinuxContainerSecurityContext{NamespaceOptions: nsOpts}}
	cc, err := c.rt.CreateContainer(ctx(t), &cri.CreateContainerRequest{PodSandboxId: sbID, SandboxConfig: sbCfg, Config: cfg})
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	if _, err := c.rt.StartContainer(ctx(t), &cri.StartContainerRequest{ContainerId: cc.ContainerId}); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	assertPostureChecked(t, "CRI handler "+handler+" (sandbox)", sbID)
	assertPostureChecked(t, "CRI handler "+handler, cc.ContainerId)
	ex, err := c.rt.ExecSync(ctx(t), &cri.ExecSyncRequest{ContainerId: cc.ContainerId, Cmd: []string{"sh", "-c", hardeningProbe}, Timeout: 30})
	if err != nil || ex.ExitCode != 0 {
		t.Fatalf("ExecSync: %v (exit %d) %s %s", err, ex.GetExitCode(), ex.GetStdout(), ex.GetStderr())
	}
	// In-place resize: the kubelet's UpdateContainerResources reaches yoroi as
	// "update --resources -" through the shim.
	const limit = 96 << 20
	if _, err := c.rt.UpdateContainerResources(ctx(t), &cri.UpdateContainerResourcesRequest{ContainerId: cc.ContainerId,
		Linux: &cri.LinuxContainerResources{MemoryLimitInBytes: limit, CpuShares: 512}}); err != nil {
		t.Errorf("UpdateContainerResources (handler %s): %v", handler, err)
	} else {
		lim, err := c.rt.ExecSync(ctx(t), &cri.ExecSyncRequest{ContainerId: cc.ContainerId, Timeout: 30,
			Cmd: []string{"sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max"}})
		if err != nil || strings.TrimSpace(string(lim.GetStdout())) != fmt.Sprint(limit) {
			t.Errorf("memory limit after UpdateContainerResources (handler %s): %v %q %q", handler, err, lim.GetStdout(), lim.GetStderr())
		}
	}
	if _, err := c.rt.StopContainer(ctx(t), &cri.StopContainerRequest{ContainerId: cc.ContainerId, Timeout: 10}); err != nil {
		t.Errorf("StopContainer: %v", err)
	}
	if _, err := c.rt.RemoveContainer(ctx(t), &cri.RemoveContainerRequest{ContainerId: cc.ContainerId}); err != nil {
		t.Errorf("RemoveContainer: %v", err)
	}
	return string(ex.Stdout)
}

// sleeperConfig is a busybox container "app" that sleeps, with mounts.
func sleeperConfig(mounts ...*cri.Mount) *cri.ContainerConfig {
	return &cri.ContainerConfig{
		Metadata: &cri.ContainerMetadata{Name: "app"},
		Image:    &cri.ImageSpec{Image: busyboxRef},
		Command:  []string{"sleep", "1000"},
		Mounts:   mounts,
	}
}

// sandboxConfig is a pod sandbox's minimal configuration, named uniquely.
func sandboxConfig(t *testing.T, prefix string) *cri.PodSandboxConfig {
	uid := uniqueID(prefix)
	return &cri.PodSandboxConfig{
		Metadata:     &cri.PodSandboxMetadata{Name: uid, Namespace: "default", Uid: uid},
		LogDirectory: privateDir(t),
	}
}

// runSandbox runs a pod sandbox with handler; remove stops and removes it.
func (c *criClient) runSandbox(handler string, cfg *cri.PodSandboxConfig) (id string, remove func()) {
	t := c.t
	t.Helper()
	sb, err := c.rt.RunPodSandbox(ctx(t), &cri.RunPodSandboxRequest{Config: cfg, RuntimeHandler: handler})
	if err != nil {
		t.Fatalf("RunPodSandbox (handler %s): %v", handler, err)
	}
	return sb.PodSandboxId, func() {
		_, _ = c.rt.StopPodSandbox(ctx(t), &cri.StopPodSandboxRequest{PodSandboxId: sb.PodSandboxId})
		if _, err := c.rt.RemovePodSandbox(ctx(t), &cri.RemovePodSandboxRequest{PodSandboxId: sb.PodSandboxId}); err != nil {
			t.Errorf("RemovePodSandbox: %v", err)
		}
	}
}

// Kubernetes with containerd 2.x: the RuntimeClass handler "yoroi" selects
// runtime_type io.containerd.yoroi.v2.
func TestKubernetesCRIContainerd2(t *testing.T) {
	// The handler "yoroi-binary" names the runtime binary through BinaryName: a wrapper
	// that records that it was used, then runs yoroi.
	wrapperDir := privateDir(t)
	marker := filepath.Join(wrapperDir, "used")
	wrapper := filepath.Join(wrapperDir, "yoroi-wrapper")
	script := "#!/bin/sh\necho \"$@\" >> " + marker + "\nexec " + yoroiBin + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	c := startContainerd(t, true, wrapper)
	client := newCRIClient(t, c.sock)
	tools := toolsDir(t)

	assertHardened(t, "CRI handler yoroi (containerd 2.x)", client.pod("yoroi", tools, nil))

	// hostUsers: false: the kubelet asks for a pod user namespace with its own mapping;
	// yoroi keeps it (it maps no host id below userns.min_host_id).
	m := []*cri.IDMapping{{HostId: 7 * 65536, ContainerId: 0, Length: 65536}}
	out := client.pod("yoroi", tools, &cri.UserNamespace{Mode: cri.NamespaceMode_POD, Uids: m, Gids: m})
	assertHardened(t, "CRI pod with a user namespace", out)
	if !strings.Contains(out, "uid_map= 0 458752 65536") {
		t.Errorf("the pod's own mapping was not used:\n%s", out)
	}

	// containerd asks each handler's runtime for its features at start-up: the wrapper
	// answered that, but has created nothing before its handler is used.
	if data, _ := os.ReadFile(marker); strings.Contains(string(data), "create") {
		t.Fatalf("the wrapper created containers before its handler was used: %s", data)
	}
	assertHardened(t, "CRI handler with BinaryName", client.pod("yoroi-binary", tools, nil))
	if data, err := os.ReadFile(marker); err != nil || !strings.Contains(string(data), "create") {
		t.Errorf("BinaryName was not used: %q %v", data, err)
	}

	client.assertShimCgroup()

	// runc's NoPivotRoot reaches yoroi as --no-pivot, which the default policy refuses.
	_, err := client.rt.RunPodSandbox(ctx(t), &cri.RunPodSandboxRequest{RuntimeHandler: "yoroi-no-pivot", Config: sandboxConfig(t, "nopivot")})
	if err == nil || !strings.Contains(err.Error(), "refused by rule rootfs.pivot") {
		t.Errorf("RunPodSandbox with NoPivotRoot: %v, want the rootfs.pivot refusal", err)
	}

	// The kubelet admits a hostUsers: false pod, or a recursively read-only mount, only on
	// a handler whose features containerd read from the shim ("info") at start-up, as
	// CRI's Status reports them, whatever the handler's options.
	st, err := client.rt.Status(ctx(t), &cri.StatusRequest{})
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	for _, name := range []string{"yoroi", "yoroi-binary"} {
		var h *cri.RuntimeHandler
		for _, rh := range st.RuntimeHandlers {
			if rh.Name == name {
				h = rh
			}
		}
		switch {
		case h == nil:
			t.Errorf("Status lists no runtime handler %q", name)
		case !h.Features.GetUserNamespaces():
			t.Errorf("handler %q: containerd found no user namespace support (the shim's features were not read)", name)
		case !h.Features.GetRecursiveReadOnlyMounts():
			t.Errorf("handler %q: containerd found no recursive read-only mounts (the shim's features were not read)", name)
		}
	}
}

// assertShimCgroup runs a sandbox with the handler yoroi-shim-cgroup, whose options set
// runc's ShimCgroup, and checks that its shim runs in that cgroup (containerd hands the
// options to the shim's start action, as generic options for any runtime type but runc's).
func (c *criClient) assertShimCgroup() {
	t := c.t
	t.Helper()
	// The runc shim loads the cgroup from the hierarchies where it exists (cgroup v1) or
	// from the unified one: make it in the pids hierarchy, or in cgroup2 on a v2 host.
	dir := "/sys/fs/cgroup/pids" + shimCgroup
	if _, err := os.Stat("/sys/fs/cgroup/pids"); err != nil {
		dir = "/sys/fs/cgroup" + shimCgroup
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(dir) })
	sbID, remove := c.runSandbox("yoroi-shim-cgroup", sandboxConfig(t, "shimcg"))
	defer remove()
	pids, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, pid := range strings.Fields(string(pids)) {
		cmdline, _ := os.ReadFile(filepath.Join("/proc", pid, "cmdline"))
		if strings.Contains(string(cmdline), "containerd-shim-yoroi-v2") && strings.Contains(string(cmdline), "\x00-id\x00"+sbID+"\x00") {
			return
		}
	}
	t.Errorf("the shim of sandbox %s is not in ShimCgroup %s (its processes: %q)", sbID, shimCgroup, pids)
}

// Kubernetes on Debian's containerd 1.6: the handler "yoroi" is the runc.v2 shim with
// BinaryName = yoroi.
func TestKubernetesCRIContainerd16(t *testing.T) {
	c := startContainerd(t, false, yoroiBin)
	client := newCRIClient(t, c.sock)
	assertHardened(t, "CRI handler yoroi (containerd 1.6)", client.pod("yoroi", toolsDir(t), nil))
}

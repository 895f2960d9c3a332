package monitor

import (
	"encoding/binary"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// handAsEnv makes the test binary hand a monitor to the host its value names and print
// the outcome (TestHostRefusesOthers runs it as another user).
const handAsEnv = "YOROI_MONITOR_TEST_HAND"

func TestMain(m *testing.M) {
	if host := os.Getenv(handAsEnv); host != "" {
		if err := Hand(host, testConfig(os.TempDir()), os.Stdin); err != nil {
			io.WriteString(os.Stdout, err.Error())
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// testConfig is a monitor that allows every call and audits execs.
func testConfig(dir string) Config {
	allow := make([]byte, 8)
	binary.NativeEndian.PutUint16(allow[0:2], unix.BPF_RET|unix.BPF_K)
	binary.NativeEndian.PutUint32(allow[4:8], unix.SECCOMP_RET_ALLOW)
	return Config{Version: ConfigVersion, ID: "c1", AuditPath: filepath.Join(dir, "audit.jsonl"), Filter: allow, Plan: hardening.MonitorPlan{Exec: true}}
}

// startHost serves a host in this process, on a socket in dir.
func startHost(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "host.sock")
	ln, err := ListenHost(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go Host(ln)
	return path
}

// monitorSocket binds a monitor's socket at path, as the runtime does, and returns it.
func monitorSocket(t *testing.T, path string) *os.File {
	t.Helper()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	f, err := ln.File()
	ln.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// A host takes a monitor handed to it and serves it: a process of the container that
// connects and goes away ends it, and its socket is closed then. Paths longer than a
// socket address work (containerd's bundles make such).
func TestHostTakesAMonitor(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 100))
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	host := startHost(t, dir)
	if st, err := os.Stat(host); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("host socket: %v %v, want mode 0600", st, err)
	}
	msock := filepath.Join(t.TempDir(), "m.sock")
	handed := monitorSocket(t, msock)
	if err := Hand(host, testConfig(dir), handed); err != nil {
		t.Fatalf("hand-off: %v", err)
	}
	handed.Close() // as the runtime does: the socket is the host's alone
	conn, err := net.Dial("unix", msock)
	if err != nil {
		t.Fatalf("the hosted monitor takes no connection: %v", err)
	}
	conn.Close() // a process that went away before offering its listener
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		conn, err := net.Dial("unix", msock)
		if err != nil {
			break // served, and ended
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("the hosted monitor did not end with its container's last process")
		}
	}

	bad := testConfig(dir)
	bad.Version = ConfigVersion + 1
	if err := Hand(host, bad, monitorSocket(t, filepath.Join(t.TempDir(), "m.sock"))); err == nil || !strings.Contains(err.Error(), "version") {
		t.Errorf("a configuration of another version: %v, want a refusal", err)
	}
	if err := Hand(filepath.Join(dir, "none.sock"), testConfig(dir), monitorSocket(t, filepath.Join(t.TempDir(), "m.sock"))); err == nil {
		t.Error("a hand-off to no host succeeded")
	}
}

// A host takes monitors from root alone: another user could otherwise have the shim
// append to any file (a monitor's audit log) as root.
func TestHostRefusesOthers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the host runs as root and the hand-off is made as another user")
	}
	// A directory every user may enter, with a copy of the test binary and the host.
	dir, err := os.MkdirTemp("", "yoroi-host-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "monitor.test")
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	host := startHost(t, dir)
	if err := os.Chmod(host, 0o666); err != nil { // past the socket's mode, to its check
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = []string{handAsEnv + "=" + host}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "uid 65534, not root") {
		t.Errorf("a hand-off as uid 65534: %q, want the host's refusal", out)
	}
}

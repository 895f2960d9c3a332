package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealRefusal(t *testing.T) {
	for _, tc := range []struct {
		exeDir, root, want string
	}{
		{"/opt/yoroi/bin", "/opt/yoroi/bin/state", "is beneath the binary's directory /opt/yoroi/bin"},
		{"/opt/yoroi/bin", "/opt/yoroi/bin", "is beneath the binary's directory"},
		{"/opt/yoroi/bin/", "/opt/yoroi/bin/a/b", "is beneath the binary's directory"},
		{"/opt/yoroi/bin", "/opt/yoroi/binaries", "overlayfs refused /opt/yoroi/bin as a layer"},
		{"/usr/local/bin", "/run/yoroi", "overlayfs refused /usr/local/bin as a layer"},
	} {
		if got := sealRefusal(tc.exeDir, tc.root); !strings.Contains(got, tc.want) {
			t.Errorf("sealRefusal(%q, %q) = %q, want %q", tc.exeDir, tc.root, got, tc.want)
		}
	}
}

// libcontainer seals the binary with an overlay when the state root is apart from the
// binary's directory, and copies it when the root is beneath it; the probe sees which,
// and leaves nothing in the root.
func TestExeSealing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("an overlay mount needs root (CI runs the unit tests as root)")
	}
	apart := t.TempDir()
	if ok, how := exeSealing(apart); !ok || !strings.Contains(how, "overlay") {
		t.Errorf("state root apart from the binary: %v %q", ok, how)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	beneath, err := os.MkdirTemp(filepath.Dir(exe), "state-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(beneath) })
	if ok, how := exeSealing(beneath); ok || !strings.Contains(how, "a copy of the binary (") || !strings.Contains(how, "is beneath the binary's directory") {
		t.Errorf("state root beneath the binary: %v %q", ok, how)
	}
	for _, root := range []string{apart, beneath} {
		if entries, err := os.ReadDir(root); err != nil || len(entries) != 0 {
			t.Errorf("%s after the probe: %v %v", root, entries, err)
		}
	}
}

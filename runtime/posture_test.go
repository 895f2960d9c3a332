package runtime

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// The visible mount of a point is the top of its stack, whatever order mountinfo lists
// the stack in.
func TestReadMountOptions(t *testing.T) {
	info := `81 109 0:52 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs rw
109 108 0:52 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs rw
108 100 0:20 / /sys ro,nosuid - sysfs sysfs ro
100 1 8:1 / / ro,relatime - ext4 /dev/sda1 rw
120 100 0:21 / /with\040space rw,noexec - tmpfs tmpfs rw
`
	got, err := readMountOptions(tempFile(t, "mountinfo", info))
	if err != nil {
		t.Fatal(err)
	}
	for point, want := range map[string][]string{"/sys/fs/cgroup": {"ro", "nosuid"}, "/sys": {"ro", "nosuid"}, "/": {"ro", "relatime"}, "/with space": {"rw", "noexec"}} {
		if !slices.Equal(got[point], want) {
			t.Errorf("%s: %v, want %v", point, got[point], want)
		}
	}
}

func TestReadLimits(t *testing.T) {
	limits := `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max open files            1024                 4096                 files     
`
	got, err := readLimits(tempFile(t, "limits", limits))
	if err != nil {
		t.Fatal(err)
	}
	if got["Max open files"] != (hardening.Rlimit{Soft: 1024, Hard: 4096}) || got["Max cpu time"].Soft != ^uint64(0) {
		t.Errorf("limits %v", got)
	}
}

// A mount hidden by a later mount on a point above it keeps its mountinfo line but is not
// visible: the scratch tmpfs once hid the volumes beneath it so.
func TestReadMountOptionsHidden(t *testing.T) {
	info := `100 1 8:1 / / ro - ext4 /dev/sda1 rw
110 100 0:30 / /tmp/vol ro,nosuid - ext4 /dev/sda2 rw
111 100 0:31 / /tmp rw,noexec - tmpfs tmpfs rw
112 111 0:32 / /tmp/ok ro - ext4 /dev/sda3 rw
113 100 0:33 / /run rw - tmpfs tmpfs rw
`
	got, err := readMountOptions(tempFile(t, "mountinfo", info))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got["/tmp/vol"]; ok {
		t.Errorf("/tmp/vol, hidden by /tmp, reported visible: %v", got)
	}
	for _, p := range []string{"/", "/tmp", "/tmp/ok", "/run"} {
		if _, ok := got[p]; !ok {
			t.Errorf("%s not visible: %v", p, got)
		}
	}
}

// The posture of this test process itself reads back consistently.
func TestObserveSelf(t *testing.T) {
	o, err := observe(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Namespaces) < 6 || len(o.Mounts) == 0 || o.Mounts["/"] == nil || len(o.FDs) < 3 || len(o.UIDMap) == 0 {
		t.Errorf("observed %+v", o)
	}
}

// tempFile writes content to a file named name in a temporary directory.
func tempFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

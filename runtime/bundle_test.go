package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	valid := `{"ociVersion":"1.0.2","root":{"path":"rootfs"},"linux":{},"process":{"cwd":"/","args":["sh"]},"futureField":1}`
	if _, err := ParseSpec([]byte(valid)); err != nil {
		t.Errorf("valid spec (with an unknown field, as runc accepts): %v", err)
	}
	for name, in := range map[string]string{
		"truncated":    valid[:40],
		"null":         "null",
		"trailing":     valid + "{}",
		"no root":      `{"linux":{},"process":{"cwd":"/","args":["sh"]}}`,
		"no linux":     `{"root":{"path":"r"},"process":{"cwd":"/","args":["sh"]}}`,
		"no process":   `{"root":{"path":"r"},"linux":{}}`,
		"relative cwd": `{"root":{"path":"r"},"linux":{},"process":{"cwd":"x","args":["sh"]}}`,
		"no args":      `{"root":{"path":"r"},"linux":{},"process":{"cwd":"/"}}`,
	} {
		if _, err := ParseSpec([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLoadBundleRejectsHugeConfig(t *testing.T) {
	dir := t.TempDir()
	big := `{"x":"` + strings.Repeat("a", maxSpecSize) + `"}`
	if err := os.WriteFile(filepath.Join(dir, SpecConfig), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadBundle(dir); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("huge config: %v", err)
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]int{"": 15, "KILL": 9, "sigterm": 15, "SIGUSR1": 10, "9": 9, "0": 0} {
		if got, err := ParseSignal(in); err != nil || int(got) != want {
			t.Errorf("ParseSignal(%q) = %d, %v", in, got, err)
		}
	}
	for _, bad := range []string{"NOPE", "-1", "65"} {
		if _, err := ParseSignal(bad); err == nil {
			t.Errorf("ParseSignal(%q) accepted", bad)
		}
	}
}

func TestSubCgroupPaths(t *testing.T) {
	got, err := subCgroupPaths([]string{"cpu,memory:/a", "pids:/b"})
	if err != nil || got["cpu"] != "/a" || got["memory"] != "/a" || got["pids"] != "/b" {
		t.Errorf("%v %v", got, err)
	}
	for _, bad := range [][]string{{"/a", "/b"}, {":x"}, {"cpu:/a", "cpu:/b"}} {
		if _, err := subCgroupPaths(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	if cfg, err := LoadConfig(filepath.Join(dir, "absent.toml"), false); err != nil || cfg.Default.Pids.Limit != 4096 {
		t.Errorf("missing default config: %v", err)
	}
	if _, err := LoadConfig(filepath.Join(dir, "absent.toml"), true); err == nil {
		t.Error("missing explicit config accepted")
	}
	p := filepath.Join(dir, "c.toml")
	if err := os.WriteFile(p, []byte("[pids]\nlimit = 7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if cfg, err := LoadConfig(p, true); err != nil || cfg.Default.Pids.Limit != 7 {
		t.Errorf("config: %v", err)
	}
	if _, err := LoadConfig(dir, true); err == nil {
		t.Error("a directory accepted as config")
	}
}

// A destination written as a host path beneath the bundle's rootfs names the container
// path, as libcontainer reads it; other destinations are left alone.
func TestLoadBundleContainerDestinations(t *testing.T) {
	dir := t.TempDir()
	rootfs := filepath.Join(dir, "rootfs")
	spec := `{"ociVersion":"1.2.0","root":{"path":"rootfs"},"process":{"args":["sh"],"cwd":"/"},"mounts":[` +
		`{"destination":"` + rootfs + `/mnt/x","source":"/a","type":"bind"},` +
		`{"destination":"` + rootfs + `","source":"/b","type":"bind"},` +
		`{"destination":"` + rootfs + `x/y","source":"/c","type":"bind"},` +
		`{"destination":"/tmp","source":"tmpfs","type":"tmpfs"}],"linux":{}}`
	if err := os.WriteFile(filepath.Join(dir, SpecConfig), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := LoadBundle(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range b.Spec.Mounts {
		got = append(got, m.Destination)
	}
	want := []string{"/mnt/x", "/", rootfs + "x/y", "/tmp"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("destinations %v, want %v", got, want)
	}
}

package hardening

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte(`
[audit]
path = "/tmp/audit.jsonl"

[pids]
limit = 1000

[profiles.dev.mounts]
allow_exec = true

[profiles.net-admin.capabilities]
allow = ["CHOWN", "net_admin"]
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Audit.Path != "/tmp/audit.jsonl" || !cfg.Audit.Enabled {
		t.Errorf("audit %+v (enabled must default to true)", cfg.Audit)
	}
	if cfg.Default.Pids.Limit != 1000 || !cfg.Default.Rootfs.Readonly {
		t.Errorf("default policy %+v", cfg.Default)
	}
	dev, err := cfg.Policy("dev")
	if err != nil {
		t.Fatal(err)
	}
	// A profile inherits the configured default policy and overrides only what it sets.
	if !dev.Mounts.AllowExec || dev.Pids.Limit != 1000 || len(dev.Capabilities.Allow) != 8 || dev.Name != "dev" {
		t.Errorf("profile dev %+v", dev)
	}
	na, _ := cfg.Policy("net-admin")
	if !slices.Equal(na.Capabilities.Allow, []string{"CAP_CHOWN", "CAP_NET_ADMIN"}) {
		t.Errorf("normalized caps %v", na.Capabilities.Allow)
	}
	if cfg.Default.Mounts.AllowExec {
		t.Error("a profile leaked into the default policy")
	}
	if _, err := cfg.Policy("nope"); !IsRefusal(err) {
		t.Errorf("unknown profile: %v, want refusal", err)
	}
	if p, _ := cfg.Policy(""); p.Name != DefaultProfile {
		t.Errorf("empty profile name selects %q", p.Name)
	}
}

func TestParseConfigFailsClosed(t *testing.T) {
	for _, tc := range []struct {
		name, toml, want string
	}{
		{"malformed", "[pids\nlimit = 3", "config line 2: expected"},
		{"unknown key", "[pids]\nlimit = 3\nlimt = 4\n", `line 3: unknown key "pids.limt"`},
		{"unknown section", "\n[seccompp]\nx = 1\n", `line 2: unknown key "seccompp"`},
		{"unknown key in profile", "[profiles.a.rootfs]\nreadonyl = false\n", `unknown key "profiles.a.rootfs.readonyl"`},
		{"wrong type", "[pids]\nlimit = \"many\"\n", "pids.limit"},
		{"bad capability", "[capabilities]\nallow = [\"CAP_FLY\"]\n", "unknown capability"},
		{"bad scratch", "[rootfs]\nscratch = [\"tmp\"]\n", "rootfs.scratch"},
		{"bad size", "[rootfs]\nscratch_size = \"lots\"\n", "scratch_size"},
		{"zero pids", "[pids]\nlimit = 0\n", "pids.limit"},
		{"bad namespace", "[namespaces]\nallow_host = [\"user\"]\n", "allow_host"},
		{"bad range", "[users]\ndeny_uids = [\"9-1\"]\n", "users"},
		{"relative audit path", "[audit]\npath = \"audit.log\"\n", "audit.path"},
		{"bad profile name", "[profiles.\"Bad Name\".pids]\nlimit = 1\n", "invalid profile name"},
		{"syscall of the deny floor", "[seccomp]\nsyscalls = [\"read\", \"ptrace\"]\n", "ptrace is in yoroi's deny floor"},
		{"not a syscall", "[seccomp]\nsyscalls = [\"Read\"]\n", "not a syscall name"},
		{"profile named default", "[profiles.default.pids]\nlimit = 1\n", "invalid profile name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.toml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestEmptyConfigIsDefaults(t *testing.T) {
	cfg, err := ParseConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := cfg.Default.Differences(); len(d) != 0 {
		t.Errorf("empty config differs from the defaults: %+v", d)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"64m": 64 << 20, "1G": 1 << 30, "65536k": 64 << 20, "4096": 4096} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "m", "-1m", "0", "9999999999999g"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}

// config.toml.example documents the defaults: parsing it yields exactly the built-in policy.
func TestConfigExampleIsTheDefaults(t *testing.T) {
	data, err := os.ReadFile("../config.toml.example")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	if d := cfg.Default.Differences(); len(d) != 0 {
		t.Errorf("config.toml.example differs from the built-in defaults: %+v", d)
	}
	if cfg.Audit != Defaults().Audit {
		t.Errorf("audit %+v", cfg.Audit)
	}
}

func TestValidProfileName(t *testing.T) {
	re := regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	for _, name := range []string{
		"", "a", "0", "default", "no-userns", "test_exec", "-a", "_a", "A", "a.b", "a b", "é",
		strings.Repeat("a", 63), strings.Repeat("a", 64), "a" + strings.Repeat("-", 62), "ab\n",
	} {
		if got, want := validProfileName(name), re.MatchString(name); got != want {
			t.Errorf("validProfileName(%q) = %v, the regexp says %v", name, got, want)
		}
	}
}

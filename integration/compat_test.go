package integration

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// probeLines parses socketprobe's "name errno" lines.
func probeLines(out string) map[string]string {
	res := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if i := strings.LastIndexByte(l, ' '); i > 0 {
			res[l[:i]] = l[i+1:]
		}
	}
	return res
}

// An argument rule holds only if no compat entry point bypasses it: a 32-bit static
// program got AF_VSOCK and netlink sockets through socketcall, whose arguments seccomp
// cannot see. By default the filter admits only the native ABI, so a 32-bit process dies
// at its first system call; a profile may admit the compat ABIs, and then socketcall
// creates no socket while the direct socket call keeps the family rule. (Before: the
// 32-bit program ran and socketcall(vsock) returned a socket.)
func TestCompatABISocketRules(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(e.baseConfig() + "\n[profiles.compat.seccomp]\ncompat_architectures = true\n")
	for _, abi := range []string{"32", "x32"} {
		t.Run(abi, func(t *testing.T) {
			prog := "socketprobe" + abi
			if abi == "x32" {
				if out, err := exec.Command(filepath.Join(rootfsTemplate, "bin", prog)).CombinedOutput(); err != nil {
					t.Skipf("this host's kernel does not run x32 programs (no CONFIG_X86_X32_ABI or syscall.x32=n): %v: %s", err, out)
				}
			}
			// Default: the compat ABI is not admitted at all.
			id := uniqueID("compat-default")
			r := e.run("run", "--bundle", e.newBundle(prog).dir, id)
			if r.code != 128+31 || strings.TrimSpace(r.stdout) != "" {
				t.Errorf("default policy: exit %d, output %q; want 159 (SIGSYS) and nothing", r.code, r.stdout)
			}
			e.assertNoLeftovers(id)
			// Admitted by a profile: every socket rule holds there too.
			b := e.newBundle(prog).edit(t, func(s *specs.Spec) {
				s.Annotations = map[string]string{hardening.ProfileAnnotation: "compat"}
			})
			id = uniqueID("compat-profile")
			res := probeLines(e.ok("run", "--bundle", b.dir, id))
			e.assertNoLeftovers(id)
			want := map[string]string{
				"socket(unix)": "0", "socket(inet)": "0", "socket(netlink route)": "0",
				"socket(vsock)": "1", "socket(alg)": "1", "socket(netlink netfilter)": "1",
			}
			if abi == "32" {
				for _, n := range []string{"socketcall(unix)", "socketcall(vsock)", "socketcall(alg)", "socketcall(netlink route)"} {
					want[n] = "1"
				}
			}
			if fmt.Sprint(res) != fmt.Sprint(want) {
				t.Errorf("compat profile, %s: got %v\nwant %v", prog, res, want)
			}
		})
	}
}

// Docker's profile admits x86 and x32: under yoroi's default they are removed, and
// recorded as such.
func TestCompatABIDockerProfile(t *testing.T) {
	e := newEnv(t)
	docker := fixtureBundle(t, "docker-default").spec.Linux.Seccomp
	b := e.newBundle("socketprobe32").edit(t, func(s *specs.Spec) { s.Linux.Seccomp = docker })
	id := uniqueID("compat-docker")
	if r := e.run("run", "--bundle", b.dir, id); r.code != 128+31 {
		t.Errorf("32-bit program under Docker's profile: exit %d, output %q; want 159 (SIGSYS)", r.code, r.stdout)
	}
	e.assertNoLeftovers(id)
	if exp := e.ok("policy", "explain", "--bundle", b.dir); !strings.Contains(exp, "architecture SCMP_ARCH_X86") {
		t.Errorf("explain does not record the removed architectures:\n%s", exp)
	}
}

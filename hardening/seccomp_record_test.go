package hardening

import (
	"slices"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestRecordingSeccompRelaxesNothing(t *testing.T) {
	all := []string{"read", "write", "mount", "ptrace", "clone", "openat", "bpf", "personality"}
	s := RecordingSeccomp("amd64", all, "/run/x.sock")
	if s.DefaultAction != specs.ActErrno || s.ListenerPath != "/run/x.sock" {
		t.Fatalf("%+v", s)
	}
	for _, sc := range s.Syscalls {
		if !allowsLike(sc.Action) {
			continue
		}
		for _, n := range sc.Names {
			if slices.Contains(floorNames(), n) {
				t.Errorf("floor syscall %s reaches the agent", n)
			}
			if !conditionSafe(n, sc.Args) {
				t.Errorf("%s without conditions", n)
			}
		}
	}
	p := RecordedProfile("amd64", []string{"read", "mount", "clone", "openat"})
	if err := verifySeccompOf(p, DefaultPolicy()); err != nil {
		t.Fatal(err)
	}
	if got := allowedNames(p); !slices.Contains(got, "read") || !slices.Contains(got, "openat") || !slices.Contains(got, "write") || slices.Contains(got, "mount") {
		t.Errorf("recorded profile allows %v", got)
	}
}

package runtime

import (
	"reflect"
	"slices"
	"testing"

	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// TestSeccompKeyCoversEveryField: appendSeccomp encodes every field of libcontainer's
// seccomp types; a field libcontainer adds fails here until it is encoded too (or two
// profiles that differ in it would share a cached filter).
func TestSeccompKeyCoversEveryField(t *testing.T) {
	for typ, encoded := range map[reflect.Type][]string{
		reflect.TypeFor[configs.Seccomp](): {"DefaultAction", "Architectures", "Flags", "Syscalls", "DefaultErrnoRet", "ListenerPath", "ListenerMetadata"},
		reflect.TypeFor[configs.Syscall](): {"Name", "Action", "ErrnoRet", "Args"},
		reflect.TypeFor[configs.Arg]():     {"Index", "Value", "ValueTwo", "Op"},
	} {
		var fields []string
		for i := range typ.NumField() {
			fields = append(fields, typ.Field(i).Name)
		}
		if !slices.Equal(fields, encoded) {
			t.Errorf("%s has fields %v; appendSeccomp encodes %v", typ, fields, encoded)
		}
	}
}

// TestAppendSeccomp: a seccomp profile's encoding (the filter cache's key) is the same
// for equal profiles and differs when anything in it does.
func TestAppendSeccomp(t *testing.T) {
	errno := func(v uint) *uint { return &v }
	base := func() *configs.Seccomp {
		return &configs.Seccomp{
			DefaultAction: configs.Errno,
			Architectures: []string{"amd64", "x86"},
			Flags:         []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagSpecAllow},
			Syscalls: []*configs.Syscall{
				{Name: "read", Action: configs.Allow},
				{Name: "clone", Action: configs.Allow, Args: []*configs.Arg{{Index: 0, Value: 0x10000000, ValueTwo: 0, Op: configs.MaskEqualTo}}},
			},
			DefaultErrnoRet: errno(1),
		}
	}
	variants := map[string]func(*configs.Seccomp){
		"same":                  func(*configs.Seccomp) {},
		"default action":        func(s *configs.Seccomp) { s.DefaultAction = configs.Kill },
		"no architectures":      func(s *configs.Seccomp) { s.Architectures = nil },
		"empty architectures":   func(s *configs.Seccomp) { s.Architectures = []string{} },
		"architectures split":   func(s *configs.Seccomp) { s.Architectures = []string{"amd64x", "86"} },
		"no flags":              func(s *configs.Seccomp) { s.Flags = nil },
		"empty flags":           func(s *configs.Seccomp) { s.Flags = []specs.LinuxSeccompFlag{} },
		"syscall name":          func(s *configs.Seccomp) { s.Syscalls[0].Name = "write" },
		"syscall action":        func(s *configs.Seccomp) { s.Syscalls[0].Action = configs.Log },
		"syscall errno":         func(s *configs.Seccomp) { s.Syscalls[0].ErrnoRet = errno(0) },
		"argument value":        func(s *configs.Seccomp) { s.Syscalls[1].Args[0].Value = 0x20000000 },
		"argument second value": func(s *configs.Seccomp) { s.Syscalls[1].Args[0].ValueTwo = 1 },
		"argument operator":     func(s *configs.Seccomp) { s.Syscalls[1].Args[0].Op = configs.EqualTo },
		"argument index":        func(s *configs.Seccomp) { s.Syscalls[1].Args[0].Index = 1 },
		"syscalls swapped":      func(s *configs.Seccomp) { s.Syscalls[0], s.Syscalls[1] = s.Syscalls[1], s.Syscalls[0] },
		"default errno 0":       func(s *configs.Seccomp) { s.DefaultErrnoRet = errno(0) },
		"no default errno":      func(s *configs.Seccomp) { s.DefaultErrnoRet = nil },
		"listener path":         func(s *configs.Seccomp) { s.ListenerPath = "/run/agent.sock" },
		"listener metadata":     func(s *configs.Seccomp) { s.ListenerMetadata = "x" },
		"syscall appended": func(s *configs.Seccomp) {
			s.Syscalls = append(s.Syscalls, &configs.Syscall{Name: "mkdir", Action: configs.Notify})
		},
		"nil syscall appended":      func(s *configs.Seccomp) { s.Syscalls = append(s.Syscalls, nil) },
		"architecture moved to 2nd": func(s *configs.Seccomp) { s.Architectures = []string{"amd64x86"} },
	}
	want := appendSeccomp(nil, base())
	seen := map[string]string{}
	for name, change := range variants {
		s := base()
		change(s)
		got := appendSeccomp(nil, s)
		if (string(got) == string(want)) != (name == "same") {
			t.Errorf("%s: encoding equal to the base's: %v", name, string(got) == string(want))
		}
		if other, ok := seen[string(got)]; ok {
			t.Errorf("%s and %s encode alike", name, other)
		}
		seen[string(got)] = name
	}
}

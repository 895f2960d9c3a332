package shim

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/containerd/api/types"
	"github.com/containerd/containerd/api/types/runc/options"
	runtimeoptions "github.com/containerd/containerd/api/types/runtimeoptions/v1"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	ptypes "github.com/containerd/containerd/v2/pkg/protobuf/types"
	pkgshim "github.com/containerd/containerd/v2/pkg/shim"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/protobuf/proto"
)

func TestToRuncOptions(t *testing.T) {
	file := filepath.Join(t.TempDir(), "yoroi.toml")
	if err := os.WriteFile(file, []byte("BinaryName = \"/from/file\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	generic := func(o *runtimeoptions.Options) typeurl.Any { return mustAny(t, o) }
	runc := mustAny(t, &options.Options{BinaryName: "/as/sent", SystemdCgroup: true})
	for _, tc := range []struct {
		name string
		in   typeurl.Any
		want *options.Options // nil: the input comes back unchanged
		err  string
	}{
		{name: "none", in: nil},
		{name: "runc's options pass through", in: runc},
		{name: "body", in: generic(&runtimeoptions.Options{ConfigBody: []byte("BinaryName = \"/usr/local/bin/yoroi\"\nSystemdCgroup = true\nRoot = \"/run/yoroi-k8s\"\n")}),
			want: &options.Options{BinaryName: "/usr/local/bin/yoroi", SystemdCgroup: true, Root: "/run/yoroi-k8s"}},
		{name: "path", in: generic(&runtimeoptions.Options{ConfigPath: file}), want: &options.Options{BinaryName: "/from/file"}},
		{name: "body wins over path", in: generic(&runtimeoptions.Options{ConfigPath: file, ConfigBody: []byte("BinaryName = \"/from/body\"\n")}),
			want: &options.Options{BinaryName: "/from/body"}},
		{name: "empty generic options", in: generic(&runtimeoptions.Options{}), want: &options.Options{}},
		{name: "unknown key is an error", in: generic(&runtimeoptions.Options{ConfigBody: []byte("BinaryNmae = \"yoroi\"\n")}), err: `unknown key "BinaryNmae"`},
		{name: "wrong type is an error", in: generic(&runtimeoptions.Options{ConfigBody: []byte("SystemdCgroup = \"yes\"\n")}), err: "runtime options"},
		{name: "bad TOML is an error", in: generic(&runtimeoptions.Options{ConfigBody: []byte("BinaryName = \n")}), err: "runtime options"},
		{name: "missing path is an error", in: generic(&runtimeoptions.Options{ConfigPath: "/nonexistent/yoroi.toml"}), err: "/nonexistent/yoroi.toml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := toRuncOptions(tc.in)
			if errorCase(t, err, tc.err) {
				return
			}
			if tc.want == nil {
				if out != tc.in {
					t.Fatalf("got %v, want the input unchanged", out)
				}
				return
			}
			if got := anyRuncOptions(t, out); !proto.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// infoRecorder is the wrapped manager: it keeps what Info was handed.
type infoRecorder struct {
	pkgshim.Manager
	got []byte
}

func (m *infoRecorder) Info(_ context.Context, r io.Reader) (*types.RuntimeInfo, error) {
	var err error
	m.got, err = io.ReadAll(r)
	return &types.RuntimeInfo{}, err
}

// containerd hands "info" its options as a marshalled Any on stdin; the wrapped manager
// must see runc's options.
func TestInfoTranslatesOptions(t *testing.T) {
	data := marshalled(t, &runtimeoptions.Options{ConfigBody: []byte("BinaryName = \"/opt/yoroi\"\n")})
	rec := &infoRecorder{}
	if _, err := (optionsManager{Manager: rec}).Info(context.Background(), bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if o := runcOptions(t, rec.got); o.BinaryName != "/opt/yoroi" {
		t.Fatalf("wrapped manager got BinaryName %q, want /opt/yoroi", o.BinaryName)
	}

	// No options: nothing to translate.
	rec.got = nil
	if _, err := (optionsManager{Manager: rec}).Info(context.Background(), bytes.NewReader(nil)); err != nil {
		t.Fatal(err)
	}
	if len(rec.got) != 0 {
		t.Fatalf("wrapped manager got %q, want nothing", rec.got)
	}

	// Options that do not parse are refused before the wrapped manager sees them.
	data = marshalled(t, &runtimeoptions.Options{ConfigBody: []byte("Nope = 1\n")})
	rec.got = nil
	if _, err := (optionsManager{Manager: rec}).Info(context.Background(), bytes.NewReader(data)); err == nil {
		t.Fatal("unknown option accepted")
	}
	if rec.got != nil {
		t.Fatal("wrapped manager called with options that were refused")
	}
}

// The bootstrap parameters in testdata/bootstrap were marshalled with containerd's own
// types (API module v1.12.0, as containerd 2.4 writes them; go run . there).
func TestOptionsFromBootstrap(t *testing.T) {
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join("testdata", "bootstrap", name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	legacy := marshalled(t, &runtimeoptions.Options{ConfigBody: []byte("ShimCgroup = \"/shims\"\n")})
	for _, tc := range []struct {
		name          string
		data          []byte
		id, namespace string
		ok            bool
		shimCgroup    string // in the options, once translated
	}{
		{name: "generic options", data: read("generic.bin"), id: "yoroi-test", namespace: "k8s.io", ok: true, shimCgroup: "/shims"},
		{name: "runc's options", data: read("runc.bin"), id: "yoroi-test", namespace: "k8s.io", ok: true, shimCgroup: "/runc-shims"},
		{name: "no options", data: read("none.bin"), id: "yoroi-test", namespace: "k8s.io", ok: true},
		{name: "another shim's", data: read("generic.bin"), id: "other", namespace: "k8s.io"},
		{name: "another namespace's", data: read("generic.bin"), id: "yoroi-test", namespace: "default"},
		{name: "bare options (containerd < 2.3)", data: legacy, id: "yoroi-test", namespace: "k8s.io"},
		{name: "nothing", data: nil, id: "yoroi-test", namespace: "k8s.io"},
		{name: "truncated", data: read("generic.bin")[:40], id: "yoroi-test", namespace: "k8s.io"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts, ok := optionsFromBootstrap(tc.data, tc.id, tc.namespace)
			if ok != tc.ok {
				t.Fatalf("ok %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			translated, err := translateMarshalled(opts)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			if len(translated) > 0 {
				got = runcOptions(t, translated).ShimCgroup
			}
			if got != tc.shimCgroup {
				t.Fatalf("ShimCgroup %q, want %q", got, tc.shimCgroup)
			}
		})
	}
}

func mustAny(t *testing.T, m proto.Message) typeurl.Any {
	t.Helper()
	a, err := typeurl.MarshalAnyToProto(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// marshalled is m as containerd writes options to a shim binary's stdin: a marshalled Any.
func marshalled(t *testing.T, m proto.Message) []byte {
	t.Helper()
	data, err := proto.Marshal(typeurl.MarshalProto(mustAny(t, m)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// runcOptions decodes a marshalled Any that must hold runc's options.
func runcOptions(t *testing.T, data []byte) *options.Options {
	t.Helper()
	var a ptypes.Any
	if err := proto.Unmarshal(data, &a); err != nil {
		t.Fatal(err)
	}
	return anyRuncOptions(t, &a)
}

// errorCase checks err against a case's expected error (a substring of it; "" for none)
// and reports whether the case is done: it expected one.
func errorCase(t *testing.T, err error, want string) bool {
	t.Helper()
	if want != "" {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %v, want one containing %q", err, want)
		}
		return true
	}
	if err != nil {
		t.Fatal(err)
	}
	return false
}

// anyRuncOptions is runc's options in a.
func anyRuncOptions(t *testing.T, a typeurl.Any) *options.Options {
	t.Helper()
	v, err := typeurl.UnmarshalAny(a)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := v.(*options.Options)
	if !ok {
		t.Fatalf("got %T %v, want runc's options", v, v)
	}
	return o
}

// startRecorder is the wrapped manager: it keeps what its Start read from stdin, as the
// runc shim's Start does.
type startRecorder struct {
	pkgshim.Manager
	got []byte
}

func (m *startRecorder) Start(context.Context, string, pkgshim.StartOpts) (pkgshim.BootstrapParams, error) {
	var err error
	m.got, err = io.ReadAll(os.Stdin)
	return pkgshim.BootstrapParams{}, err
}

func TestStartTranslatesOptions(t *testing.T) {
	bootstrap, err := os.ReadFile(filepath.Join("testdata", "bootstrap", "generic.bin"))
	if err != nil {
		t.Fatal(err)
	}
	garbage := []byte("\x0a\x03abc\x12\x01")
	for _, tc := range []struct {
		name       string
		stdin      []byte
		shimCgroup string // of the runc options the wrapped Start reads
		unchanged  bool   // the wrapped Start reads stdin as it came
		err        bool
	}{
		{name: "bootstrap parameters (containerd ≥ 2.3)", stdin: bootstrap, shimCgroup: "/shims"},
		{name: "bare generic options (containerd 2.0–2.2)", stdin: marshalled(t, &runtimeoptions.Options{ConfigBody: []byte("ShimCgroup = \"/bare\"\n")}), shimCgroup: "/bare"},
		{name: "bare runc options", stdin: marshalled(t, &options.Options{ShimCgroup: "/runc"}), shimCgroup: "/runc"},
		{name: "nothing", stdin: nil, unchanged: true},
		{name: "not options", stdin: garbage, unchanged: true},
		{name: "options that do not parse", stdin: marshalled(t, &runtimeoptions.Options{ConfigBody: []byte("ShimCgrop = \"/x\"\n")}), err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := os.CreateTemp(t.TempDir(), "stdin")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := in.Write(tc.stdin); err != nil {
				t.Fatal(err)
			}
			if _, err := in.Seek(0, 0); err != nil {
				t.Fatal(err)
			}
			stdin := os.Stdin
			os.Stdin = in
			defer func() { os.Stdin = stdin; in.Close() }()

			rec := &startRecorder{}
			ctx := namespaces.WithNamespace(context.Background(), "k8s.io")
			_, err = (optionsManager{Manager: rec}).Start(ctx, "yoroi-test", pkgshim.StartOpts{})
			if tc.err {
				if err == nil {
					t.Fatal("options that do not parse were accepted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if os.Stdin != in {
				t.Fatal("os.Stdin not restored")
			}
			if tc.unchanged {
				if !bytes.Equal(rec.got, tc.stdin) {
					t.Fatalf("wrapped Start read %q, want %q", rec.got, tc.stdin)
				}
				return
			}
			if o := runcOptions(t, rec.got); o.ShimCgroup != tc.shimCgroup {
				t.Fatalf("wrapped Start read ShimCgroup %q, want %q", o.ShimCgroup, tc.shimCgroup)
			}
		})
	}
}

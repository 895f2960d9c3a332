package hardening

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// TestDeepCopyTypes: every type deepCopy copies has only exported fields (reflect cannot
// set the others, and a shallow copy would share them), no functions or channels, and map
// keys that are values.
func TestDeepCopyTypes(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type, string)
	walk = func(typ reflect.Type, path string) {
		if seen[typ] {
			return
		}
		seen[typ] = true
		switch typ.Kind() {
		case reflect.Struct:
			for i := range typ.NumField() {
				f := typ.Field(i)
				if !f.IsExported() {
					t.Errorf("%s.%s is unexported", path, f.Name)
				}
				walk(f.Type, path+"."+f.Name)
			}
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(typ.Elem(), path+"[]")
		case reflect.Map:
			switch typ.Key().Kind() {
			case reflect.String, reflect.Int, reflect.Int64, reflect.Uint32, reflect.Uint64:
			default:
				t.Errorf("%s has keys of kind %s", path, typ.Key().Kind())
			}
			walk(typ.Elem(), path+"[]")
		case reflect.Interface:
			// A JSON value (Spec.Windows.CredentialSpec): maps, lists and scalars, which
			// deepCopy copies by their dynamic types.
			if typ != reflect.TypeFor[any]() {
				t.Errorf("%s is the interface %s", path, typ)
			}
		case reflect.Func, reflect.Chan, reflect.UnsafePointer:
			t.Errorf("%s is of kind %s", path, typ.Kind())
		}
	}
	walk(reflect.TypeFor[Policy](), "Policy")
	walk(reflect.TypeFor[specs.Spec](), "Spec")
}

// fill sets every field reachable from v to a value derived from seed: slices and maps of
// two elements, pointers to filled values.
func fill(v reflect.Value, seed *int) {
	*seed++
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(*seed%2 == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*seed % 100))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(*seed % 100))
	case reflect.String:
		v.SetString("s" + string(rune('a'+*seed%26)))
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), seed)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i), seed)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(k, seed)
			fill(e, seed)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i), seed)
		}
	case reflect.Array:
		for i := range v.Len() {
			fill(v.Index(i), seed)
		}
	}
}

// scribble changes every value reachable from v where it is: through pointers, in the
// elements of slices and arrays, in the entries of maps.
func scribble(v reflect.Value) {
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(v.Int() + 1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(v.Uint() + 1)
	case reflect.String:
		v.SetString(v.String() + "x")
	case reflect.Pointer:
		if !v.IsNil() {
			scribble(v.Elem())
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			scribble(v.Index(i))
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(it.Value())
			scribble(e)
			v.SetMapIndex(it.Key(), e)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			scribble(v.Field(i))
		}
	case reflect.Interface:
		if !v.IsNil() {
			e := reflect.New(v.Elem().Type()).Elem()
			e.Set(v.Elem()) // a map or a list is still the one v holds
			scribble(e)
			v.Set(e)
		}
	}
}

// jsonClone is the JSON round trip deepCopy stands for.
func jsonClone[T any](t *testing.T, v *T) *T {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out := new(T)
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDeepCopy(t *testing.T) {
	full := &Policy{}
	seed := 0
	fill(reflect.ValueOf(full).Elem(), &seed)
	empty := DefaultPolicy()
	empty.Files.Exec = AbsPaths{} // empty, not nil: an empty list is a setting
	empty.Images.Pins = map[string]string{}
	for name, p := range map[string]*Policy{"filled": full, "built-in": DefaultPolicy(), "empty lists": empty} {
		t.Run(name, func(t *testing.T) {
			before, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			got := deepCopy(p)
			// (The filled policy's settings are not valid values: JSON would refuse them.)
			if p != full {
				if want := jsonClone(t, p); !reflect.DeepEqual(got, want) {
					t.Fatalf("deepCopy differs from a JSON round trip:\n got %+v\nwant %+v", got, want)
				}
			}
			if !reflect.DeepEqual(got, p) {
				t.Fatalf("deepCopy differs from its source")
			}
			// Change everything the copy holds in place, through its own slices, maps
			// and pointers: the source must not change.
			scribble(reflect.ValueOf(got).Elem())
			after, _ := json.Marshal(p)
			if string(before) != string(after) {
				t.Fatalf("writing the copy changed the source:\n%s\n%s", before, after)
			}
		})
	}
}

// TestDeepCopySpec: Apply's copy of a spec is the spec, every empty list and map kept
// empty (a JSON round trip, what Apply used before, drops those that are omitempty: an
// empty seccomp flags list, which asks for no flags, then got the default), and shares
// nothing with it.
func TestDeepCopySpec(t *testing.T) {
	full := &specs.Spec{}
	seed := 0
	fill(reflect.ValueOf(full).Elem(), &seed)
	full.Windows.CredentialSpec = map[string]any{"a": []any{"x", map[string]any{"b": "y"}}, "n": 1.0, "t": true}
	empty := &specs.Spec{
		Process: &specs.Process{Args: []string{"sh"}, Env: []string{}, Capabilities: &specs.LinuxCapabilities{
			Bounding: []string{}, Effective: []string{}, Permitted: []string{}, Inheritable: []string{}, Ambient: []string{}}},
		Root:        &specs.Root{Path: "rootfs"},
		Mounts:      []specs.Mount{{Destination: "/tmp", Type: "tmpfs", Options: []string{}}},
		Annotations: map[string]string{},
		Linux: &specs.Linux{
			Seccomp:       &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Flags: []specs.LinuxSeccompFlag{}, Syscalls: []specs.LinuxSyscall{}},
			MaskedPaths:   []string{},
			ReadonlyPaths: []string{},
			Sysctl:        map[string]string{},
			UIDMappings:   []specs.LinuxIDMapping{},
			Resources:     &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{}},
		},
	}
	if reflect.DeepEqual(jsonClone(t, empty), empty) {
		t.Fatal("the empty lists survive a JSON round trip: this test no longer tells the copies apart")
	}
	for name, s := range map[string]*specs.Spec{"filled": full, "empty lists": empty} {
		t.Run(name, func(t *testing.T) {
			before, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			got := deepCopy(s)
			if !reflect.DeepEqual(got, s) {
				t.Fatalf("the copy differs from its source:\n got %+v\nwant %+v", got, s)
			}
			scribble(reflect.ValueOf(got).Elem())
			if after, _ := json.Marshal(s); string(before) != string(after) {
				t.Fatalf("writing the copy changed the source:\n%s\n%s", before, after)
			}
		})
	}
}

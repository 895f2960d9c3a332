package shim

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/BurntSushi/toml"
	"github.com/containerd/containerd/api/types"
	"github.com/containerd/containerd/api/types/runc/options"
	runtimeoptions "github.com/containerd/containerd/api/types/runtimeoptions/v1"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	ptypes "github.com/containerd/containerd/v2/pkg/protobuf/types"
	pkgshim "github.com/containerd/containerd/v2/pkg/shim"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// containerd's CRI plugin sends runc's option type only to runtime_type
// io.containerd.runc.v2; to every other runtime type, yoroi's included, it sends the
// generic runtimeoptions.v1.Options (a TOML body or file). The shim translates them into
// runc's options, so that BinaryName, SystemdCgroup and the rest work as documented for
// runc. Options that already are runc's pass through unchanged.

// toRuncOptions converts generic runtime options to runc's, or returns a unchanged. It goes
// by the type, not the value: generic options with nothing set (an empty options table)
// marshal to an empty value, and must still become runc's (the runc shim's Info refuses
// any other type, and containerd then takes the handler to have no features).
func toRuncOptions(a typeurl.Any) (typeurl.Any, error) {
	if a == nil || a.GetTypeUrl() == "" {
		return a, nil
	}
	v, err := typeurl.UnmarshalAny(a)
	if err != nil {
		return nil, err
	}
	generic, ok := v.(*runtimeoptions.Options)
	if !ok {
		return a, nil
	}
	body := generic.ConfigBody
	if len(body) == 0 && generic.ConfigPath != "" {
		if body, err = os.ReadFile(generic.ConfigPath); err != nil {
			return nil, fmt.Errorf("runtime options %s: %w", generic.ConfigPath, err)
		}
	}
	var opts options.Options
	md, err := toml.NewDecoder(bytes.NewReader(body)).Decode(&opts)
	if err != nil {
		return nil, fmt.Errorf("runtime options: %w", err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		return nil, fmt.Errorf("runtime options: unknown key %q", undecoded[0].String())
	}
	return typeurl.MarshalAnyToProto(&opts)
}

// optionsManager translates the options containerd hands the shim binary on stdin: to
// its "start" action (the runc shim reads ShimCgroup from them) and to "info" (the
// runtime's features and options, from which the CRI plugin tells the kubelet what a
// handler supports).
type optionsManager struct {
	pkgshim.Manager
}

func (m optionsManager) Start(ctx context.Context, id string, opts pkgshim.StartOpts) (pkgshim.BootstrapParams, error) {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		return pkgshim.BootstrapParams{}, err
	}
	ns, _ := namespaces.Namespace(ctx)
	if bootstrapped, ok := optionsFromBootstrap(data, id, ns); ok {
		data = bootstrapped
	}
	// Options, bare or out of the bootstrap parameters, are translated (ones that do not
	// parse fail the start, as they would fail the create); anything else goes on as it
	// came, for the runc shim to ignore as it always has.
	if isOptionsType(data) {
		if data, err = translateMarshalled(data); err != nil {
			return pkgshim.BootstrapParams{}, err
		}
	}
	// The runc shim's Start reads os.Stdin itself, once it has started the shim server
	// (which gets /dev/null, not this): hand it the translated options there.
	r, w, err := os.Pipe()
	if err != nil {
		return pkgshim.BootstrapParams{}, err
	}
	defer r.Close()
	go func() {
		_, _ = w.Write(data)
		w.Close()
	}()
	stdin := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = stdin }()
	return m.Manager.Start(ctx, id, opts)
}

// optionsFromBootstrap returns the runtime options (a marshalled Any, or nothing) from
// containerd's bootstrap parameters, which containerd ≥ 2.3 writes to a shim's "start"
// instead of the bare options earlier daemons write and the shim library yoroi's shim is
// built on (v2.2.9) reads. ok is false when data are not bootstrap parameters: like
// containerd's own shims, it takes them to be when their instance id and namespace are
// the shim's (bare options can parse as either message).
//
// containerd.runtime.bootstrap.v1.BootstrapParams: instance_id = 1, namespace = 2,
// extensions = 8 (repeated Extension { google.protobuf.Any value = 1; }); the runtime
// options are the extension of an options type. That package is in containerd's API
// module from v1.11, which containerd v2.2.9 does not build with.
func optionsFromBootstrap(data []byte, id, namespace string) (opts []byte, ok bool) {
	var instance, ns string
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return nil, false
		}
		data = data[n:]
		if typ != protowire.BytesType || (num != 1 && num != 2 && num != 8) {
			if n = protowire.ConsumeFieldValue(num, typ, data); n < 0 {
				return nil, false
			}
			data = data[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(data)
		if n < 0 {
			return nil, false
		}
		data = data[n:]
		switch num {
		case 1:
			instance = string(v)
		case 2:
			ns = string(v)
		case 8:
			if a := extensionValue(v); a != nil && isOptionsType(a) && opts == nil {
				opts = a
			}
		}
	}
	if instance != id || ns != namespace {
		return nil, false
	}
	return opts, true
}

// extensionValue is field 1 (the marshalled Any) of a bootstrap Extension, or nil.
func extensionValue(ext []byte) []byte {
	for len(ext) > 0 {
		num, typ, n := protowire.ConsumeTag(ext)
		if n < 0 {
			return nil
		}
		ext = ext[n:]
		if num == 1 && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(ext)
			if n < 0 {
				return nil
			}
			return v
		}
		if n = protowire.ConsumeFieldValue(num, typ, ext); n < 0 {
			return nil
		}
		ext = ext[n:]
	}
	return nil
}

// isOptionsType reports whether a marshalled Any holds runc's or generic runtime options.
func isOptionsType(marshalled []byte) bool {
	var a ptypes.Any
	if err := proto.Unmarshal(marshalled, &a); err != nil {
		return false
	}
	return a.MessageIs(&options.Options{}) || a.MessageIs(&runtimeoptions.Options{})
}

func (m optionsManager) Info(ctx context.Context, optionsR io.Reader) (*types.RuntimeInfo, error) {
	data, err := io.ReadAll(optionsR)
	if err != nil {
		return nil, err
	}
	if data, err = translateMarshalled(data); err != nil {
		return nil, err
	}
	return m.Manager.Info(ctx, bytes.NewReader(data))
}

// translateMarshalled is toRuncOptions for options as containerd writes them to a shim
// binary's stdin: a marshalled Any, or nothing.
func translateMarshalled(data []byte) ([]byte, error) {
	if len(data) == 0 {
		return data, nil
	}
	var a ptypes.Any
	if err := proto.Unmarshal(data, &a); err != nil {
		return nil, err
	}
	converted, err := toRuncOptions(&a)
	if err != nil {
		return nil, err
	}
	return proto.Marshal(typeurl.MarshalProto(converted))
}

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
	ptypes "github.com/containerd/containerd/v2/pkg/protobuf/types"
	pkgshim "github.com/containerd/containerd/v2/pkg/shim"
	"github.com/containerd/typeurl/v2"
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

// optionsManager translates the options containerd hands the shim binary's "info" call.
type optionsManager struct {
	pkgshim.Manager
}

func (m optionsManager) Info(ctx context.Context, optionsR io.Reader) (*types.RuntimeInfo, error) {
	data, err := io.ReadAll(optionsR)
	if err != nil {
		return nil, err
	}
	if len(data) > 0 {
		var a ptypes.Any
		if err := proto.Unmarshal(data, &a); err != nil {
			return nil, err
		}
		converted, err := toRuncOptions(&a)
		if err != nil {
			return nil, err
		}
		if data, err = proto.Marshal(typeurl.MarshalProto(converted)); err != nil {
			return nil, err
		}
	}
	return m.Manager.Info(ctx, bytes.NewReader(data))
}

package shim

import (
	"context"
	"runtime/debug"

	taskAPI "github.com/containerd/containerd/api/runtime/task/v3"
	"github.com/containerd/containerd/api/types/runc/options"
	"github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2/task"
	"github.com/containerd/containerd/v2/pkg/shim"
	"github.com/containerd/containerd/v2/pkg/shutdown"
	"github.com/containerd/containerd/v2/plugins"
	"github.com/containerd/plugin"
	"github.com/containerd/plugin/registry"
	"github.com/containerd/ttrpc"
	"github.com/containerd/typeurl/v2"
)

// The task service is containerd's runc task service; Create is decorated, to translate
// generic runtime options (see options.go) and to give the container yoroi's state root
// where the options name none (DefaultRoot), and Start to return memory.
func init() {
	registry.Register(&plugin.Registration{
		Type:     plugins.TTRPCPlugin,
		ID:       "task",
		Requires: []plugin.Type{plugins.EventPlugin, plugins.InternalPlugin},
		InitFn: func(ic *plugin.InitContext) (interface{}, error) {
			pp, err := ic.GetByID(plugins.EventPlugin, "publisher")
			if err != nil {
				return nil, err
			}
			ss, err := ic.GetByID(plugins.InternalPlugin, "shutdown")
			if err != nil {
				return nil, err
			}
			svc, err := task.NewTaskService(ic.Context, pp.(shim.Publisher), ss.(shutdown.Service))
			if err != nil {
				return nil, err
			}
			hostMonitors()
			return &taskService{TTRPCTaskService: svc}, nil
		},
	})
}

type taskService struct {
	taskAPI.TTRPCTaskService
}

func (s *taskService) Create(ctx context.Context, r *taskAPI.CreateTaskRequest) (*taskAPI.CreateTaskResponse, error) {
	converted, err := createOptions(r.Options, r.Bundle)
	if err != nil {
		return nil, err
	}
	r.Options = typeurl.MarshalProto(converted)
	return s.TTRPCTaskService.Create(ctx, r)
}

// createOptions are the runc options a task is created with: the ones sent, translated,
// with Root defaulted to DefaultRoot(bundle). Options of any other type are the runc task
// service's to refuse, as they always were.
func createOptions(sent typeurl.Any, bundle string) (typeurl.Any, error) {
	opts := &options.Options{}
	if sent != nil && sent.GetTypeUrl() != "" {
		converted, err := toRuncOptions(sent)
		if err != nil {
			return nil, err
		}
		v, err := typeurl.UnmarshalAny(converted)
		if err != nil {
			return nil, err
		}
		runcOpts, ok := v.(*options.Options)
		if !ok {
			return converted, nil
		}
		opts = runcOpts
	}
	if opts.Root == "" {
		opts.Root = DefaultRoot(bundle)
	}
	return typeurl.MarshalAnyToProto(opts)
}

// Start starts the task; then the shim is idle for as long as the container runs, so the
// memory its start-up used goes back to the kernel now rather than whenever the Go
// scavenger gets to it.
func (s *taskService) Start(ctx context.Context, r *taskAPI.StartRequest) (*taskAPI.StartResponse, error) {
	resp, err := s.TTRPCTaskService.Start(ctx, r)
	if err == nil {
		go debug.FreeOSMemory()
	}
	return resp, err
}

// RegisterTTRPC registers the decorated service.
func (s *taskService) RegisterTTRPC(server *ttrpc.Server) error {
	taskAPI.RegisterTTRPCTaskService(server, s)
	return nil
}

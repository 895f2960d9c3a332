module bootstrapgen

go 1.26

require (
	github.com/containerd/containerd/api v1.12.0
	github.com/containerd/typeurl/v2 v2.3.0
	google.golang.org/protobuf v1.36.11
)

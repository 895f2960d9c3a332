package runtime

import (
	"slices"
	"strings"
	"testing"
)

func TestParseUnixSockets(t *testing.T) {
	table := `Num       RefCount Protocol Flags    Type St Inode Path
0000000000000000: 00000002 00000000 00010000 0001 01 20512 /run/containerd/containerd.sock
0000000000000000: 00000002 00000000 00000000 0002 01 20513 @/containerd-shim/abc.sock
0000000000000000: 00000003 00000000 00000000 0001 03 20514
0000000000000000: 00000002 00000000 00010000 0001 01 20515 /srv/with space/api.sock
0000000000000000: 00000002 00000000 00010000 0001 01    42 /run/small-inode.sock
`
	got := parseUnixSockets(strings.NewReader(table))
	want := []string{"/run/containerd/containerd.sock", "/srv/with space/api.sock", "/run/small-inode.sock"}
	if !slices.Equal(got, want) {
		t.Errorf("sockets %q, want %q", got, want)
	}
}

func TestSocketsBeneath(t *testing.T) {
	socks := []string{"/run/a.sock", "/run/docker/docker.sock", "/srv/engine/api.sock", "/srv/engine2/x.sock", "/run/b", "/run/c", "/run/d"}
	for _, tc := range []struct {
		dir  string
		want []string
	}{
		{"/srv/engine", []string{"/srv/engine/api.sock"}},
		{"/srv/engine/api.sock", []string{"/srv/engine/api.sock"}},
		{"/srv/eng", nil},
		{"/run", []string{"/run/a.sock", "/run/docker/docker.sock", "/run/b"}}, // at most three named
		{"/", []string{"/run/a.sock", "/run/docker/docker.sock", "/srv/engine/api.sock"}},
	} {
		if got := socketsBeneath(socks, tc.dir); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.dir, got, tc.want)
		}
	}
}

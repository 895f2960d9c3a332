package hardening

import "testing"

func TestCheckRootfsSource(t *testing.T) {
	allowRoot := DefaultPolicy()
	allowRoot.Mounts.AllowSources = []string{"/"}
	for _, tc := range []struct {
		name       string
		path, real string
		policy     *Policy
		want       Outcome
	}{
		{"bundle rootfs", "rootfs", "/srv/bundle/rootfs", DefaultPolicy(), Kept},
		{"containerd's task rootfs", "/run/containerd/io.containerd.runtime.v2.task/k8s.io/x/rootfs", "/run/containerd/io.containerd.runtime.v2.task/k8s.io/x/rootfs", DefaultPolicy(), Kept},
		{"docker's merged dir", "/var/lib/docker/overlay2/abc/merged", "/var/lib/docker/overlay2/abc/merged", DefaultPolicy(), Kept},
		{"host root", "/", "/", DefaultPolicy(), Refused},
		{"symlink to the host root", "rootfs", "/", DefaultPolicy(), Refused},
		{"symlink to /etc", "rootfs", "/etc", DefaultPolicy(), Refused},
		{"under /proc", "rootfs", "/proc/1/root", DefaultPolicy(), Refused},
		{"ancestor of docker.sock", "/var/run", "/run", DefaultPolicy(), Refused},
		{"unresolved, judged as written", "/", "", DefaultPolicy(), Refused},
		{"unresolved relative path", "rootfs", "", DefaultPolicy(), Kept},
		{"host root allowed by a profile", "/", "/", allowRoot, Kept},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			s.Root.Path = tc.path
			_, d, err := runRule(t, checkRootfsSource, s, tc.policy, HostFacts{Rootfs: RootfsFacts{RealPath: tc.real}})
			key := ""
			if tc.want == Refused {
				key = "mounts.allow_sources"
			}
			wantOutcome(t, d, err, tc.want, key)
		})
	}
}

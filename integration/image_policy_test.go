package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	cri "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// Through containerd's CRI, which names each container's image to the runtime: only
// listed images run, a pinned name only with its digest, refused with yoroi's line.
func TestCRIImagePolicy(t *testing.T) {
	if os.Getenv("CONTAINERD2_DIR") == "" {
		t.Fatal("CONTAINERD2_DIR is not set: run the tests through make")
	}
	dir := privateDir(t)
	cfgPath := filepath.Join(dir, "yoroi.toml")
	write := func(pin string) {
		cfg := fmt.Sprintf("[audit]\npath = %q\n\n[runtime]\nstate_dir = %q\n\n[images]\nallow = [%q, \"docker.io/library/busybox\"]\n",
			filepath.Join(dir, "audit.jsonl"), filepath.Join(dir, "yoroi-state"), pauseRef)
		if pin != "" {
			cfg += fmt.Sprintf("pins = { \"docker.io/library/busybox:pinned\" = %q }\n", pin)
		}
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("")
	c := startContainerdEnv(t, true, yoroiBin, []string{"YOROI_CONFIG=" + cfgPath})
	for _, tag := range []string{"docker.io/library/other:1", "docker.io/library/busybox:pinned"} {
		if out, err := c.run("-n", "k8s.io", "images", "tag", busyboxRef, tag); err != nil {
			t.Fatalf("ctr images tag %s: %v %s", tag, err, out)
		}
	}
	digest := imageDigest(t, c, busyboxRef)
	write(digest)
	client := newCRIClient(t, c.sock)
	sbCfg := sandboxConfig(t, "images")
	sbID, remove := client.runSandbox("yoroi", sbCfg) // the sandbox image is listed
	defer remove()

	create := func(image, userSpecified string) error {
		cfg := sleeperConfig()
		cfg.Metadata.Name = uniqueID("app")
		cfg.Image = &cri.ImageSpec{Image: image, UserSpecifiedImage: userSpecified}
		cc, err := client.rt.CreateContainer(ctx(t), &cri.CreateContainerRequest{PodSandboxId: sbID, SandboxConfig: sbCfg, Config: cfg})
		if err != nil {
			return err
		}
		defer client.rt.RemoveContainer(ctx(t), &cri.RemoveContainerRequest{ContainerId: cc.ContainerId})
		_, err = client.rt.StartContainer(ctx(t), &cri.StartContainerRequest{ContainerId: cc.ContainerId})
		if err == nil {
			_, _ = client.rt.StopContainer(ctx(t), &cri.StopContainerRequest{ContainerId: cc.ContainerId, Timeout: 5})
		}
		return err
	}
	for _, tc := range []struct {
		name, image, user, refusal string
	}{
		// The kubelet names the image as the pod spec does (user_specified_image); without
		// it containerd names one of the image's references, any tag of the same image.
		{"listed", busyboxRef, busyboxRef, ""},
		{"listed, named by digest", busyboxRef, "docker.io/library/busybox@" + digest, ""},
		{"not listed", "docker.io/library/other:1", "docker.io/library/other:1", "refused by rule images: image docker.io/library/other:1 (io.kubernetes.cri.image-name) is not in images.allow"},
		{"pinned, its digest", "docker.io/library/busybox:pinned", "docker.io/library/busybox:pinned@" + digest, ""},
		{"pinned, no digest", "docker.io/library/busybox:pinned", "docker.io/library/busybox:pinned", "refused by rule images: image docker.io/library/busybox:pinned (io.kubernetes.cri.image-name) is pinned to " + digest},
		{"pinned, another digest", "docker.io/library/busybox:pinned", "docker.io/library/busybox:pinned@sha256:" + strings.Repeat("1", 64), "not " + digest + " as images.pins"},
	} {
		err := create(tc.image, tc.user)
		switch {
		case tc.refusal == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.refusal != "" && (err == nil || !strings.Contains(err.Error(), tc.refusal)):
			t.Errorf("%s: %v, want %q", tc.name, err, tc.refusal)
		}
	}
}

// imageDigest is the manifest digest containerd has for ref (namespace k8s.io).
func imageDigest(t *testing.T, c *containerd, ref string) string {
	t.Helper()
	out, err := c.run("-n", "k8s.io", "images", "ls", "name=="+ref)
	if err != nil {
		t.Fatalf("ctr images ls: %v %s", err, out)
	}
	for _, f := range strings.Fields(out) {
		if strings.HasPrefix(f, "sha256:") {
			return f
		}
	}
	t.Fatalf("no digest for %s in %q", ref, out)
	return ""
}

// Where the engine names no image (Docker, Podman, ctr, a runc-style caller), a
// container is recorded as unknown, or refused where images.unknown says so. An image
// annotation that no CRI engine's sandbox vouches for (Docker and Podman pass their
// users' --annotation through) is not believed.
func TestImagePolicyUnknownImage(t *testing.T) {
	e := newEnv(t)
	e.writeConfig(e.baseConfig() + `
[profiles.test-images.images]
allow = ["docker.io/library/busybox"]

[profiles.test-images-strict.images]
allow = ["docker.io/library/busybox"]
unknown = "refuse"
`)
	run := func(profile string, annotations map[string]string) result {
		b := e.newBundle("true").edit(t, func(s *specs.Spec) {
			s.Annotations = map[string]string{hardening.ProfileAnnotation: profile}
			for k, v := range annotations {
				s.Annotations[k] = v
			}
		})
		id := uniqueID("images")
		r := e.run("run", "--bundle", b.dir, id)
		e.assertNoLeftovers(id)
		if d := decisionsOf(e, id, "images"); r.code == 0 && d == "" {
			t.Errorf("no images decision for %s", id)
		}
		return r
	}
	if r := run("test-images", nil); r.code != 0 {
		t.Errorf("unknown image, recorded: %d %s", r.code, r.stderr)
	}
	if r := run("test-images-strict", nil); r.code == 0 || !strings.Contains(r.stderr, "refused by rule images: the engine did not name the image") || !strings.Contains(r.stderr, "images.unknown") {
		t.Errorf("unknown image, refused: %d %s", r.code, r.stderr)
	}
	forged := map[string]string{hardening.AnnotationCRIImageName: "busybox:1.36", "io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.sandbox-id": "not-a-sandbox"}
	if r := run("test-images-strict", forged); r.code == 0 || !strings.Contains(r.stderr, "not from a CRI engine's sandbox: ignored") {
		t.Errorf("a made-up image annotation: %d %s", r.code, r.stderr)
	}
	// A sandbox whose annotated id is not its own is no sandbox either.
	forged["io.kubernetes.cri.container-type"] = "sandbox"
	if r := run("test-images-strict", forged); r.code == 0 || !strings.Contains(r.stderr, "images.unknown") {
		t.Errorf("a made-up sandbox: %d %s", r.code, r.stderr)
	}
}

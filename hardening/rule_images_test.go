package hardening

import (
	"strings"
	"testing"
)

func TestCheckImages(t *testing.T) {
	const (
		d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
		d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	)
	listed := DefaultPolicy()
	listed.Images.Allow = []string{"busybox", "registry.k8s.io/pause:3.9", "registry.example.com/team/*", d1}
	listed.Images.Pins = map[string]string{"busybox:1.36": d1}
	strict := DefaultPolicy()
	strict.Images.Allow = listed.Images.Allow
	strict.Images.Unknown = ImageUnknownRefuse
	for _, tc := range []struct {
		name        string
		annotations map[string]string
		policy      *Policy
		want        Outcome
		key         string
	}{
		{"no list: anything", map[string]string{AnnotationCRIImageName: "evil:latest"}, DefaultPolicy(), Kept, ""},
		{"short name of a listed repository", map[string]string{AnnotationCRIImageName: "busybox:latest"}, listed, Tightened, ""},
		{"normalized name", map[string]string{AnnotationCRIImageName: "docker.io/library/busybox@" + d2}, listed, Tightened, ""},
		{"an exact tag", map[string]string{AnnotationCRISandboxImageName: "registry.k8s.io/pause:3.9"}, listed, Tightened, ""},
		{"another tag of an exact entry", map[string]string{AnnotationCRISandboxImageName: "registry.k8s.io/pause:3.10"}, listed, Refused, "images.allow"},
		{"under a listed prefix", map[string]string{AnnotationCRIImageName: "registry.example.com/team/app:v1"}, listed, Tightened, ""},
		{"beside a listed prefix", map[string]string{AnnotationCRIImageName: "registry.example.com/teams/app:v1"}, listed, Refused, "images.allow"},
		{"not listed", map[string]string{AnnotationCRIImageName: "nginx:1.27"}, listed, Refused, "images.allow"},
		{"a listed digest (CRI-O's image id)", map[string]string{AnnotationCRIOImageName: "quay.io/x/y:1", AnnotationCRIOImageRef: d1}, listed, Tightened, ""},
		{"pinned, right digest", map[string]string{AnnotationCRIImageName: "busybox:1.36@" + d1}, listed, Tightened, ""},
		{"pinned, another digest", map[string]string{AnnotationCRIImageName: "busybox:1.36@" + d2}, listed, Refused, "images.pins"},
		{"pinned, no digest given", map[string]string{AnnotationCRIImageName: "busybox:1.36"}, listed, Refused, "images.pins"},
		{"another tag is not pinned", map[string]string{AnnotationCRIImageName: "busybox:1.37"}, listed, Tightened, ""},
		{"unknown image recorded", nil, listed, Kept, ""},
		{"unknown image refused", nil, strict, Refused, "images.unknown"},
		{"not a reference", map[string]string{AnnotationCRIImageName: "Not A Reference"}, listed, Refused, "images.allow"},
		{"named, but not by a CRI engine: unknown", map[string]string{AnnotationCRIImageName: "busybox:latest", "forged": ""}, strict, Refused, "images.unknown"},
		{"named, but not by a CRI engine: recorded", map[string]string{AnnotationCRIImageName: "nginx:1.27", "forged": ""}, listed, Kept, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := minimalSpec()
			s.Annotations = tc.annotations
			_, forged := tc.annotations["forged"]
			facts := HostFacts{CRIEngine: !forged}
			out, d, err := runRule(t, checkImages, s, tc.policy, facts)
			wantOutcome(t, d, err, tc.want, tc.key)
			verr := verifyImages(&verifier{spec: out, policy: tc.policy, facts: facts})
			if (err == nil) != (verr == nil) {
				t.Errorf("apply %v, verify %v", err, verr)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "refused by rule test:") {
				t.Errorf("refusal %q", err)
			}
		})
	}
}

package hardening

import (
	"strings"
	"testing"

	"github.com/distribution/reference"
)

// distributionRef is what github.com/distribution/reference makes of s, in imageRef's terms.
func distributionRef(s string) (imageRef, bool) {
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return imageRef{}, false
	}
	out := imageRef{name: named.Name()}
	if t, ok := named.(reference.Tagged); ok {
		out.tag = t.Tag()
	}
	if d, ok := named.(reference.Digested); ok {
		out.digest = d.Digest().String()
	}
	return out, true
}

var imageRefCases = []string{
	"busybox", "busybox:latest", "library/busybox", "docker.io/busybox", "index.docker.io/busybox",
	"docker.io/library/busybox:1.36", "nginx@sha256:" + strings.Repeat("a", 64),
	"nginx:1.27@sha256:" + strings.Repeat("0f", 32), "registry.k8s.io/pause:3.9",
	"localhost/app", "localhost:5000/app:v1", "localhost:5000", "127.0.0.1:5000/a/b/c",
	"[::1]:5000/app", "[fe80::1]/app", "[::1/app", "example.com:/app", "Example.com/app",
	"EXAMPLE/app", "foo_bar.com/x", "a__b/c", "a___b", "a--b", "a.-b", "-a", "a-", "a..b",
	"app:", "app:-x", "app:_x", "app:" + strings.Repeat("t", 128), "app:" + strings.Repeat("t", 129),
	"app@sha256:" + strings.Repeat("A", 64), "app@sha256:abc", "app@sha512:" + strings.Repeat("1", 128),
	"app@md5:" + strings.Repeat("1", 32), "app@SHA256:" + strings.Repeat("1", 64),
	"app@sha256:" + strings.Repeat("1", 64) + "@x", strings.Repeat("a", 64), strings.Repeat("A", 64),
	"", "/", "a//b", "a/", "/a", "Busybox", "busybox:Latest", "ghcr.io/Org/app", "ghcr.io/org/app",
	"host-.com/app", "-host.com/app", "ho-st.com:80/app", "x/" + strings.Repeat("a", 250),
	"x/" + strings.Repeat("a", 260), "example.com/" + strings.Repeat("a", 255),
	"my.registry:5000/ns/app:1.0@sha384:" + strings.Repeat("e", 96), "a@b:c", "a:b:c", "a/b:c/d",
}

// TestImageRefMatchesDistribution: the parser accepts what distribution/reference accepts
// and reads the same name, tag and digest from it.
func TestImageRefMatchesDistribution(t *testing.T) {
	for _, s := range imageRefCases {
		checkImageRefAgrees(t, s)
	}
}

func checkImageRefAgrees(t *testing.T, s string) {
	t.Helper()
	want, wantOK := distributionRef(s)
	got, err := parseImageRef(s)
	if (err == nil) != wantOK {
		t.Fatalf("%q: parseImageRef error %v, distribution/reference accepts: %v", s, err, wantOK)
	}
	if err == nil && got != want {
		t.Fatalf("%q: parseImageRef %+v, distribution/reference %+v", s, got, want)
	}
}

func FuzzImageRef(f *testing.F) {
	for _, s := range imageRefCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkImageRefAgrees(t, s)
	})
}

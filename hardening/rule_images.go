package hardening

import (
	"fmt"
	"strings"
)

// The image a container runs, as engines tell the runtime in the spec's annotations. No
// engine tells the runtime everything: containerd's CRI passes the image as the user (the
// kubelet: the pod spec) named it, with a digest only when it was named by one; CRI-O
// passes the name and the image's id; Docker, Podman and ctr pass nothing.
const (
	AnnotationCRIImageName        = "io.kubernetes.cri.image-name"
	AnnotationCRISandboxImageName = "io.kubernetes.cri.podsandbox.image-name"
	AnnotationCRIOImageName       = "io.kubernetes.cri-o.ImageName"
	AnnotationCRIOImageRef        = "io.kubernetes.cri-o.ImageRef"
)

// ImageUnknownMode is [images] unknown: what a container whose engine names no image gets.
type ImageUnknownMode string

const (
	// ImageUnknownRecord: it runs; the decision records that the image is unknown.
	ImageUnknownRecord ImageUnknownMode = "record"
	// ImageUnknownRefuse: it does not run (where the allow-list or pins are set).
	ImageUnknownRefuse ImageUnknownMode = "refuse"
)

// UnmarshalText parses the mode.
func (m *ImageUnknownMode) UnmarshalText(text []byte) error {
	switch s := ImageUnknownMode(text); s {
	case ImageUnknownRecord, ImageUnknownRefuse:
		*m = s
		return nil
	}
	return fmt.Errorf("%q is not one of record, refuse", text)
}

// imageIdentity is what the annotations say of the image: its reference as the engine
// gave it, normalized ("busybox" is docker.io/library/busybox), and a digest when one is
// known ("sha256:...": the reference's own, or the image id CRI-O passes).
type imageIdentity struct {
	given, source string
	named         *imageRef
	digest        string
}

func (id imageIdentity) String() string { return id.given + " (" + id.source + ")" }

// imageOf reads the image's identity from the spec's annotations (nil: none given).
func imageOf(annotations map[string]string) (*imageIdentity, error) {
	var given, source string
	for _, key := range []string{AnnotationCRIImageName, AnnotationCRISandboxImageName, AnnotationCRIOImageName} {
		if v := annotations[key]; v != "" {
			given, source = v, key
			break
		}
	}
	id := &imageIdentity{given: given, source: source}
	if ref := annotations[AnnotationCRIOImageRef]; strings.HasPrefix(ref, "sha256:") {
		id.digest = ref
		if given == "" {
			id.given, id.source = ref, AnnotationCRIOImageRef
			return id, nil
		}
	}
	if given == "" {
		return nil, nil
	}
	if strings.HasPrefix(given, "sha256:") {
		id.digest = given
		return id, nil
	}
	named, err := parseImageRef(given)
	if err != nil {
		return nil, fmt.Errorf("annotation %s: image %q: %v", source, given, err)
	}
	id.named = &named
	if named.digest != "" {
		id.digest = named.digest
	}
	return id, nil
}

// allows reports whether an allow-list entry admits the image: "sha256:..." a digest;
// "NAME/*" every repository under NAME; a name with a tag or digest exactly that; a name
// alone every tag and digest of it.
func (id imageIdentity) allows(entry string) bool {
	if strings.HasPrefix(entry, "sha256:") {
		return id.digest == entry
	}
	if id.named == nil {
		return false
	}
	name := id.named.name
	if prefix, ok := strings.CutSuffix(entry, "/*"); ok {
		p, err := parseImageRef(prefix)
		return err == nil && strings.HasPrefix(name, p.name+"/")
	}
	want, err := parseImageRef(entry)
	if err != nil || want.name != name {
		return false
	}
	if want.tag != "" && id.named.tag != want.tag {
		return false
	}
	if want.digest != "" && want.digest != id.digest {
		return false
	}
	return true
}

// pinOf is the digest an images.pins entry requires of the image ("" : not pinned). A pin
// names a repository with a tag ("nginx:1.27"), or a repository (every tag).
func (id imageIdentity) pinOf(pins map[string]string) (string, string) {
	if id.named == nil {
		return "", ""
	}
	for name, digest := range pins {
		want, err := parseImageRef(name)
		if err != nil || want.name != id.named.name {
			continue
		}
		if want.tag != "" && id.named.tag != want.tag {
			continue
		}
		return name, digest
	}
	return "", ""
}

// checkImages: only listed images run (images.allow), a pinned name only with its digest
// (images.pins), where the engine names the image; a container whose engine names none
// is recorded or refused (images.unknown).
func checkImages(c *checker) error {
	pol := c.policy.Images
	if len(pol.Allow) == 0 && len(pol.Pins) == 0 {
		c.kept("no image allow-list or pins (images.allow, images.pins)")
		return nil
	}
	id, err := imageOf(c.spec.Annotations)
	if err != nil {
		return c.refuse(err.Error(), "images.allow")
	}
	forged := ""
	if id != nil && !c.facts.CRIEngine {
		// Not a CRI engine's container: whoever named the image could name any.
		forged = " (its annotations name " + id.given + ", but not from a CRI engine's sandbox: ignored)"
		id = nil
	}
	if id == nil {
		if pol.Unknown == ImageUnknownRefuse {
			return c.refuse("the engine did not name the image"+forged+": it cannot be checked against images.allow", "images.unknown")
		}
		c.kept("the engine did not name the image" + forged + ": not checked (images.unknown = record)")
		return nil
	}
	if len(pol.Allow) > 0 {
		allowed := false
		for _, entry := range pol.Allow {
			if id.allows(entry) {
				allowed = true
				break
			}
		}
		if !allowed {
			return c.refuse("image "+id.String()+" is not in images.allow", "images.allow")
		}
	}
	if name, pin := id.pinOf(pol.Pins); pin != "" {
		switch {
		case id.digest == "":
			return c.refuse(fmt.Sprintf("image %s is pinned to %s by images.pins[%q], and the engine gave no digest to check (name it by digest)", id, pin, name), "images.pins")
		case id.digest != pin:
			return c.refuse(fmt.Sprintf("image %s has digest %s, not %s as images.pins[%q] requires", id, id.digest, pin, name), "images.pins")
		}
		c.tightened("image "+id.String()+" allowed, digest "+pin+" as pinned", "", "")
		return nil
	}
	c.tightened("image "+id.String()+" allowed by images.allow", "", "")
	return nil
}

// validImageEntry checks an images.allow entry as checkImages reads it.
func validImageEntry(e string) error {
	if strings.HasPrefix(e, "sha256:") {
		if !validDigest(e) {
			return fmt.Errorf("%q is not a sha256 digest", e)
		}
		return nil
	}
	if _, err := parseImageRef(strings.TrimSuffix(e, "/*")); err != nil {
		return fmt.Errorf("%q is not an image reference: %v", e, err)
	}
	return nil
}

func validDigest(d string) bool {
	hexPart, ok := strings.CutPrefix(d, "sha256:")
	return ok && len(hexPart) == 64 && strings.Trim(hexPart, "0123456789abcdef") == ""
}

// verifyImages: where images.allow or images.pins are set, a named image is listed and
// has its pinned digest, and an unnamed one runs only with images.unknown = record.
func verifyImages(v *verifier) error {
	pol := v.policy.Images
	if len(pol.Allow) == 0 && len(pol.Pins) == 0 {
		return nil
	}
	id, err := imageOf(v.spec.Annotations)
	if err != nil {
		return err
	}
	if !v.facts.CRIEngine {
		id = nil
	}
	if id == nil {
		if pol.Unknown != ImageUnknownRecord {
			return fmt.Errorf("an image the engine did not name")
		}
		return nil
	}
	listed := len(pol.Allow) == 0
	for _, e := range pol.Allow {
		listed = listed || id.allows(e)
	}
	if !listed {
		return fmt.Errorf("image %s not in images.allow", id)
	}
	if _, pin := id.pinOf(pol.Pins); pin != "" && id.digest != pin {
		return fmt.Errorf("image %s is not its pinned digest %s", id, pin)
	}
	return nil
}

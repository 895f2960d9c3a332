package hardening

import (
	"errors"
	"fmt"
	"strings"
)

// imageRef is an image reference as the kubelet, containerd and Docker read one, with
// Docker Hub's normalization ("busybox" is docker.io/library/busybox): the grammar of
// github.com/distribution/reference (ParseNormalizedNamed), parsed by hand. That package
// compiles a dozen regular expressions when a program starts, which every yoroi process
// (the CLI, the container's init, its monitor) paid on every start, though only the image
// policy reads references; TestImageRefMatchesDistribution holds the two to the same
// answers.
type imageRef struct {
	name   string // domain and path: "docker.io/library/busybox"
	tag    string // "" : none
	digest string // "sha256:<hex>", "" : none
}

const (
	dockerHubDomain       = "docker.io"
	dockerHubLegacyDomain = "index.docker.io"
	dockerHubOfficial     = "library/"
	maxRepositoryPath     = 255
	maxTagLength          = 128
)

var (
	errRefEmpty     = errors.New("repository name must have at least one component")
	errRefFormat    = errors.New("invalid reference format")
	errRefUppercase = errors.New("invalid reference format: repository name must be lowercase")
	errRefTooLong   = fmt.Errorf("repository name must not be more than %d characters", maxRepositoryPath)
)

// parseImageRef parses s as distribution/reference's ParseNormalizedNamed does.
func parseImageRef(s string) (imageRef, error) {
	if len(s) == 64 && isLowerHex(s) {
		return imageRef{}, fmt.Errorf("invalid repository name (%s), cannot specify 64-byte hexadecimal strings", s)
	}
	domain, remainder := splitHubDomain(s)
	remote := remainder
	if i := strings.IndexByte(remainder, ':'); i >= 0 {
		remote = remainder[:i]
	}
	if strings.ToLower(remote) != remote {
		return imageRef{}, fmt.Errorf("invalid reference format: repository name (%s) must be lowercase", remote)
	}
	return parseFullRef(domain + "/" + remainder)
}

// splitHubDomain splits a name into its registry and the rest, Docker Hub's way: a first
// component that is localhost, has a dot or a colon, or has capitals is a registry;
// otherwise the registry is docker.io, whose one-component names are under library/.
func splitHubDomain(name string) (domain, rest string) {
	first, after, ok := strings.Cut(name, "/")
	switch {
	case !ok:
		return dockerHubDomain, dockerHubOfficial + name
	case first == "localhost", strings.ContainsAny(first, ".:"), strings.ToLower(first) != first:
		domain, rest = first, after
	case first == dockerHubLegacyDomain:
		domain, rest = dockerHubDomain, after
	default:
		domain, rest = dockerHubDomain, name
	}
	if domain == dockerHubLegacyDomain {
		domain = dockerHubDomain
	}
	if domain == dockerHubDomain && !strings.Contains(rest, "/") {
		rest = dockerHubOfficial + rest
	}
	return domain, rest
}

// parseFullRef parses NAME[:TAG][@DIGEST], where NAME is [DOMAIN[:PORT]/]PATH.
func parseFullRef(s string) (imageRef, error) {
	if s == "" {
		return imageRef{}, errRefEmpty
	}
	var ref imageRef
	rest := s
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		rest, ref.digest = rest[:i], rest[i+1:]
		if !digestSyntax(ref.digest) {
			return imageRef{}, formatError(s)
		}
	}
	// A colon after the last slash starts the tag; one before it is the domain's port.
	if i := strings.LastIndexByte(rest, ':'); i > strings.LastIndexByte(rest, '/') {
		rest, ref.tag = rest[:i], rest[i+1:]
		if !tagSyntax(ref.tag) {
			return imageRef{}, formatError(s)
		}
	}
	path := rest
	if first, after, ok := strings.Cut(rest, "/"); ok && domainSyntax(first) && remoteNameSyntax(after) {
		path = after
	} else if !remoteNameSyntax(rest) {
		return imageRef{}, formatError(s)
	}
	if len(path) > maxRepositoryPath {
		return imageRef{}, errRefTooLong
	}
	ref.name = rest
	if ref.digest != "" {
		if err := validateDigest(ref.digest); err != nil {
			return imageRef{}, err
		}
	}
	return ref, nil
}

// formatError: a reference that would parse in lower case has capitals where they are not
// allowed.
func formatError(s string) error {
	if low := strings.ToLower(s); low != s {
		if _, err := parseFullRef(low); err == nil {
			return errRefUppercase
		}
	}
	return errRefFormat
}

// remoteNameSyntax: path components separated by slashes.
func remoteNameSyntax(s string) bool {
	for _, c := range strings.Split(s, "/") {
		if !pathComponentSyntax(c) {
			return false
		}
	}
	return true
}

// pathComponentSyntax: [a-z0-9]+ runs joined by one separator each: ".", "_", "__" or
// any number of "-".
func pathComponentSyntax(s string) bool {
	i := 0
	for {
		start := i
		for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= '0' && s[i] <= '9') {
			i++
		}
		if i == start {
			return false
		}
		if i == len(s) {
			return true
		}
		switch {
		case s[i] == '.':
			i++
		case strings.HasPrefix(s[i:], "__"):
			i += 2
		case s[i] == '_':
			i++
		case s[i] == '-':
			for i < len(s) && s[i] == '-' {
				i++
			}
		default:
			return false
		}
	}
}

// domainSyntax: a host name (dot-separated labels of letters, digits and inner hyphens) or
// a bracketed IPv6 address, with an optional numeric port.
func domainSyntax(s string) bool {
	host := s
	if i := strings.LastIndexByte(s, ':'); i >= 0 && i > strings.LastIndexByte(s, ']') {
		host = s[:i]
		port := s[i+1:]
		if port == "" || strings.Trim(port, "0123456789") != "" {
			return false
		}
	}
	if strings.HasPrefix(host, "[") {
		inner, ok := strings.CutSuffix(host[1:], "]")
		return ok && inner != "" && strings.Trim(inner, "0123456789abcdefABCDEF:") == ""
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if !isAlnum(label[i]) && label[i] != '-' {
				return false
			}
		}
	}
	return true
}

// tagSyntax: a word character, then up to 127 word characters, dots and hyphens.
func tagSyntax(s string) bool {
	if s == "" || len(s) > maxTagLength || s[0] == '.' || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-' {
			return false
		}
	}
	return true
}

// digestSyntax: ALGORITHM:HEX as references spell digests: algorithm components of a
// letter then letters and digits, joined by -, _, + or .; 32 or more hex digits.
func digestSyntax(s string) bool {
	alg, hex, ok := strings.Cut(s, ":")
	if !ok || len(hex) < 32 || strings.Trim(hex, "0123456789abcdefABCDEF") != "" {
		return false
	}
	i := 0
	for {
		if i == len(alg) || !isLetter(alg[i]) {
			return false
		}
		for i < len(alg) && isAlnum(alg[i]) {
			i++
		}
		if i == len(alg) {
			return true
		}
		if !strings.ContainsRune("-_+.", rune(alg[i])) {
			return false
		}
		i++
	}
}

// validateDigest is go-digest's check with the one algorithm it always has: sha256 (it
// knows sha384 and sha512 only in programs that link crypto/sha512, and images are
// addressed by sha256).
func validateDigest(d string) error {
	alg, hex, _ := strings.Cut(d, ":")
	switch {
	case alg != "sha256":
		return fmt.Errorf("unsupported digest algorithm %q", alg)
	case len(hex) != 64 || !isLowerHex(hex):
		return errors.New("invalid sha256 digest")
	}
	return nil
}

func isLowerHex(s string) bool {
	return s != "" && strings.Trim(s, "0123456789abcdef") == ""
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isAlnum(c byte) bool { return isLetter(c) || c >= '0' && c <= '9' }

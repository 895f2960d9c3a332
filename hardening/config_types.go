package hardening

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// The typed values of config.toml: each is checked as it is parsed, so that a malformed
// value is an error naming its key and line, and the rules use the value as it is,
// never parsing it again.

// Size is a number of bytes, written "64m", "1g", "65536k" or "1048576".
type Size int64

// UnmarshalText parses a size.
func (s *Size) UnmarshalText(text []byte) error {
	n, err := ParseSize(string(text))
	if err != nil {
		return err
	}
	*s = Size(n)
	return nil
}

// MarshalText writes the size in the largest unit that divides it.
func (s Size) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s Size) String() string {
	for _, u := range []struct {
		suffix string
		n      int64
	}{{"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}} {
		if int64(s) >= u.n && int64(s)%u.n == 0 {
			return strconv.FormatInt(int64(s)/u.n, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(s), 10)
}

// IDSpan is an inclusive range of ids, written "1000-1999", or one id, "0".
type IDSpan struct{ First, Last uint32 }

// UnmarshalText parses a span.
func (r *IDSpan) UnmarshalText(text []byte) error {
	s := string(text)
	lo, hi, isRange := strings.Cut(strings.TrimSpace(s), "-")
	first, err := strconv.ParseUint(lo, 10, 32)
	if err != nil {
		return fmt.Errorf("invalid id range %q", s)
	}
	last := first
	if isRange {
		if last, err = strconv.ParseUint(hi, 10, 32); err != nil || last < first {
			return fmt.Errorf("invalid id range %q", s)
		}
	}
	*r = IDSpan{uint32(first), uint32(last)}
	return nil
}

// MarshalText writes the span as it is read.
func (r IDSpan) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

func (r IDSpan) String() string {
	if r.First == r.Last {
		return strconv.FormatUint(uint64(r.First), 10)
	}
	return fmt.Sprintf("%d-%d", r.First, r.Last)
}

// Size is the number of ids in the span.
func (r IDSpan) Size() uint64 { return uint64(r.Last) - uint64(r.First) + 1 }

// IDSpans is a list of spans.
type IDSpans []IDSpan

// Contains reports whether id is in one of the spans.
func (rs IDSpans) Contains(id uint32) bool {
	for _, r := range rs {
		if id >= r.First && id <= r.Last {
			return true
		}
	}
	return false
}

// stringList is what a TOML array of strings decodes to (as []any).
func stringList(key string, v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: want an array of strings", key)
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("%s: want an array of strings, got %v", key, e)
		}
		out = append(out, s)
	}
	return out, nil
}

// Capabilities is a set of capability names, normalized ("net_raw" is CAP_NET_RAW);
// an unknown name is an error.
type Capabilities []string

// UnmarshalTOML parses the names.
func (c *Capabilities) UnmarshalTOML(v any) error {
	names, err := stringList("capabilities", v)
	if err != nil {
		return err
	}
	out := make(Capabilities, 0, len(names))
	for _, name := range names {
		n, ok := normalizeCap(name)
		if !ok {
			return fmt.Errorf("unknown capability %q", name)
		}
		out = append(out, n)
	}
	*c = out
	return nil
}

// checkedStrings decodes a TOML array of strings, each passing check.
func checkedStrings(key string, v any, check func(string) error) ([]string, error) {
	list, err := stringList(key, v)
	if err != nil {
		return nil, err
	}
	for _, s := range list {
		if err := check(s); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// MACProviders are mandatory access control providers, in order of preference.
type MACProviders []string

// UnmarshalTOML parses the providers: at least one, each known.
func (m *MACProviders) UnmarshalTOML(v any) (err error) {
	*m, err = checkedStrings("mac.accept", v, func(n string) error {
		if n != "apparmor" && n != "selinux" && n != "landlock" {
			return fmt.Errorf("unknown provider %q (apparmor, selinux, landlock)", n)
		}
		return nil
	})
	if err == nil && len(*m) == 0 {
		err = fmt.Errorf("must name at least one provider")
	}
	return err
}

// HostNamespaces are namespace types a container may share with the host.
type HostNamespaces []string

// UnmarshalTOML parses the types.
func (h *HostNamespaces) UnmarshalTOML(v any) (err error) {
	*h, err = checkedStrings("namespaces.allow_host", v, func(n string) error {
		if _, ok := hostShareable[n]; !ok {
			return fmt.Errorf("%q is not one of network, pid, ipc, uts, cgroup", n)
		}
		return nil
	})
	return err
}

// AbsPaths are absolute host or container paths.
type AbsPaths []string

// UnmarshalTOML parses the paths.
func (a *AbsPaths) UnmarshalTOML(v any) (err error) {
	*a, err = checkedStrings("paths", v, func(p string) error {
		if !path.IsAbs(p) {
			return fmt.Errorf("%q must be an absolute path", p)
		}
		return nil
	})
	return err
}

// ScratchPaths are container paths that get a scratch tmpfs: clean, absolute, not "/".
type ScratchPaths []string

// UnmarshalTOML parses the paths.
func (s *ScratchPaths) UnmarshalTOML(v any) (err error) {
	*s, err = checkedStrings("rootfs.scratch", v, func(p string) error {
		if !path.IsAbs(p) || path.Clean(p) != p || p == "/" {
			return fmt.Errorf("%q must be a clean absolute path other than /", p)
		}
		return nil
	})
	return err
}

package runtime

import (
	"encoding/binary"

	"github.com/opencontainers/runc/libcontainer/configs"
)

// appendSeccomp appends an encoding of a seccomp profile to b that tells any two
// different profiles apart (lengths before contents, nil apart from empty): the filter
// cache's key. JSON would do, but builds its encoder for each type on first use, which a
// yoroi process (gone after one command) would pay at every start, and reflection costs
// as much; TestSeccompKeyCoversEveryField holds this to libcontainer's types.
func appendSeccomp(b []byte, s *configs.Seccomp) []byte {
	if s == nil {
		return append(b, 0)
	}
	b = binary.AppendVarint(append(b, 1), int64(s.DefaultAction))
	b = appendStrings(b, s.Architectures)
	if s.Flags == nil {
		b = append(b, 0)
	} else {
		b = binary.AppendUvarint(append(b, 1), uint64(len(s.Flags)))
		for _, f := range s.Flags {
			b = appendString(b, string(f))
		}
	}
	if s.Syscalls == nil {
		b = append(b, 0)
	} else {
		b = binary.AppendUvarint(append(b, 1), uint64(len(s.Syscalls)))
		for _, c := range s.Syscalls {
			b = appendSyscall(b, c)
		}
	}
	b = appendUintPtr(b, s.DefaultErrnoRet)
	b = appendString(b, s.ListenerPath)
	return appendString(b, s.ListenerMetadata)
}

func appendSyscall(b []byte, c *configs.Syscall) []byte {
	if c == nil {
		return append(b, 0)
	}
	b = appendString(append(b, 1), c.Name)
	b = binary.AppendVarint(b, int64(c.Action))
	b = appendUintPtr(b, c.ErrnoRet)
	if c.Args == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(append(b, 1), uint64(len(c.Args)))
	for _, a := range c.Args {
		if a == nil {
			b = append(b, 0)
			continue
		}
		b = binary.AppendUvarint(append(b, 1), uint64(a.Index))
		b = binary.AppendUvarint(b, a.Value)
		b = binary.AppendUvarint(b, a.ValueTwo)
		b = binary.AppendVarint(b, int64(a.Op))
	}
	return b
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(append(b, 1), uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

func appendUintPtr(b []byte, p *uint) []byte {
	if p == nil {
		return append(b, 0)
	}
	return binary.AppendUvarint(append(b, 1), uint64(*p))
}

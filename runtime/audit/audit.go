// Package audit is yoroi's audit log: one JSON line per event, appended.
package audit

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/hardening"
	"github.com/yoroi-runtime/yoroi/runtime/internal/quiet"
)

// Event is one line of the audit log.
type Event struct {
	Time     time.Time           `json:"time"`
	Event    string              `json:"event"`
	ID       string              `json:"id"`
	Bundle   string              `json:"bundle,omitempty"`
	Args     []string            `json:"args,omitempty"`
	User     string              `json:"user,omitempty"`
	Profile  string              `json:"profile,omitempty"`
	Decision *hardening.Decision `json:"decision,omitempty"`
	Detail   string              `json:"detail,omitempty"`
	Error    string              `json:"error,omitempty"`
	// What a container's monitor saw a process of the container do: its pid (the
	// host's), effective uid as the container sees it and as the host does, executable
	// and command name; the syscall and its architecture, the errno it got; for an
	// execve, the path asked for and the result; for a summary, how many.
	Pid     int     `json:"pid,omitempty"`
	UID     *uint32 `json:"uid,omitempty"`
	HostUID *uint32 `json:"hostUid,omitempty"`
	Exe     string  `json:"exe,omitempty"`
	Comm    string  `json:"comm,omitempty"`
	Syscall string  `json:"syscall,omitempty"`
	Arch    string  `json:"arch,omitempty"`
	Errno   int     `json:"errno,omitempty"`
	Path    string  `json:"path,omitempty"`
	Result  string  `json:"result,omitempty"`
	Count   int     `json:"count,omitempty"`
}

// Log appends JSON lines. The file is opened append-only without following
// symlinks, and each call is one write(2), so concurrent yoroi processes never
// interleave or truncate each other's lines.
type Log struct {
	path string
}

// New is the log cfg configures, nil (writing nothing) when it is disabled.
func New(cfg hardening.AuditConfig) *Log {
	if !cfg.Enabled {
		return nil
	}
	return &Log{path: cfg.Path}
}

// At is the log at path.
func At(path string) *Log { return &Log{path: path} }

// Write appends events, each one line, in one write(2); an event without a time gets
// the current one.
func (a *Log) Write(events ...Event) error {
	if a == nil || len(events) == 0 {
		return nil
	}
	var buf []byte
	now := time.Now().UTC()
	for _, e := range events {
		if e.Time.IsZero() {
			e.Time = now
		}
		line, err := json.Marshal(e)
		if err != nil {
			return err
		}
		buf = append(append(buf, line...), '\n')
	}
	// The calls are quiet ones: a container's monitor writes here while the container's
	// programs run (package quiet). Its directory is made when it is not there yet.
	const flags = unix.O_WRONLY | unix.O_APPEND | unix.O_CREAT | unix.O_NOFOLLOW
	fd, err := quiet.Open(a.path, flags, 0o600)
	if err == unix.ENOENT {
		if err := os.MkdirAll(filepath.Dir(a.path), 0o700); err != nil {
			return fmt.Errorf("audit log: %w", err)
		}
		fd, err = quiet.Open(a.path, flags, 0o600)
	}
	if err != nil {
		return fmt.Errorf("audit log %s: %w", a.path, err)
	}
	defer quiet.Close(fd)
	if err := quiet.Write(fd, buf); err != nil {
		return fmt.Errorf("audit log %s: %w", a.path, err)
	}
	return nil
}

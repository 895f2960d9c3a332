package runtime

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// auditEvent is one line of the audit log.
type auditEvent struct {
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
}

// auditLog appends JSON lines. The file is opened append-only without following
// symlinks, and each call is one write(2), so concurrent yoroi processes never
// interleave or truncate each other's lines.
type auditLog struct {
	path string
}

func newAuditLog(cfg hardening.AuditConfig) *auditLog {
	if !cfg.Enabled {
		return nil
	}
	return &auditLog{path: cfg.Path}
}

func (a *auditLog) write(events ...auditEvent) error {
	if a == nil || len(events) == 0 {
		return nil
	}
	var buf []byte
	now := time.Now().UTC()
	for _, e := range events {
		e.Time = now
		line, err := json.Marshal(e)
		if err != nil {
			return err
		}
		buf = append(append(buf, line...), '\n')
	}
	if err := os.MkdirAll(filepath.Dir(a.path), 0o700); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	fd, err := unix.Open(a.path, unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("audit log %s: %w", a.path, err)
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, buf); err != nil {
		return fmt.Errorf("audit log %s: %w", a.path, err)
	}
	return nil
}

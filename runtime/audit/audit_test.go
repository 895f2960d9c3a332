package audit

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yoroi-runtime/yoroi/hardening"
)

// The log is appended to, one line per event, created 0600 with its directory; a symlink
// at its path is refused, never followed; a disabled log writes nothing.
func TestLogAppends(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit", "audit.jsonl")
	log := New(hardening.AuditConfig{Enabled: true, Path: path})
	for _, id := range []string{"a", "b"} {
		if err := log.Write(Event{Event: "create", ID: id}, Event{Event: "start", ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4:\n%s", len(lines), data)
	}
	var ev Event
	if err := json.Unmarshal([]byte(lines[3]), &ev); err != nil || ev.Event != "start" || ev.ID != "b" || ev.Time.IsZero() {
		t.Errorf("last line %q: %+v %v", lines[3], ev, err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v %v, want 0600", st.Mode(), err)
	}

	link := filepath.Join(dir, "link.jsonl")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	if err := At(link).Write(Event{Event: "create", ID: "c"}); err == nil {
		t.Error("a write through a symlink succeeded")
	}
	if err := New(hardening.AuditConfig{Path: path}).Write(Event{Event: "create", ID: "d"}); err != nil {
		t.Errorf("a disabled log: %v", err)
	}
	if after, _ := os.ReadFile(path); len(after) != len(data) {
		t.Error("the log changed through a symlink or while disabled")
	}
}

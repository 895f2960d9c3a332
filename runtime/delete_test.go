package runtime

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A delete killed after libcontainer's destroy leaves yoroi's last records of the
// container (its monitor's socket, its decisions) and nothing of libcontainer's: the next
// delete clears them. A container that never existed is still refused without --force.
func TestDeleteClearsRecordsLeftByKilledDelete(t *testing.T) {
	h := newTestHost(t)
	for _, force := range []bool{true, false} {
		id := "remains"
		if err := h.r.writeDecisions(id, "default", nil); err != nil {
			t.Fatal(err)
		}
		sock := h.r.monitorSocket(id)
		if err := os.MkdirAll(filepath.Dir(sock), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(sock, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := h.r.Delete(id, force); err != nil {
			t.Fatalf("delete (force %v) of a container's remains: %v", force, err)
		}
		for _, p := range []string{sock, h.r.decisionsPath(id)} {
			if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("delete (force %v): %s left (%v)", force, p, err)
			}
		}
	}
	if err := h.r.Delete("never", false); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("delete of a container that never existed: %v", err)
	}
	if err := h.r.Delete("never", true); err != nil {
		t.Errorf("delete --force of a container that never existed: %v", err)
	}
}

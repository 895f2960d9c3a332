package runtime

import (
	"encoding/binary"
	"net"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/yoroi-runtime/yoroi/hardening"
	"github.com/yoroi-runtime/yoroi/runtime/monitor"
)

// A monitor an attached run serves ends when asked to once nothing is connected (not a
// minute later, as a monitor process nothing connected to does), closes its socket, and
// may be asked again; until then it takes connections.
func TestLocalMonitorEnds(t *testing.T) {
	r := &Runtime{root: t.TempDir()}
	allow := make([]byte, 8)
	binary.NativeEndian.PutUint16(allow[0:2], unix.BPF_RET|unix.BPF_K)
	binary.NativeEndian.PutUint32(allow[4:8], unix.SECCOMP_RET_ALLOW)
	mc := monitor.Config{Version: monitor.ConfigVersion, ID: "c1", AuditPath: filepath.Join(t.TempDir(), "audit.jsonl"), Filter: allow, Plan: hardening.MonitorPlan{Exec: true}}
	h, err := r.startMonitor(mc, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-h.started; err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("unix", r.monitorSocket("c1"))
	if err != nil {
		t.Fatalf("the local monitor takes no connection: %v", err)
	}
	conn.Close() // a process that went away before offering its listener
	start := time.Now()
	h.stop()
	h.stop()
	if d := time.Since(start); d > time.Second {
		t.Errorf("the local monitor took %s to end", d)
	}
	if conn, err := net.Dial("unix", r.monitorSocket("c1")); err == nil {
		conn.Close()
		t.Error("the ended monitor still takes connections")
	}
	(&monitorHandle{}).stop() // a monitor process' handle: nothing to end
}

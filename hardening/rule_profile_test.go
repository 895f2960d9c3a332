package hardening

import "testing"

func TestCheckProfile(t *testing.T) {
	dev := DefaultPolicy()
	dev.Name = "dev"
	dev.Mounts.AllowExec = true
	_, d, err := runRule(t, checkProfile, minimalSpec(), dev, HostFacts{})
	wantOutcome(t, d, err, Relaxed, "")
	if d[0].Detail != "profile dev: mounts.allow_exec" || d[0].Before != "false" || d[0].After != "true" {
		t.Errorf("decision %+v", d[0])
	}
	_, d, err = runRule(t, checkProfile, minimalSpec(), DefaultPolicy(), HostFacts{})
	wantOutcome(t, d, err, Kept, "")
}

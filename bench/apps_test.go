package main

import "testing"

// TestPairedPerf: the application table's paired ratio is a performance ratio (rates
// divided, times inverted), of yoroi (first) to the peer named, each round against the
// same round, failed runs (0) left out.
func TestPairedPerf(t *testing.T) {
	rts := []runtimeCmd{{label: "yoroi (full hardening)"}, {label: "runc 1.5.3"}, {label: "runc 1.5.3 + Docker's seccomp profile"}, {label: "crun 1.8.1 (Debian)"}}
	if got := peerIndex(rts, "runc "); got != 1 {
		t.Errorf("runc at %d, want 1", got)
	}
	if got := peerIndex(rts, "runc + "); got != 2 {
		t.Errorf("runc with Docker's profile at %d, want 2", got)
	}
	if got := peerIndex(rts, "runsc "); got != -1 {
		t.Errorf("runsc at %d, want -1", got)
	}
	// Rates: yoroi 0.9 of runc in every round, the machine slower in the later rounds.
	rates := [][]float64{{90, 90, 45, 45, 0}, {100, 100, 50, 50, 100}}
	if got := pairedPerf(true, rates, 1); got != "0.90× (0.90–0.90)" {
		t.Errorf("rates: %s", got)
	}
	// Times: yoroi takes 1.25 of runc's time in every round, so its performance is 0.80.
	times := [][]float64{{12.5, 25, 12.5}, {10, 20, 10}}
	if got := pairedPerf(false, times, 1); got != "0.80× (0.80–0.80)" {
		t.Errorf("times: %s", got)
	}
	if got := pairedPerf(false, times, -1); got != "–" {
		t.Errorf("no peer: %s", got)
	}
	if got := pairedPerf(true, [][]float64{{0, 0}, {1, 1}}, 1); got != "–" {
		t.Errorf("no round on both sides: %s", got)
	}
}

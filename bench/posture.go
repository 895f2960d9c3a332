package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// postureCost: what the posture check (runtime/posture.go) costs each start, from the
// durations yoroi recorded in this run's audit log, against yoroi's median start.
func (b *bench) postureCost() {
	f, err := os.Open(filepath.Join(b.work, "audit.jsonl"))
	if err != nil {
		b.fail(err)
		b.printf("## 7. Posture check\n\nerror: %v\n\n", err)
		return
	}
	defer f.Close()
	var checked []time.Duration
	exited := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev struct{ Event, Detail, Error string }
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Event != "posture" {
			continue
		}
		us, ok := strings.CutPrefix(ev.Detail, "checked in ")
		if !ok {
			exited++
			continue
		}
		if d, err := time.ParseDuration(strings.ReplaceAll(us, " µs", "us")); err == nil {
			checked = append(checked, d)
		}
	}
	b.printf("## 7. Posture check after each start\n\n")
	if len(checked) == 0 {
		b.printf("no checked start in this run (%d processes exited before their check)\n\n", exited)
		return
	}
	slices.Sort(checked)
	med := checked[len(checked)/2]
	start := b.results[fullHardening].median
	b.printf("| checks | median | p90 | max | share of yoroi's median start | exited before the check |\n|---|---|---|---|---|---|\n")
	b.printf("| %d | %s | %s | %s | %s | %d |\n\n", len(checked), ms(med), ms(checked[len(checked)*9/10]), ms(checked[len(checked)-1]), ratio(med, start), exited)
}

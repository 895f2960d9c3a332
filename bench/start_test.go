package main

import (
	"errors"
	"syscall"
	"testing"
	"time"
)

// TestInterleaveBursts checks the order of interleave's runs: every round runs each
// measure lead+1 times in a row, starting at a different measure each round, and keeps
// only the last run of each burst, so that every measured run follows a run of its own
// measure (never the previous measure in the cycle, as a plain rotation has it).
func TestInterleaveBursts(t *testing.T) {
	for _, lead := range []int{0, 1, 2} {
		b := &bench{o: options{warmup: 1, n: 4}}
		const k = 3
		var order []int
		calls := make([]int, k)
		st := b.interleave(k, 0, lead, func(i int) (time.Duration, *syscall.Rusage, error) {
			order = append(order, i)
			calls[i]++
			// Each run of measure i lasts as long as its place in the burst: only the
			// last of a burst may be what the median sees.
			return time.Duration(calls[i]%(lead+1)+1) * time.Millisecond, &syscall.Rusage{}, nil
		})
		rounds := b.o.warmup + b.o.n
		if len(order) != rounds*k*(lead+1) {
			t.Fatalf("lead %d: %d runs, want %d", lead, len(order), rounds*k*(lead+1))
		}
		for round := range rounds {
			for j := range k {
				want := (j + round) % k
				for r := range lead + 1 {
					if got := order[(round*k+j)*(lead+1)+r]; got != want {
						t.Fatalf("lead %d: round %d, place %d, run %d is measure %d, want %d (order %v)", lead, round, j, r, got, want, order)
					}
				}
			}
		}
		for i, s := range st {
			if s.median != time.Millisecond || s.failures != 0 {
				t.Errorf("lead %d: measure %d: median %v, %d failures; want the burst's last run (1ms), none", lead, i, s.median, s.failures)
			}
		}
	}
}

// TestInterleaveLeadFailure checks that a failed lead run counts as the round's failure
// of its measure, and that the measure is not run on in that round.
func TestInterleaveLeadFailure(t *testing.T) {
	b := &bench{o: options{warmup: 0, n: 2}}
	runs := 0
	st := b.interleave(1, 0, 1, func(int) (time.Duration, *syscall.Rusage, error) {
		runs++
		if runs == 1 {
			return 0, nil, errors.New("lead run failed")
		}
		return time.Millisecond, &syscall.Rusage{}, nil
	})
	if runs != 3 || st[0].failures != 1 || b.failures != 1 || st[0].median != time.Millisecond {
		t.Fatalf("%d runs, %d failures (bench %d), median %v; want 3 runs, 1 failure, 1ms", runs, st[0].failures, b.failures, st[0].median)
	}
}

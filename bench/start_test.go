package main

import (
	"errors"
	"slices"
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

// TestPairedRatio: the ratio is taken round by round, so a drift that slows both measures
// alike in some rounds leaves it alone, where the ratio of the medians moves; failed
// rounds (0) are left out; the interval holds the median and is tight when every round
// agrees.
func TestPairedRatio(t *testing.T) {
	ms := func(xs ...float64) []time.Duration {
		out := make([]time.Duration, len(xs))
		for i, x := range xs {
			out[i] = time.Duration(x * float64(time.Millisecond))
		}
		return out
	}
	// a is 0.9 of b in every round; the machine was twice as slow in rounds 3-5.
	a := ms(9, 9, 18, 18, 18, 9, 9)
	b := ms(10, 10, 20, 20, 20, 10, 10)
	med, lo, hi, ok := pairedRatio(a, b)
	if !ok || med != 0.9 || lo != 0.9 || hi != 0.9 {
		t.Errorf("steady 0.9: %v (%v–%v) %v", med, lo, hi, ok)
	}
	// With a failed round on each side, those rounds drop out.
	med, _, _, ok = pairedRatio(ms(0, 8, 8, 8), ms(10, 10, 0, 10))
	if !ok || med != 0.8 {
		t.Errorf("with failures: %v %v, want 0.8", med, ok)
	}
	if _, _, _, ok := pairedRatio(ms(0, 5), ms(5, 0)); ok {
		t.Error("no round with both runs: ok")
	}
	// Scattered ratios: the interval holds the median and lies within the ratios seen.
	a = ms(8, 9, 10, 11, 12, 9, 10, 11, 10, 10)
	b = ms(10, 10, 10, 10, 10, 10, 10, 10, 10, 10)
	med, lo, hi, _ = pairedRatio(a, b)
	if med < lo || med > hi || lo < 0.8 || hi > 1.2 || lo == hi {
		t.Errorf("scattered: %v (%v–%v)", med, lo, hi)
	}
	if again, lo2, hi2, _ := pairedRatio(a, b); again != med || lo2 != lo || hi2 != hi {
		t.Error("not reproducible from the same runs")
	}
}

// TestInterleaveRounds: each measure's runs are kept in round order, a failed run as 0,
// so that rounds pair up across measures.
func TestInterleaveRounds(t *testing.T) {
	b := &bench{o: options{warmup: 1, n: 3}}
	calls := 0
	st := b.interleave(2, 0, 0, func(i int) (time.Duration, *syscall.Rusage, error) {
		calls++
		if i == 1 && calls == 6 { // round 2: measure 0, then measure 1, which fails
			return 0, nil, errors.New("failed")
		}
		return time.Duration(calls) * time.Millisecond, &syscall.Rusage{}, nil
	})
	// Round 0 is the warm-up (calls 1-2); rounds 1-3 run 1,0 | 0,1 | 1,0 ... by rotation.
	want0 := []time.Duration{4 * time.Millisecond, 5 * time.Millisecond, 8 * time.Millisecond}
	want1 := []time.Duration{3 * time.Millisecond, 0, 7 * time.Millisecond}
	if !slices.Equal(st[0].rounds, want0) || !slices.Equal(st[1].rounds, want1) {
		t.Fatalf("rounds %v and %v, want %v and %v", st[0].rounds, st[1].rounds, want0, want1)
	}
}

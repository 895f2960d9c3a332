package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// pairedRatio compares two measures run interleaved: the median over the rounds of a's
// run over b's run in the same round (rounds where either failed are left out), and a
// 95 % interval for it from resampling the rounds (a bootstrap, seeded, so that a report
// is reproducible from its runs). The runs of one round share the machine's state of that
// moment, so each round's ratio leaves out the drift between rounds that the ratio of
// the two medians still carries; the interval says how far the rounds let the ratio be
// trusted.
func pairedRatio[T time.Duration | float64](a, b []T) (med, lo, hi float64, ok bool) {
	var ratios []float64
	for i := range min(len(a), len(b)) {
		if a[i] > 0 && b[i] > 0 {
			ratios = append(ratios, float64(a[i])/float64(b[i]))
		}
	}
	if len(ratios) == 0 {
		return 0, 0, 0, false
	}
	const resamples = 2000
	rng := rand.New(rand.NewPCG(22, uint64(len(ratios))))
	meds := make([]float64, resamples)
	sample := make([]float64, len(ratios))
	for r := range meds {
		for i := range sample {
			sample[i] = ratios[rng.IntN(len(ratios))]
		}
		meds[r] = median(sample)
	}
	slices.Sort(meds)
	return median(ratios), meds[resamples*25/1000], meds[resamples*975/1000-1], true
}

// pairedCell is pairedRatio of a over b for a table: "0.91× (0.87–0.95)", or "–".
func pairedCell(a, b stats) string {
	return pairedText(pairedRatio(a.rounds, b.rounds))
}

// pairedText writes a pairedRatio for a table: "0.91× (0.87–0.95)", or "–".
func pairedText(med, lo, hi float64, ok bool) string {
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.2f× (%.2f–%.2f)", med, lo, hi)
}

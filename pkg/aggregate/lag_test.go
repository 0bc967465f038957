package aggregate

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestLagCountsMatchAMap checks the rows against the plainest model, a map
// of (minute, lag) counts: lags arriving in every order, rows grown down and
// up, lags beyond a row's span, and merges of counts from files delivered
// far apart.
func TestLagCountsMatchAMap(t *testing.T) {
	type key struct{ m, lag int64 }
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 3))
		var parts [3]lagCounts
		want := map[key]float64{}
		for p := range parts {
			// Each part is a file: one delivery, a base lag per minute
			// that the minute's records stay within, and a few strays.
			delivered := rng.Int64N(5000)
			for range 1 + rng.IntN(3000) {
				m := rng.Int64N(20)
				lag := max(0, delivered-60*m-rng.Int64N(61))
				if rng.IntN(50) == 0 {
					lag = rng.Int64N(10 * maxRowSpan)
				}
				k := float64(1 + rng.IntN(2))
				parts[p].add(m, lag, k)
				want[key{m, lag}] += k
			}
		}
		got := parts[0]
		got.merge(&parts[1])
		got.merge(&parts[2])

		have := map[key]float64{}
		if !slices.Equal(got.minutes(), slices.Sorted(maps.Keys(got.rows))) {
			t.Fatalf("seed %d: minutes out of order", seed)
		}
		for _, m := range got.minutes() {
			n, prev := 0, int64(-1)
			got.each(m, func(lag int64, k float64) bool {
				if lag <= prev {
					t.Fatalf("seed %d: minute %d: lag %d after %d", seed, m, lag, prev)
				}
				prev = lag
				have[key{m, lag}] = k
				n++
				return true
			})
			if c := got.count(m); c != n {
				t.Fatalf("seed %d: minute %d: count %d, each gave %d", seed, m, c, n)
			}
			if r := got.rows[m]; len(r.n) > maxRowSpan {
				t.Fatalf("seed %d: minute %d: a row of %d lags", seed, m, len(r.n))
			}
		}
		if !maps.Equal(have, want) {
			t.Fatalf("seed %d: %d counts, want %d", seed, len(have), len(want))
		}
	}
}

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
// far apart; every other seed spreads the records over many minutes, so
// that rows stay short lists, or become dense only when merged.
func TestLagCountsMatchAMap(t *testing.T) {
	type key struct{ m, lag int64 }
	lists, dense := 0, 0
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 3))
		minutes := []int64{20, 1500}[seed%2]
		var parts [3]lagCounts
		want := map[key]float64{}
		for p := range parts {
			// Each part is a file: one delivery, a base lag per minute
			// that the minute's records stay within, and a few strays.
			delivered := rng.Int64N(5000)
			for range 1 + rng.IntN(3000) {
				m := rng.Int64N(minutes)
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
		for _, r := range got.rows {
			if r.n == nil {
				lists++
			} else {
				dense++
			}
		}
		if !maps.Equal(have, want) {
			t.Fatalf("seed %d: %d counts, want %d", seed, len(have), len(want))
		}
	}
	if lists == 0 || dense == 0 {
		t.Fatalf("%d rows ended as lists, %d dense: want both kinds", lists, dense)
	}
}

// TestLagRowBecomesDenseWithinItsSpan: a list whose lags lie exactly
// maxRowSpan apart becomes a row no wider than maxRowSpan, the outlier
// counted in far.
func TestLagRowBecomesDenseWithinItsSpan(t *testing.T) {
	var l lagCounts
	lags := []int64{0, maxRowSpan, 1, 2, 3, 4, 5, 6, 7}
	for _, lag := range lags {
		l.add(0, lag, 1)
	}
	r := l.rows[0]
	if r.n == nil || len(r.n) > maxRowSpan {
		t.Fatalf("a row of %d lags after %d distinct ones (list %d), want dense and at most %d", len(r.n), len(lags), len(r.few), maxRowSpan)
	}
	var got []int64
	l.each(0, func(lag int64, k float64) bool { got = append(got, lag); return k == 1 })
	if !slices.Equal(got, slices.Sorted(slices.Values(lags))) {
		t.Fatalf("each gave %v, want %v", got, lags)
	}
}

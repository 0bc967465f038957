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
	// Within the span, the row covers the listed lags exactly, whatever
	// order they came in.
	var near lagCounts
	for _, lag := range []int64{3004, 3000, 3001, 3002, 3003, 3005, 3006, 3007, 3012} {
		near.add(0, lag, 1)
	}
	if r := near.rows[0]; r.lo != 3000 || len(r.n) != 13 || len(r.far) != 0 {
		t.Fatalf("a row of lags 3000 to 3012: lo %d, %d wide, %d in far; want 3000, 13, none", r.lo, len(r.n), len(r.far))
	}
}

// TestLagRowGrowsByDoubling: a dense row receiving a minute's lags one at
// a time, upward or downward, doubles toward them (few reallocations, not
// one per lag), keeps every lag within maxRowSpan in the row (none in far)
// and grows no wider than maxRowSpan.
func TestLagRowGrowsByDoubling(t *testing.T) {
	for _, step := range []int64{1, -1} {
		var l lagCounts
		sizes := map[int]bool{}
		for i := range int64(maxRowSpan) {
			l.add(0, 5000+step*i, 1)
			if r := l.rows[0]; r.n != nil {
				sizes[len(r.n)] = true
			}
		}
		r := l.rows[0]
		if len(r.far) != 0 || len(r.n) != maxRowSpan {
			t.Errorf("step %d: %d lags in far, a row of %d: want none and %d", step, len(r.far), len(r.n), maxRowSpan)
		}
		if len(sizes) > 12 {
			t.Errorf("step %d: the row took %d sizes for %d lags: it does not double", step, len(sizes), maxRowSpan)
		}
	}
}

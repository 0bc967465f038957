package aggregate

import (
	"cmp"
	"maps"
	"slices"
)

// lagCounts counts records by (minute, delivery lag in whole seconds): the
// DeliveryLagSeconds distribution.
//
// A file delivered at D gives the records of minute m lags within one
// 61-second range (D-60m-60 to D-60m), so a minute's counts are kept in a
// short row indexed by lag rather than a map entry per (minute, lag): in a
// file whose records span hours nearly every record has a lag of its own,
// and a map insert per record was the aggregator's largest cost.
type lagCounts struct {
	rows map[int64]*lagRow
	// The row counted last, and its minute: a trail file's records come
	// mostly in time order, so most records skip the map.
	m   int64
	row *lagRow
}

// maxRowSpan bounds the lags one row covers. Files delivered far apart and
// merged (a directory scan) can give one minute lags hours apart: those
// beyond the row are counted in its far map.
const maxRowSpan = 1024

// maxFew is how many lags a row lists before it becomes dense. A file
// whose records span a month has two or three records a minute: a dense
// row per minute, as wide as its lags lie apart, would cost a month of
// minutes hundreds of bytes each.
const maxFew = 8

type lagRow struct {
	// few lists the row's lags, in no order, while it has at most maxFew;
	// then n counts them, nil until then.
	few []lagCount
	lo  int64     // the lag n[0] counts
	n   []float64 // counts of the lags lo, lo+1, ...; 0 where none
	far map[int64]float64
}

type lagCount struct {
	lag int64
	k   float64
}

func (l *lagCounts) empty() bool { return len(l.rows) == 0 }

// add counts k records of minute m with the given lag.
func (l *lagCounts) add(m, lag int64, k float64) {
	r := l.row
	if r == nil || l.m != m {
		if r = l.rows[m]; r == nil {
			if l.rows == nil {
				l.rows = make(map[int64]*lagRow)
			}
			r = &lagRow{}
			l.rows[m] = r
		}
		l.m, l.row = m, r
	}
	r.add(lag, k)
}

func (r *lagRow) add(lag int64, k float64) {
	if r.n == nil {
		r.addFew(lag, k)
		return
	}
	if i := lag - r.lo; i >= 0 && i < int64(len(r.n)) {
		r.n[i] += k
		return
	}
	r.grow(lag, k)
}

// addFew counts a lag in the list, or makes the row dense once the list
// is full: n then spans the listed lags (up to maxRowSpan; grow counts
// the rest).
func (r *lagRow) addFew(lag int64, k float64) {
	for i := range r.few {
		if r.few[i].lag == lag {
			r.few[i].k += k
			return
		}
	}
	if len(r.few) < maxFew {
		r.few = append(r.few, lagCount{lag, k})
		return
	}
	few := append(r.few, lagCount{lag, k})
	r.few = nil
	lo, hi := lag, lag
	for _, c := range few {
		lo, hi = min(lo, c.lag), max(hi, c.lag)
	}
	if hi-lo >= maxRowSpan {
		lo, hi = lag, lag
	}
	r.lo, r.n = lo, make([]float64, hi-lo+1)
	for _, c := range few {
		r.add(c.lag, c.k)
	}
}

// grow counts a lag outside the row: it widens the row to cover it,
// doubling toward it so that a minute's records, arriving one lag at a
// time, reallocate the row a few times rather than once each; or, beyond
// maxRowSpan, counts it in far.
func (r *lagRow) grow(lag int64, k float64) {
	lo, hi := r.lo, r.lo+int64(len(r.n))
	span := int64(len(r.n))
	switch {
	case lag < lo:
		lo = max(min(lag, lo-span), hi-maxRowSpan)
	default:
		hi = min(max(lag+1, hi+span), lo+maxRowSpan)
	}
	if lag < lo || lag >= hi {
		if r.far == nil {
			r.far = make(map[int64]float64)
		}
		r.far[lag] += k
		return
	}
	n := make([]float64, hi-lo)
	copy(n[r.lo-lo:], r.n)
	r.lo, r.n = lo, n
	r.n[lag-lo] += k
}

// merge adds the counts of b.
func (l *lagCounts) merge(b *lagCounts) {
	for m, r := range b.rows {
		for _, c := range r.few {
			l.add(m, c.lag, c.k)
		}
		for i, k := range r.n {
			if k != 0 {
				l.add(m, r.lo+int64(i), k)
			}
		}
		for lag, k := range r.far {
			l.add(m, lag, k)
		}
	}
}

// minutes returns the minutes counted, in order.
func (l *lagCounts) minutes() []int64 { return slices.Sorted(maps.Keys(l.rows)) }

// each calls f with the lags of minute m in ascending order and their
// counts.
func (l *lagCounts) each(m int64, f func(lag int64, k float64) bool) bool {
	r := l.rows[m]
	if r.n == nil {
		few := slices.SortedFunc(slices.Values(r.few), func(a, b lagCount) int { return cmp.Compare(a.lag, b.lag) })
		for _, c := range few {
			if !f(c.lag, c.k) {
				return false
			}
		}
		return true
	}
	far := slices.Sorted(maps.Keys(r.far))
	for i, k := range r.n {
		lag := r.lo + int64(i)
		for len(far) > 0 && far[0] < lag {
			if !f(far[0], r.far[far[0]]) {
				return false
			}
			far = far[1:]
		}
		if k != 0 && !f(lag, k) {
			return false
		}
	}
	for _, lag := range far {
		if !f(lag, r.far[lag]) {
			return false
		}
	}
	return true
}

// count returns how many distinct lags minute m has.
func (l *lagCounts) count(m int64) int {
	r := l.rows[m]
	n := len(r.few) + len(r.far)
	for _, k := range r.n {
		if k != 0 {
			n++
		}
	}
	return n
}

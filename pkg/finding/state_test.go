package finding

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cognitrail/cognitrail/pkg/record"
)

const guestPool = "us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE"

// guestAccess is an UpdateIdentityPool record that restates the pool's
// guest access at hh:mm on 2026-11-22.
func guestAccess(t testing.TB, c *corpus, eventID, hhmm string, on bool) []byte {
	t.Helper()
	return c.record(t, "identity", map[string]any{"eventName": "UpdateIdentityPool",
		"eventTime": "2026-11-22T" + hhmm + ":00Z", "eventID": eventID,
		"requestParameters": map[string]any{"identityPoolId": guestPool, "allowUnauthenticatedIdentities": on}})
}

// file evaluates raws as one trail file and commits it, as the Lambda does
// once the file is published.
func file(t testing.TB, e *Engine, p *record.Parser, raws ...[]byte) []Finding {
	t.Helper()
	e.StartFile()
	var out []Finding
	for _, raw := range raws {
		out = append(out, observe(t, e, p, raw)...)
	}
	if err := e.Err(); err != nil {
		t.Fatal(err)
	}
	if err := e.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOutOfOrderFilesAreJudgedByEventTime is issue 14's case: guest access
// off (F0), off at 04:25 (F2), on at 04:20 (F1, its file processed late),
// on again at 04:50 (F3, a real re-enable after the 04:25 disable). In
// event time there are two enables, F1's and F3's, and both are raised
// whatever order the files come in; last-writer-wins by processing order
// judged F3 against F1's late "true" and stayed quiet.
func TestOutOfOrderFilesAreJudgedByEventTime(t *testing.T) {
	c := loadCorpus(t)
	e := New(&Options{State: NewMemoryState()})
	p := record.NewParser()
	f0 := guestAccess(t, c, "00000000-0000-4000-8000-000000000000", "04:00", false)
	f2 := guestAccess(t, c, "00000000-0000-4000-8000-000000000002", "04:25", false)
	f1 := guestAccess(t, c, "00000000-0000-4000-8000-000000000001", "04:20", true)
	f3 := guestAccess(t, c, "00000000-0000-4000-8000-000000000003", "04:50", true)
	for _, step := range []struct {
		name string
		raw  []byte
		want int
	}{{"F0", f0, 0}, {"F2", f2, 0}, {"F1", f1, 1}, {"F3", f3, 1}} {
		got := file(t, e, p, step.raw)
		if len(got) != step.want {
			t.Fatalf("%s: %d findings %+v, want %d", step.name, len(got), got, step.want)
		}
		for _, f := range got {
			if f.Name != IdentityPoolGuestAccessEnabled || len(f.Settings) != 1 || f.Settings[0].Previous != "false" {
				t.Errorf("%s: %+v, want %s with previous false", step.name, f, IdentityPoolGuestAccessEnabled)
			}
		}
	}
}

// permutations calls f with every order of 0..n-1 (Heap's algorithm).
func permutations(n int, f func([]int)) {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	var gen func(k int)
	gen = func(k int) {
		if k <= 1 {
			f(p)
			return
		}
		for i := range k - 1 {
			gen(k - 1)
			if k%2 == 0 {
				p[i], p[k-1] = p[k-1], p[i]
			} else {
				p[0], p[k-1] = p[k-1], p[0]
			}
		}
		gen(k - 1)
	}
	gen(n)
}

type guestRecord struct {
	e   Entry
	raw []byte
}

// judged is what judging a guest access value against prev must give:
// raised or not, and the previous value the finding names.
func judged(value, prev string, known bool) (bool, string) {
	switch {
	case value != "true":
		return false, ""
	case !known:
		return true, PreviousUnknown
	case prev == value:
		return false, ""
	}
	return true, prev
}

// TestAnyOrderIsJudgedByEventTime processes small sets of records of one
// setting (guest access on or off, event times with ties, random
// eventIDs) in every order, split into files at random, each committed
// before the next. For every order:
//   - the final history is the same: the records sorted by event time,
//     then eventID;
//   - each record is judged against the newest record before it in event
//     time among those processed before it (unknown when there is none),
//     so a record whose event-time predecessor was processed before it, or
//     that has none, gets the finding event-time order gives it;
//   - in event-time order every finding is event-time order's.
//
// What an order cannot know: a record whose predecessor arrives after it
// was judged against an older one, and stays so judged.
func TestAnyOrderIsJudgedByEventTime(t *testing.T) {
	c := loadCorpus(t)
	p := record.NewParser()
	key := "123456789012/identitypool/" + guestPool + "/allowUnauthenticatedIdentities"
	orders, unknowable := 0, 0
	for seed := range 40 {
		rng := rand.New(rand.NewPCG(uint64(seed), 14))
		n := 3 + seed%4 // 3 to 6 records: up to 720 orders
		recs := make([]guestRecord, n)
		for i := range recs {
			on := rng.IntN(2) == 0
			id := fmt.Sprintf("%08x-0000-4000-8000-%012d", rng.Uint32(), i)
			hhmm := fmt.Sprintf("04:0%d", rng.IntN(3))
			raw := guestAccess(t, c, id, hhmm, on)
			at, _ := time.Parse(time.RFC3339, "2026-11-22T"+hhmm+":00Z")
			recs[i] = guestRecord{Entry{Time: at, EventID: id, Value: strconv.FormatBool(on)}, raw}
		}
		sorted := make([]Entry, n)
		for i, r := range recs {
			sorted[i] = r.e
		}
		slices.SortFunc(sorted, compareEntries)
		// truth: each record judged against its event-time predecessor.
		type verdict struct {
			raised bool
			prev   string
		}
		truth := map[string]verdict{}
		for k, e := range sorted {
			var v verdict
			if k == 0 {
				v.raised, v.prev = judged(e.Value, "", false)
			} else {
				v.raised, v.prev = judged(e.Value, sorted[k-1].Value, true)
			}
			truth[e.EventID] = v
		}
		permutations(n, func(order []int) {
			orders++
			e := New(&Options{State: NewMemoryState()})
			st := e.opts.State.(*MemoryState)
			var done []Entry // processed so far, in event-time order
			inOrder := slices.IsSortedFunc(order, func(a, b int) int { return compareEntries(recs[a].e, recs[b].e) })
			for i := 0; i < n; {
				// The next file: 1 to 3 records.
				size := min(1+rng.IntN(3), n-i)
				var raws [][]byte
				for _, j := range order[i : i+size] {
					raws = append(raws, recs[j].raw)
				}
				got := file(t, e, p, raws...)
				for _, j := range order[i : i+size] {
					r := recs[j].e
					prev, known := asOf(done, r)
					wantRaised, wantPrev := judged(r.Value, prev, known)
					var f *Finding
					for k := range got {
						if got[k].EventID == r.EventID {
							f = &got[k]
						}
					}
					if (f != nil) != wantRaised || (f != nil && f.Settings[0].Previous != wantPrev) {
						t.Fatalf("seed %d order %v: record %+v: finding %+v, want raised %v previous %q (judged against the records before it processed earlier: %+v)",
							seed, order, r, f, wantRaised, wantPrev, done)
					}
					if tv := truth[r.EventID]; tv.raised != wantRaised || tv.prev != wantPrev {
						if i := slices.IndexFunc(sorted, func(s Entry) bool { return s.EventID == r.EventID }); i == 0 || slices.Contains(done, sorted[i-1]) {
							t.Fatalf("seed %d order %v: record %+v judged unlike event-time order although its predecessor was known", seed, order, r)
						}
						if inOrder {
							t.Fatalf("seed %d: event-time order judged %+v unlike the truth", seed, r)
						}
						unknowable++
					}
					done, _ = insert(done, r)
				}
				i += size
			}
			if h, _ := st.Get(context.Background(), key); !slices.Equal(h, sorted) {
				t.Fatalf("seed %d order %v: final history %+v, want %+v", seed, order, h, sorted)
			}
		})
	}
	t.Logf("%d orders; %d records judged unlike event-time order because their predecessor came after them", orders, unknowable)
}

// TestMergeIgnoresOrderAndGrouping: a history is a function of the set of
// entries merged into it, whatever the order and grouping of the merges,
// beyond the bound too (up to 20 entries).
func TestMergeIgnoresOrderAndGrouping(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 5))
	base := time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)
	for round := range 1000 {
		n := 1 + rng.IntN(20)
		es := make([]Entry, n)
		for i := range es {
			es[i] = Entry{Time: base.Add(time.Duration(rng.IntN(5)) * time.Minute), EventID: strconv.Itoa(i), Value: strconv.Itoa(rng.IntN(3))}
		}
		want, _ := Merge(nil, es)
		sorted := slices.SortedFunc(slices.Values(es), compareEntries)
		if !slices.Equal(want, sorted[max(0, n-HistoryEntries):]) {
			t.Fatalf("round %d: one merge %+v, want the newest of %+v", round, want, sorted)
		}
		for range 5 {
			rng.Shuffle(n, func(i, j int) { es[i], es[j] = es[j], es[i] })
			var h []Entry
			for i := 0; i < n; {
				size := min(1+rng.IntN(4), n-i)
				h, _ = Merge(h, es[i:i+size])
				i += size
			}
			if !slices.Equal(h, want) {
				t.Fatalf("round %d: merged in another order %+v, want %+v", round, h, want)
			}
			// Merging any of them again changes nothing: a retry that
			// meets its own write.
			if again, changed := Merge(h, es[:1+rng.IntN(n)]); changed || !slices.Equal(again, h) {
				t.Fatalf("round %d: merging again changed %+v to %+v", round, h, again)
			}
		}
	}
}

// TestClipKeepsValuesApart: a long value is kept within MaxValueBytes,
// valid UTF-8, and two long values that differ only at the end stay
// different.
func TestClipKeepsValuesApart(t *testing.T) {
	if clip("true") != "true" {
		t.Fatal("a short value was changed")
	}
	a := strings.Repeat("https://é.example/cb ", 500) + "a"
	b := strings.Repeat("https://é.example/cb ", 500) + "b"
	ca, cb := clip(a), clip(b)
	if len(ca) > MaxValueBytes || !utf8.ValidString(ca) || ca == cb || clip(a) != ca {
		t.Fatalf("clip: %d bytes, valid %v, distinct %v", len(ca), utf8.ValidString(ca), ca != cb)
	}
}

// TestRecordOlderThanTheHistory: once a setting has more newer entries
// than the history keeps, a record older than all of them is judged with
// its previous value unknown (raised once, with previous "unknown", if
// risky) and never moves the newest value back.
func TestRecordOlderThanTheHistory(t *testing.T) {
	c := loadCorpus(t)
	p := record.NewParser()
	st := NewMemoryState()
	e := New(&Options{State: st})
	key := "123456789012/identitypool/" + guestPool + "/allowUnauthenticatedIdentities"
	for i := range HistoryEntries {
		file(t, e, p, guestAccess(t, c, fmt.Sprintf("newer-%d", i), fmt.Sprintf("05:%02d", i), false))
	}
	got := file(t, e, p, guestAccess(t, c, "late", "04:00", true))
	if len(got) != 1 || got[0].Settings[0].Previous != PreviousUnknown {
		t.Fatalf("late record: %+v, want one finding with previous unknown", got)
	}
	h, _ := st.Get(context.Background(), key)
	if n, _ := Newest(h); len(h) != HistoryEntries || n.EventID != fmt.Sprintf("newer-%d", HistoryEntries-1) || n.Value != "false" {
		t.Errorf("history %+v: want the %d newest, the newest still false", h, HistoryEntries)
	}
	// With room in the history it is judged against the entry before it.
	got = file(t, e, p, guestAccess(t, c, "between", "05:03", true))
	if len(got) != 1 || got[0].Settings[0].Previous != "false" {
		t.Fatalf("record between kept entries: %+v, want previous false", got)
	}
	if h, _ := st.Get(context.Background(), key); h[len(h)-1].Value != "false" {
		t.Errorf("an older record moved the newest value: %+v", h)
	}
}

// TestLongValueIsClippedInState: a client's redirect list longer than
// MaxValueBytes is kept clipped; restating it is quiet, changing its last
// URL is raised, and the finding's previous is the clipped form.
func TestLongValueIsClippedInState(t *testing.T) {
	c := loadCorpus(t)
	p := record.NewParser()
	st := NewMemoryState()
	e := New(&Options{State: st})
	urls := func(last string) []any {
		var u []any
		for i := range 60 {
			u = append(u, fmt.Sprintf("https://app.example.com/callback/%04d/with/a/long/path", i))
		}
		return append(u, last)
	}
	update := func(id, at, last string) []byte {
		return c.record(t, "userpool", map[string]any{"eventName": "UpdateUserPoolClient", "eventID": id, "eventTime": at,
			"requestParameters": map[string]any{"userPoolId": "us-east-1_EXAMPLE1", "clientId": "2example34567890", "callbackURLs": urls(last)}})
	}
	if got := file(t, e, p, update("a", "2026-11-22T04:00:00Z", "https://a.example.com/")); len(got) != 1 {
		t.Fatalf("first: %+v, want one finding (previous unknown)", got)
	}
	if got := file(t, e, p, update("b", "2026-11-22T04:10:00Z", "https://a.example.com/")); len(got) != 0 {
		t.Fatalf("restated: %+v, want none", got)
	}
	got := file(t, e, p, update("c", "2026-11-22T04:20:00Z", "https://b.example.com/"))
	if len(got) != 1 {
		t.Fatalf("changed: %+v, want one finding", got)
	}
	s := got[0].Settings[len(got[0].Settings)-1]
	if s.Name != "redirects" || len(s.Previous) > MaxValueBytes || !strings.Contains(s.Previous, "sha256:") {
		t.Errorf("previous %q (%d bytes), want the clipped value", s.Previous, len(s.Previous))
	}
	for _, h := range st.m {
		for _, e := range h {
			if len(e.Value) > MaxValueBytes {
				t.Errorf("state keeps a %d-byte value", len(e.Value))
			}
		}
	}
}

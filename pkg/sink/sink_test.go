package sink

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/metric"
)

func TestBatch(t *testing.T) {
	ds := make([]metric.Datum, 2500)
	one := func(*metric.Datum) int { return 1 }
	b := Batch(ds, 1000, 1<<20, one)
	if len(b) != 3 || len(b[0]) != 1000 || len(b[1]) != 1000 || len(b[2]) != 500 {
		t.Fatalf("batches of %d, %d, %d", len(b[0]), len(b[1]), len(b[2]))
	}
	// By size: 10 per batch.
	b = Batch(ds[:25], 1000, 100, func(*metric.Datum) int { return 10 })
	if len(b) != 3 || len(b[2]) != 5 {
		t.Fatalf("%d batches by size", len(b))
	}
	// An oversized datum alone.
	b = Batch(ds[:3], 1000, 5, func(*metric.Datum) int { return 10 })
	if len(b) != 3 {
		t.Fatalf("%d batches of oversized datums", len(b))
	}
	if len(Batch(nil, 1000, 100, one)) != 0 {
		t.Fatal("batches of nothing")
	}
	// Appending to a batch must not overwrite the next one.
	b = Batch(ds[:4], 2, 100, one)
	_ = append(b[0], metric.Datum{Name: "x"})
	if b[1][0].Name != "" {
		t.Fatal("batches share capacity")
	}
}

func TestAgeFilter(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	f := AgeFilter{Now: func() time.Time { return now }}
	ds := []metric.Datum{
		{Name: "old", Timestamp: now.Add(-15 * 24 * time.Hour)},
		{Name: "ok", Timestamp: now.Add(-13 * 24 * time.Hour)},
		{Name: "future", Timestamp: now.Add(3 * time.Hour)},
		{Name: "now", Timestamp: now},
	}
	kept, dropped := f.Keep(ds)
	if dropped != 2 || len(kept) != 2 || kept[0].Name != "ok" || kept[1].Name != "now" {
		t.Fatalf("kept %v, dropped %d", kept, dropped)
	}
	if ds[0].Name != "old" {
		t.Fatal("Keep modified its input")
	}
	if kept, dropped := (AgeFilter{MaxAge: -1}).Keep(ds); dropped != 0 || len(kept) != 4 {
		t.Fatal("disabled filter dropped datums")
	}
}

// TestBatchesCutAsBatch: cutting datums as they are produced gives the
// batches cutting them all gives, so that a resumed publish passes over
// exactly the batches published before.
func TestBatchesCutAsBatch(t *testing.T) {
	ds := make([]metric.Datum, 2345)
	for i := range ds {
		ds[i].Name = strconv.Itoa(i)
	}
	size := func(d *metric.Datum) int { return 1 + len(d.Name)*7%13 }
	for _, c := range []struct{ n, maxDatums, maxBytes int }{
		{0, 1000, 100}, {1, 1000, 100}, {2345, 1000, 1 << 20}, {2345, 1000, 500}, {30, 2, 100}, {3, 1000, 1},
	} {
		want := Batch(ds[:c.n], c.maxDatums, c.maxBytes, size)
		got := slices.Collect(Batches(slices.Values(ds[:c.n]), c.maxDatums, c.maxBytes, size))
		if len(got) != len(want) {
			t.Fatalf("%+v: %d batches, want %d", c, len(got), len(want))
		}
		for i := range want {
			if !slices.EqualFunc(got[i], want[i], func(a, b metric.Datum) bool { return a.Name == b.Name }) {
				t.Fatalf("%+v: batch %d differs", c, i)
			}
		}
	}
}

// Oldest is the cut Keep applies: a datum at it is kept, one a nanosecond
// older is not; zero MaxAge means CloudWatch's two weeks, negative no cut.
func TestAgeFilterOldest(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	f := AgeFilter{Now: func() time.Time { return now }}
	cut := f.Oldest(now)
	if want := now.Add(-DefaultMaxAge + time.Minute); !cut.Equal(want) {
		t.Fatalf("Oldest %v, want %v", cut, want)
	}
	kept, dropped := f.Keep([]metric.Datum{{Name: "a", Timestamp: cut}, {Name: "b", Timestamp: cut.Add(-time.Nanosecond)}})
	if len(kept) != 1 || kept[0].Name != "a" || dropped != 1 {
		t.Errorf("kept %v, dropped %d: want the datum at the cut only", kept, dropped)
	}
	if got := (AgeFilter{MaxAge: -1}).Oldest(now); !got.IsZero() {
		t.Errorf("Oldest with no limit %v, want zero", got)
	}
	if got := (AgeFilter{MaxAge: time.Hour}).Oldest(now); !got.Equal(now.Add(-59 * time.Minute)) {
		t.Errorf("Oldest of one hour %v", got)
	}
}

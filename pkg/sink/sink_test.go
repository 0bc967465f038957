package sink

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/metric"
)

// batch collects Batches over ds.
func batch(ds []metric.Datum, maxDatums, maxBytes int, size func(*metric.Datum) int) [][]metric.Datum {
	return slices.Collect(Batches(slices.Values(ds), maxDatums, maxBytes, size))
}

func TestBatches(t *testing.T) {
	ds := make([]metric.Datum, 2500)
	one := func(*metric.Datum) int { return 1 }
	b := batch(ds, 1000, 1<<20, one)
	if len(b) != 3 || len(b[0]) != 1000 || len(b[1]) != 1000 || len(b[2]) != 500 {
		t.Fatalf("%d batches", len(b))
	}
	// By size: 10 per batch.
	b = batch(ds[:25], 1000, 100, func(*metric.Datum) int { return 10 })
	if len(b) != 3 || len(b[2]) != 5 {
		t.Fatalf("%d batches by size", len(b))
	}
	// An oversized datum alone.
	b = batch(ds[:3], 1000, 5, func(*metric.Datum) int { return 10 })
	if len(b) != 3 {
		t.Fatalf("%d batches of oversized datums", len(b))
	}
	if len(batch(nil, 1000, 100, one)) != 0 {
		t.Fatal("batches of nothing")
	}
	// Appending to a batch must not overwrite the next one.
	b = batch(ds[:4], 2, 100, one)
	_ = append(b[0], metric.Datum{Name: "x"})
	if b[1][0].Name != "" {
		t.Fatal("batches share capacity")
	}
	// A consumer that stops early gets no more batches.
	n := 0
	for range Batches(slices.Values(ds), 1000, 1<<20, one) {
		if n++; n == 2 {
			break
		}
	}
	if n != 2 {
		t.Fatalf("%d batches after stopping at 2", n)
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

// TestBatchesAreMaximal: the batches are the input in order, each within
// the limits (a datum over maxBytes alone), and each as full as the limits
// allow (the next datum would break one), so that the cut depends on the
// datums only and a resumed publish passes over exactly the batches
// published before.
func TestBatchesAreMaximal(t *testing.T) {
	ds := make([]metric.Datum, 2345)
	for i := range ds {
		ds[i].Name = strconv.Itoa(i)
	}
	size := func(d *metric.Datum) int { return 1 + len(d.Name)*7%13 }
	for _, c := range []struct{ n, maxDatums, maxBytes int }{
		{0, 1000, 100}, {1, 1000, 100}, {2345, 1000, 1 << 20}, {2345, 1000, 500}, {30, 2, 100}, {3, 1000, 1},
	} {
		got := batch(ds[:c.n], c.maxDatums, c.maxBytes, size)
		next := 0
		for i, b := range got {
			bytes := 0
			for _, d := range b {
				if d.Name != ds[next].Name {
					t.Fatalf("%+v: batch %d holds %s, want %s", c, i, d.Name, ds[next].Name)
				}
				next++
				bytes += size(&d)
			}
			if len(b) == 0 || len(b) > c.maxDatums || bytes > c.maxBytes && len(b) > 1 {
				t.Fatalf("%+v: batch %d of %d datums, %d bytes", c, i, len(b), bytes)
			}
			if next < c.n && len(b) < c.maxDatums && bytes+size(&ds[next]) <= c.maxBytes {
				t.Fatalf("%+v: batch %d cut before %s, which fits", c, i, ds[next].Name)
			}
		}
		if next != c.n {
			t.Fatalf("%+v: %d datums in the batches, want %d", c, next, c.n)
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

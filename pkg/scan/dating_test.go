package scan_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/scan"
)

// Without a delivery time, a file's outcome and unusable records are dated
// by its newest record, not by the clock; a file with no record by the
// clock, and when the clock says zero, by the caller (Result.Undated).
func TestUndeliveredFileIsDatedByItsRecords(t *testing.T) {
	const rec = `{"eventTime":"2026-11-20T10:%02d:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject"}`
	file := `{"Records":[` + strings.Replace(rec, "%02d", "05", 1) + `,{"x":1},` + strings.Replace(rec, "%02d", "42", 1) + `]}`
	wall := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	dates := func(agg *aggregate.Aggregator) map[string]time.Time {
		m := map[string]time.Time{}
		for _, d := range slices.Collect(agg.All()) {
			switch d.Name {
			case metric.FilesProcessed, metric.RecordsInvalid:
				m[d.Name] = d.Timestamp
			}
		}
		return m
	}
	agg := aggregate.New(nil)
	res, err := scan.File(context.Background(), strings.NewReader(file), agg, &scan.Options{Now: func() time.Time { return wall }})
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 11, 20, 10, 42, 0, 0, time.UTC)
	if !res.Newest.Equal(want) || res.Undated {
		t.Errorf("newest %v undated %v, want %v, false", res.Newest, res.Undated, want)
	}
	for n, at := range dates(agg) {
		if !at.Equal(want) {
			t.Errorf("%s dated %v, want %v", n, at, want)
		}
	}
	if len(dates(agg)) != 2 {
		t.Errorf("datums %v, want FilesProcessed and RecordsInvalid", dates(agg))
	}

	// No record: the clock; a zero clock leaves it to the caller.
	agg = aggregate.New(nil)
	if _, err := scan.File(context.Background(), strings.NewReader(`{"Records":[{"x":1}]}`), agg, &scan.Options{Now: func() time.Time { return wall }}); err != nil {
		t.Fatal(err)
	}
	if d := dates(agg); !d[metric.FilesProcessed].Equal(wall) || !d[metric.RecordsInvalid].Equal(wall) {
		t.Errorf("no record: dated %v, want %v", d, wall)
	}
	agg = aggregate.New(nil)
	res, err = scan.File(context.Background(), strings.NewReader(`{"Records":[{"x":1}]}`), agg, &scan.Options{Now: func() time.Time { return time.Time{} }})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Undated || res.Invalid != 1 || len(dates(agg)) != 0 {
		t.Errorf("zero clock: undated %v invalid %d datums %v; want true, 1, none", res.Undated, res.Invalid, dates(agg))
	}
}

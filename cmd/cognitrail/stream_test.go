package main

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/metric"
)

// TestDatumsJSONStreamedAsEncoded: `scan --format json` writes datums one at
// a time, byte for byte what encoding the whole slice gave (the output
// contract, and the golden files, stay as they were).
func TestDatumsJSONStreamedAsEncoded(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	all := []metric.Datum{
		{Name: metric.RecordsRead, Timestamp: at, Unit: metric.Count, Values: []float64{1}, Counts: []float64{3}},
		{Name: metric.Events, Dimensions: []metric.Dimension{{Name: metric.DimCategory, Value: "<Other & more>"}}, Timestamp: at, Unit: metric.Count, Values: []float64{1}, Counts: []float64{2}},
		{Name: metric.DeliveryLagSeconds, Timestamp: at, Unit: metric.Seconds, Values: []float64{5, 61}, Counts: []float64{1, 4}},
	}
	for n := range len(all) + 1 {
		datums := all[:n]
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(append([]metric.Datum{}, datums...)); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := writeDatumsJSON(&got, slices.Values(datums)); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%d datums:\n got %q\nwant %q", n, got.String(), want.String())
		}
	}
}

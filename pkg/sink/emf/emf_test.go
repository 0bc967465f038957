package emf

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/sink"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func testDatums() []metric.Datum {
	m1, m2 := now.Add(-2*time.Minute), now.Add(-time.Minute)
	cat := func(v string) []metric.Dimension { return []metric.Dimension{{Name: metric.DimCategory, Value: v}} }
	ds := []metric.Datum{
		{Name: metric.Events, Dimensions: cat("user-pool-api"), Timestamp: m1, Unit: metric.Count, Values: []float64{1}, Counts: []float64{42}},
		{Name: metric.Errors, Dimensions: cat("user-pool-api"), Timestamp: m1, Unit: metric.Count, Values: []float64{1}, Counts: []float64{3}},
		{Name: metric.Events, Dimensions: cat("hosted-ui"), Timestamp: m1, Unit: metric.Count, Values: []float64{1}, Counts: []float64{7}},
		{Name: metric.Events, Dimensions: cat("user-pool-api"), Timestamp: m2, Unit: metric.Count, Values: []float64{1}, Counts: []float64{5}},
		{Name: metric.RecordsRead, Timestamp: m1, Unit: metric.Count, Values: []float64{1}, Counts: []float64{1000}},
		{Name: metric.FilesProcessed, Timestamp: m1, Unit: metric.Count, Values: []float64{1}, Counts: []float64{1}},
		// 250 observations: three lines of at most 100 values.
		{Name: metric.DeliveryLagSeconds, Timestamp: m1, Unit: metric.Seconds, Values: []float64{120, 300, 301}, Counts: []float64{200, 49, 1}},
		// The same series again (a lag datum split by value range): a new line.
		{Name: metric.DeliveryLagSeconds, Timestamp: m1, Unit: metric.Seconds, Values: []float64{900}, Counts: []float64{2}},
	}
	return ds
}

// emfLine is the structure the EMF specification requires.
type emfLine struct {
	AWS struct {
		Timestamp         *int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct {
				Name string `json:"Name"`
				Unit string `json:"Unit"`
			} `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	} `json:"_aws"`
}

type series struct {
	name, dims string
	ts         int64
}

func TestValidEMFAndSums(t *testing.T) {
	var out bytes.Buffer
	w := New(&out, &Options{Namespace: "Test", Age: sink.AgeFilter{Now: func() time.Time { return now }}})
	ds := testDatums()
	var st sink.Stats
	for b := range w.Batches(slices.Values(ds)) {
		s, err := w.Publish(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		st.Add(s)
	}
	if st.Sent != len(ds) || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
	sums := map[series]float64{}
	samples := map[series]float64{}
	lines := 0
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		lines++
		raw := sc.Bytes()
		var l emfLine
		if err := json.Unmarshal(raw, &l); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", lines, err, raw)
		}
		var root map[string]json.RawMessage
		_ = json.Unmarshal(raw, &root)
		if l.AWS.Timestamp == nil || len(l.AWS.CloudWatchMetrics) != 1 {
			t.Fatalf("line %d: bad _aws: %s", lines, raw)
		}
		d := l.AWS.CloudWatchMetrics[0]
		if d.Namespace != "Test" || len(d.Dimensions) != 1 || len(d.Metrics) == 0 || len(d.Metrics) > MaxMetricsPerLine {
			t.Fatalf("line %d: bad directive: %s", lines, raw)
		}
		var dims []string
		for _, k := range d.Dimensions[0] {
			var v string
			if err := json.Unmarshal(root[k], &v); err != nil {
				t.Fatalf("line %d: dimension %q has no string value", lines, k)
			}
			dims = append(dims, k+"="+v)
		}
		for _, m := range d.Metrics {
			if m.Unit != "Count" && m.Unit != "Seconds" {
				t.Errorf("line %d: unit %q", lines, m.Unit)
			}
			var vals []float64
			if err := json.Unmarshal(root[m.Name], &vals); err != nil {
				var v float64
				if err := json.Unmarshal(root[m.Name], &v); err != nil {
					t.Fatalf("line %d: metric %q has no numeric value", lines, m.Name)
				}
				vals = []float64{v}
			}
			if len(vals) > MaxValuesPerMetric {
				t.Errorf("line %d: %d values for %s", lines, len(vals), m.Name)
			}
			k := series{m.Name, strings.Join(dims, ","), *l.AWS.Timestamp}
			for _, v := range vals {
				sums[k] += v
				samples[k]++
			}
		}
	}
	want := map[series]float64{}
	wantSamples := map[series]float64{}
	for _, d := range ds {
		var dims []string
		for _, dim := range d.Dimensions {
			dims = append(dims, dim.Name+"="+dim.Value)
		}
		k := series{d.Name, strings.Join(dims, ","), d.Timestamp.UnixMilli()}
		want[k] += d.Sum()
		if d.Unit != metric.Count {
			wantSamples[k] += d.SampleCount()
		}
	}
	if fmt.Sprint(sums) != fmt.Sprint(want) {
		t.Errorf("sums\n got %v\nwant %v", sums, want)
	}
	for k, n := range wantSamples {
		if samples[k] != n {
			t.Errorf("%v: %v samples, want %v", k, samples[k], n)
		}
	}
	if st.Requests != lines {
		t.Errorf("%d lines counted, %d written", st.Requests, lines)
	}
	// Events, Errors (user-pool-api, m1) share a line; hosted-ui, m2, the
	// dimensionless RecordsRead+FilesProcessed+first lag chunk, 2 more lag
	// chunks, and the second lag datum: 7 lines.
	if lines != 7 {
		t.Errorf("%d lines, want 7:\n%s", lines, out.String())
	}
}

func TestLagSumExact(t *testing.T) {
	d := metric.Datum{Name: metric.DeliveryLagSeconds, Unit: metric.Seconds, Timestamp: now, Values: []float64{1.5, 2}, Counts: []float64{3, 101}}
	var sum, n float64
	for _, l := range Lines("NS", []metric.Datum{d}) {
		for _, m := range l.Metrics {
			for _, v := range m.Values {
				sum += v
				n++
			}
		}
	}
	if math.Abs(sum-d.Sum()) > 1e-9 || n != d.SampleCount() {
		t.Fatalf("sum %v n %v, want %v %v", sum, n, d.Sum(), d.SampleCount())
	}
}

func TestOldDatumsDropped(t *testing.T) {
	var out bytes.Buffer
	w := New(&out, &Options{Age: sink.AgeFilter{Now: func() time.Time { return now }}})
	ds := testDatums()
	ds[0].Timestamp = now.Add(-30 * 24 * time.Hour)
	st, err := w.Publish(context.Background(), ds)
	if err != nil || st.Dropped != 1 || st.Sent != len(ds)-1 {
		t.Fatalf("stats %+v, err %v", st, err)
	}
	if !strings.Contains(out.String(), `"Namespace":"CognitoTrail"`) {
		t.Fatal("default namespace not used")
	}
}

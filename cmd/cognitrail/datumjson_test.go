package main

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/metric"
)

// datumCases drive TestDatumJSONIsMarshalIndent and seed FuzzDatumJSON:
// the shapes and values where a hand-written encoder could part from
// encoding/json.
var datumCases = []metric.Datum{
	{Name: "DeliveryLagSeconds", Timestamp: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), Unit: metric.Seconds,
		Values: []float64{54241, 54242}, Counts: []float64{1, 3}},
	{Name: "SignInFailures", Dimensions: []metric.Dimension{{Name: "Operation", Value: "InitiateAuth"}, {Name: "UserPoolId", Value: "us-east-1_EXAMPLE1"}},
		Timestamp: time.Date(2026, 11, 20, 10, 5, 0, 0, time.UTC), Unit: metric.Count, Values: []float64{1}, Counts: []float64{12}},
	// Empty and absent slices, an empty dimension list.
	{Name: "x", Dimensions: []metric.Dimension{}, Unit: metric.Count, Values: []float64{}, Counts: nil},
	// Strings encoding/json escapes: quotes, HTML, control, non-ASCII, invalid UTF-8, U+2028.
	{Name: `a"b\c<d>&e`, Dimensions: []metric.Dimension{{Name: "k\n", Value: "vé\xff\u2028"}}, Unit: metric.Unit("\x01"),
		Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 600700800, time.FixedZone("x", 3600)), Values: []float64{0.5}, Counts: []float64{2}},
	// Floats at every edge of the 'f' and 'e' forms, and a negative zero.
	{Name: "f", Unit: metric.Count, Values: []float64{1e-6, 9.99e-7, 1e20, 1e21, 123456789012345678, -1e-9, math.Copysign(0, -1), 0.1 + 0.2, math.MaxFloat64, math.SmallestNonzeroFloat64},
		Counts: []float64{1e-7, -3, 2.5e-10, 1e100, 5}},
	// Whole numbers on both sides of 2^53, where AppendInt's digits stop
	// being the float's shortest form.
	{Name: "whole", Unit: metric.Seconds, Values: []float64{1<<53 - 1, 1 << 53, 1<<53 + 2, -(1<<53 - 1), -(1 << 53), 1e15, 1e16, 1e20},
		Counts: []float64{1, -1, 0, 86400, 1 << 60, 1<<60 + 256, 1<<63 - 1024}},
}

func TestDatumJSONIsMarshalIndent(t *testing.T) {
	cases := datumCases
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		d := metric.Datum{Name: randString(rng), Unit: metric.Unit(randString(rng)),
			Timestamp: time.Unix(rng.Int64N(1<<35), rng.Int64N(1e9)).UTC()}
		for range rng.IntN(3) {
			d.Dimensions = append(d.Dimensions, metric.Dimension{Name: randString(rng), Value: randString(rng)})
		}
		for range rng.IntN(4) {
			d.Values = append(d.Values, randFloat(rng))
			d.Counts = append(d.Counts, randFloat(rng))
		}
		cases = append(cases, d)
	}
	for i, d := range cases {
		checkDatumJSON(t, i, d)
	}
	// What the fast path hands back to encoding/json.
	for _, d := range []metric.Datum{
		{Name: "nan", Values: []float64{math.NaN()}},
		{Name: "inf", Counts: []float64{math.Inf(-1)}},
		{Name: "year", Timestamp: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if b, ok := appendDatumJSON([]byte("x"), &d); ok || string(b) != "x" {
			t.Errorf("%s: appended %q, ok %v; want nothing and false", d.Name, b, ok)
		}
	}
}

func checkDatumJSON(t *testing.T, i int, d metric.Datum) {
	t.Helper()
	want, err := json.MarshalIndent(d, "  ", "  ")
	got, ok := appendDatumJSON(nil, &d)
	if err != nil {
		if ok {
			t.Fatalf("case %d: encoding/json fails (%v), the fast path wrote %s", i, err, got)
		}
		return
	}
	if !ok || string(got) != string(want) {
		t.Fatalf("case %d (ok %v):\n got %s\nwant %s", i, ok, got, want)
	}
}

func randString(rng *rand.Rand) string {
	const alphabet = "aZ09_-./:\"\\<>&\n\x7f é\u2028"
	r := []rune(alphabet)
	b := make([]rune, rng.IntN(12))
	for i := range b {
		b[i] = r[rng.IntN(len(r))]
	}
	return string(b)
}

func randFloat(rng *rand.Rand) float64 {
	switch rng.IntN(4) {
	case 0:
		return float64(rng.IntN(100000))
	case 1:
		return rng.Float64() * math.Pow(10, float64(rng.IntN(50)-25))
	case 2:
		return -rng.NormFloat64()
	}
	return math.Float64frombits(rng.Uint64())
}

func FuzzDatumJSON(f *testing.F) {
	for _, d := range datumCases {
		var dn, dv string
		if len(d.Dimensions) > 0 {
			dn, dv = d.Dimensions[0].Name, d.Dimensions[0].Value
		}
		var v, c float64
		if len(d.Values) > 0 {
			v = d.Values[0]
		}
		if len(d.Counts) > 0 {
			c = d.Counts[0]
		}
		f.Add(d.Name, dn, dv, string(d.Unit), d.Timestamp.UnixNano(), v, c)
	}
	f.Fuzz(func(t *testing.T, name, dimName, dimValue, unit string, nanos int64, v, c float64) {
		d := metric.Datum{Name: name, Unit: metric.Unit(unit), Timestamp: time.Unix(0, nanos).UTC(),
			Values: []float64{v}, Counts: []float64{c, v}}
		if dimName != "" {
			d.Dimensions = []metric.Dimension{{Name: dimName, Value: dimValue}}
		}
		checkDatumJSON(t, 0, d)
	})
}

package metric_test

// Tests that pin down behaviours the other tests of this package left open
// (issue 19: each was a mutant of the code that no test noticed).
//
// Judged equivalent (no test can tell them apart):
//   - SanitizeDimensionValue's `break` at MaxDimensionValueLen -> `continue`:
//     the length check comes first in the loop, so the remaining characters
//     are passed over without being appended; only slower.

import (
	"strings"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/metric"
)

func TestCheckNamespace(t *testing.T) {
	for ns, ok := range map[string]bool{
		metric.DefaultNamespace:  true,
		"Custom/Cognito":         true,
		"x":                      true,
		strings.Repeat("n", 255): true,
		"":                       false,
		strings.Repeat("n", 256): false,
		"AWS/Cognito":            false,
		"AWS/":                   false,
		"aws/Cognito":            true, // the reserved prefix is case-sensitive
		"MyAWS/Cognito":          true,
	} {
		if err := metric.CheckNamespace(ns); (err == nil) != ok {
			t.Errorf("CheckNamespace(%q) = %v, want ok %v", ns, err, ok)
		}
	}
}

func TestLookup(t *testing.T) {
	for _, want := range metric.Catalog {
		got, ok := metric.Lookup(want.Name)
		if !ok || got.Name != want.Name || got.Unit != want.Unit || len(got.Sets) != len(want.Sets) {
			t.Errorf("Lookup(%q) = %+v, %v", want.Name, got, ok)
		}
	}
	if s, ok := metric.Lookup(metric.DeliveryLagSeconds); !ok || s.Unit != metric.Seconds {
		t.Errorf("Lookup(DeliveryLagSeconds) = %+v, %v; want unit Seconds", s, ok)
	}
	if s, ok := metric.Lookup("NoSuchMetric"); ok || s.Name != "" {
		t.Errorf("Lookup(NoSuchMetric) = %+v, %v", s, ok)
	}
}

func TestLevelString(t *testing.T) {
	for l, want := range map[metric.Level]string{metric.Basic: "basic", metric.Standard: "standard", metric.Full: "full", 0: "Level(0)", 7: "Level(7)"} {
		if got := l.String(); got != want {
			t.Errorf("Level(%d).String() = %q, want %q", int(l), got, want)
		}
		if l >= metric.Basic && l <= metric.Full {
			if back, err := metric.ParseLevel(want); err != nil || back != l {
				t.Errorf("ParseLevel(%q) = %v, %v", want, back, err)
			}
		}
	}
}

// TestSanitizeKeepsTheEdgesOfPrintableASCII: a value that needs replacing
// somewhere keeps its space and '~' (U+0020 and U+007E, the two ends of the
// printable range) and loses DEL (U+007F) and U+001F.
func TestSanitizeKeepsTheEdgesOfPrintableASCII(t *testing.T) {
	for in, want := range map[string]string{
		"a ~\x7fb\x1f": "a ~_b_",
		"\xff~ !":      "_~ !",
		"~\x00":        "~_",
	} {
		if got := metric.SanitizeDimensionValue(in); got != want {
			t.Errorf("SanitizeDimensionValue(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSanitizeAcceptedValueIsNotCopied: a value CloudWatch accepts, which is
// every value but a hostile one, is returned as is, without an allocation
// per datum. The checks of the fast path (length, control characters,
// blankness) are what this pins: were any of them wrong the slow path would
// still give the same string, but by copying it.
func TestSanitizeAcceptedValueIsNotCopied(t *testing.T) {
	for _, v := range []string{
		"InitiateAuth", "eu-west-1_AbCdEf123", "a b", " x", "x ", "~", "!",
		`~!@#$%^&*()[]{}<>?/\|"';:.,+=`, strings.Repeat("x", metric.MaxDimensionValueLen),
	} {
		var got string
		if allocs := testing.AllocsPerRun(10, func() { got = metric.SanitizeDimensionValue(v) }); allocs != 0 || got != v {
			t.Errorf("SanitizeDimensionValue(%.20q) = %.20q with %v allocations, want it unchanged with none", v, got, allocs)
		}
	}
}

func TestDimensionNames(t *testing.T) {
	d := metric.Datum{Dimensions: []metric.Dimension{{Name: "Category", Value: "x"}, {Name: "Operation", Value: "y"}}}
	got := d.DimensionNames()
	if len(got) != 2 || got[0] != "Category" || got[1] != "Operation" {
		t.Errorf("DimensionNames() = %v", got)
	}
	if n := (metric.Datum{}).DimensionNames(); len(n) != 0 {
		t.Errorf("no dimensions: %v", n)
	}
}

func TestKeyOf(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 5, 0, 0, time.UTC)
	unsorted := []metric.Dimension{{Name: "UserPoolId", Value: "p"}, {Name: "Category", Value: "c"}}
	d := metric.Datum{Name: "Events", Dimensions: unsorted, Timestamp: at, Values: []float64{4, 9}}
	k := metric.KeyOf(&d)
	if k.Name != "Events" || k.Time != at.Unix() || k.Low != 4 {
		t.Errorf("KeyOf = %+v", k)
	}
	if len(k.Dimensions) != 2 || k.Dimensions[0].Name != "Category" || k.Dimensions[1].Name != "UserPoolId" {
		t.Errorf("key dimensions %v, want sorted by name", k.Dimensions)
	}
	if unsorted[0].Name != "UserPoolId" {
		t.Error("KeyOf sorted the datum's own dimensions")
	}
	if k := metric.KeyOf(&metric.Datum{Name: "Events"}); k.Low != 0 {
		t.Errorf("no values: Low %v", k.Low)
	}
}

func TestKeyCompare(t *testing.T) {
	dims := func(kv ...string) []metric.Dimension {
		var ds []metric.Dimension
		for i := 0; i < len(kv); i += 2 {
			ds = append(ds, metric.Dimension{Name: kv[i], Value: kv[i+1]})
		}
		return ds
	}
	// In ascending order: each key comes strictly before the next.
	keys := []metric.Key{
		{Name: "A", Time: 9, Low: 9},
		{Name: "Errors"},
		{Name: "Events", Time: 5},
		{Name: "Events", Time: 6},
		{Name: "Events", Time: 6, Low: 1},
		{Name: "Events", Time: 6, Low: 2},
		{Name: "Events", Dimensions: dims("Category", "a"), Time: 1},
		{Name: "Events", Dimensions: dims("Category", "a", "Operation", "x"), Time: 0},
		{Name: "Events", Dimensions: dims("Category", "b"), Time: 0},
		{Name: "Events", Dimensions: dims("Operation", "a"), Time: 0},
		{Name: "Z"},
	}
	for i := range keys {
		if c := keys[i].Compare(keys[i]); c != 0 {
			t.Errorf("%+v compared with itself: %d", keys[i], c)
		}
		for j := i + 1; j < len(keys); j++ {
			if c := keys[i].Compare(keys[j]); c >= 0 {
				t.Errorf("%+v vs %+v: %d, want < 0", keys[i], keys[j], c)
			}
			if c := keys[j].Compare(keys[i]); c <= 0 {
				t.Errorf("%+v vs %+v: %d, want > 0", keys[j], keys[i], c)
			}
		}
	}
}

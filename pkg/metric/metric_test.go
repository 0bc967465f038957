package metric_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/pkg/metric"
)

func TestCatalogIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range metric.Catalog {
		if seen[s.Name] {
			t.Errorf("%s twice", s.Name)
		}
		seen[s.Name] = true
		if len(s.Sets) == 0 || s.Description == "" {
			t.Errorf("%s: no dimension sets or description", s.Name)
		}
		hasBasic := false
		for _, set := range s.Sets {
			if !slices.IsSorted(set.Names) {
				t.Errorf("%s %v: dimension names not sorted", s.Name, set.Names)
			}
			hasBasic = hasBasic || set.Level == metric.Basic
		}
		if !hasBasic {
			t.Errorf("%s: nothing published at the basic level", s.Name)
		}
		if strings.TrimSpace(string(s.Unit)) == "" {
			t.Errorf("%s: no unit", s.Name)
		}
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]metric.Level{"basic": metric.Basic, "": metric.Standard, "STANDARD": metric.Standard, "full": metric.Full} {
		if got, err := metric.ParseLevel(in); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := metric.ParseLevel("verbose"); err == nil {
		t.Error("ParseLevel accepted an unknown level")
	}
}

func TestDatumSums(t *testing.T) {
	d := metric.Datum{Values: []float64{1, 5}, Counts: []float64{3, 2}}
	if d.Sum() != 13 || d.SampleCount() != 5 {
		t.Errorf("sum %v count %v, want 13 and 5", d.Sum(), d.SampleCount())
	}
}

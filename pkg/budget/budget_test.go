package budget

import (
	"context"
	"maps"
	"slices"
	"testing"
)

func admitted(t *testing.T, b Budget, month, dim string, values ...string) []string {
	t.Helper()
	got, err := b.Admit(context.Background(), month, dim, values)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for v, ok := range got {
		if ok {
			out = append(out, v)
		}
	}
	if len(got) != len(values) {
		t.Fatalf("answered %v for %v", slices.Sorted(maps.Keys(got)), values)
	}
	slices.Sort(out)
	return out
}

// TestMemoryKeepsTheFirstValuesOfAMonth: the values admitted first keep
// their series for the month, whatever later files bring; each month and
// each dimension has its own budget.
func TestMemoryKeepsTheFirstValuesOfAMonth(t *testing.T) {
	b := NewMemory(2)
	keepsTheFirstValuesOfAMonth(t, b, b)
}

// keepsTheFirstValuesOfAMonth asks a budget of 2 for values in turn, as
// two files in one environment (first and second the same budget) or in
// two environments sharing it would.
func keepsTheFirstValuesOfAMonth(t *testing.T, first, second Budget) {
	t.Helper()
	if got := admitted(t, first, "2026-11", "UserPoolId", "p1", "p2", "p3"); !slices.Equal(got, []string{"p1", "p2"}) {
		t.Errorf("first: %v, want the first two asked", got)
	}
	if got := admitted(t, second, "2026-11", "UserPoolId", "p3", "p2", "p4"); !slices.Equal(got, []string{"p2"}) {
		t.Errorf("second: %v, want only p2: the month's budget is spent", got)
	}
	if got := admitted(t, second, "2026-11", "ErrorCode", "x", "y", "z"); !slices.Equal(got, []string{"x", "y"}) {
		t.Errorf("another dimension: %v", got)
	}
	if got := admitted(t, first, "2026-12", "UserPoolId", "p4", "p3"); !slices.Equal(got, []string{"p3", "p4"}) {
		t.Errorf("a new month: %v", got)
	}
}

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
	if got := admitted(t, b, "2026-11", "UserPoolId", "a", "b", "c"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("first file: %v, want the first two asked", got)
	}
	if got := admitted(t, b, "2026-11", "UserPoolId", "c", "b", "d"); !slices.Equal(got, []string{"b"}) {
		t.Errorf("second file: %v, want only b: the budget is spent", got)
	}
	if got := admitted(t, b, "2026-11", "ErrorCode", "x", "y", "z"); !slices.Equal(got, []string{"x", "y"}) {
		t.Errorf("another dimension: %v", got)
	}
	if got := admitted(t, b, "2026-12", "UserPoolId", "d", "c"); !slices.Equal(got, []string{"c", "d"}) {
		t.Errorf("a new month: %v", got)
	}
}

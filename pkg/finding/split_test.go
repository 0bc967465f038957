package finding_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/internal/trailgen"
	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/trailfile"
)

// TestObserveHalves: ObserveFile and ObserveState, on two engines, raise
// what Observe raises on one, in its order, and ObserveState raises only on
// the records Stateful selects: the split the parallel scan relies on.
func TestObserveHalves(t *testing.T) {
	var b strings.Builder
	trailgen.Write(&b, trailgen.Options{Records: 3000, CognitoShare: 0.6, ConfigShare: 0.05, Seed: 7})
	opts := &finding.Options{SignInThreshold: 3, EnumerationThreshold: 2}
	whole, own, state := finding.New(opts), finding.New(opts), finding.New(opts)
	tr := trailfile.NewReader(strings.NewReader(b.String()), nil)
	kinds := map[string]bool{}
	for i := 0; ; i++ {
		r, err := tr.Next()
		if err != nil {
			break
		}
		c := class.Classify(r)
		want := append([]finding.Finding(nil), whole.Observe(context.Background(), r, &c, tr.Raw())...)
		got := append([]finding.Finding(nil), own.ObserveFile(r, &c, tr.Raw())...)
		fromState := state.ObserveState(context.Background(), r, &c, tr.Raw())
		if len(fromState) > 0 && !finding.Stateful(r, &c) {
			t.Errorf("record %d: ObserveState raised %v on a record Stateful passes over", i, fromState)
		}
		got = append(got, fromState...)
		if len(want) == 0 && len(got) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("record %d: halves raised %+v, Observe %+v", i, got, want)
		}
		for _, f := range want {
			kinds[f.Name] = true
		}
	}
	if !kinds[finding.SignInFailuresFromOneIP] || len(kinds) < 3 {
		t.Errorf("the records raise too few kinds of findings to test: %v", kinds)
	}
}

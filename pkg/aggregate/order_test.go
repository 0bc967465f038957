package aggregate

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/budget"
	"github.com/cognitrail/cognitrail/pkg/metric"
)

// TestAllIsInKeyOrder: All emits datums in strictly ascending metric.Key
// order, so a resumed publish may pass over every datum whose key is at
// most the last published one and meet exactly those published before:
// at every level, under tight caps, with clients folded into pools, values
// sanitised and folded into other, and delivery lags split within a minute.
func TestAllIsInKeyOrder(t *testing.T) {
	for seed := range uint64(9) {
		rng := rand.New(rand.NewPCG(seed, 7))
		opts := &Options{Level: metric.Level(1 + seed%3), MaxPools: 1 + int(seed%4)*3, MaxOperations: 2 + int(seed%3)}
		span := []time.Duration{5 * time.Minute, 15 * time.Hour, 30 * 24 * time.Hour}[seed%3]
		a := New(opts)
		randomInput(rng, 3000, span, a)
		// Hundreds of distinct lags in one minute: a split distribution.
		t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		for i := range 400 {
			a.AddFile(Processed, t0) // keeps a count series beside the lag
			a.lag.add(minuteOf(t0), int64(i), 1)
		}
		res := staticResolver{"us-east-1/client2": "us-east-1_B", "us-east-1/sprayed3": "us-east-1_Z"}
		if _, err := a.ResolveClients(context.Background(), res); err != nil {
			t.Fatal(err)
		}
		if seed%2 == 1 {
			if err := a.ApplyBudget(context.Background(), budget.NewMemory(2)); err != nil {
				t.Fatal(err)
			}
		}
		var prev metric.Key
		n, splits := 0, 0
		for d := range a.All() {
			k := metric.KeyOf(&d)
			if n > 0 {
				if c := prev.Compare(k); c >= 0 {
					t.Fatalf("seed %d: datum %d %+v does not come after %+v", seed, n, k, prev)
				}
				if prev.Name == k.Name && prev.Time == k.Time && metric.CompareDimensions(prev.Dimensions, k.Dimensions) == 0 {
					splits++
				}
			}
			prev = k
			n++
		}
		if n < 100 || splits == 0 {
			t.Fatalf("seed %d: %d datums, %d split minutes: the test sees too little", seed, n, splits)
		}
	}
}

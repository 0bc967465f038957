package ledger

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestAdvanceRecordsKeyAndInputs: Advance records the last datum's key and,
// once, the inputs; the retry's claim returns them, a later Advance without
// inputs keeps them, and a claim taken over cannot advance.
func TestAdvanceRecordsKeyAndInputs(t *testing.T) {
	ctx := context.Background()
	l, _, _ := newLedger(t, nil)
	id := ObjectID("bucket", "AWSLogs/1/CloudTrail/adv.json.gz", "e:abc")
	lease := time.Now().Add(time.Minute)
	c := claimed(t, l, id, lease)
	if c.After != "" || c.Inputs != "" {
		t.Fatalf("fresh claim %+v", c)
	}
	if err := c.Advance(ctx, 1, "k1", `{"oldest":5}`); err != nil {
		t.Fatal(err)
	}
	if err := c.Advance(ctx, 2, "k2", ""); err != nil {
		t.Fatal(err)
	}
	if err := c.Release(ctx); err != nil {
		t.Fatal(err)
	}
	c2 := claimed(t, l, id, lease)
	if c2.Resume != 2 || c2.After != "k2" || c2.Inputs != `{"oldest":5}` {
		t.Fatalf("retry's claim: resume %d after %q inputs %q", c2.Resume, c2.After, c2.Inputs)
	}
	if err := c.Advance(ctx, 3, "k3", ""); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("advance by the superseded claim: %v, want ErrLeaseLost", err)
	}
}

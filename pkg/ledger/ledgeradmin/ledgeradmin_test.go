package ledgeradmin

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/cognitrail/cognitrail/internal/ledgertable"
	"github.com/cognitrail/cognitrail/pkg/ledger"
)

var moto ledgertable.Moto

func TestMain(m *testing.M) { moto.Main(m) }

func newTable(t *testing.T) (*ledger.Ledger, *dynamodb.Client, string) {
	t.Helper()
	db, table := moto.Table(t, "ledgeradmin")
	return ledger.New(db, ledger.Options{Table: table}), db, table
}

func TestReset(t *testing.T) {
	ctx := context.Background()
	l, db, table := newTable(t)
	now := time.Now()
	id := func(n string) string { return ledger.ObjectID("bucket", "AWSLogs/1/CloudTrail/"+n+".json.gz", "e:abc") }

	// Done: deleted, and the next claim starts afresh.
	c, err := l.Claim(ctx, id("done"), now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Finish(ctx, "processed", 3); err != nil {
		t.Fatal(err)
	}
	it, err := Reset(ctx, db, table, id("done"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !it.Done || it.Outcome != "processed" || it.Batches != 3 || it.Attempts != 1 {
		t.Errorf("reset returned %+v, want the done item", it)
	}
	c, err = l.Claim(ctx, id("done"), now.Add(time.Minute))
	if err != nil || c.Done || c.Resume != 0 || c.Attempt != 1 {
		t.Fatalf("claim after reset: %+v, %v; want a fresh claim", c, err)
	}

	// A live lease: refused, and the holder keeps its claim.
	if _, err := Reset(ctx, db, table, id("done"), time.Now()); !errors.Is(err, ledger.ErrBusy) {
		t.Fatalf("reset of a live lease: %v, want ErrBusy", err)
	}
	if err := c.Progress(ctx, 1); err != nil {
		t.Errorf("the holder lost its claim to a refused reset: %v", err)
	}

	// Released with batches published: refused, the retry resumes.
	if err := c.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := Reset(ctx, db, table, id("done"), time.Now()); !errors.Is(err, ErrUnfinished) {
		t.Fatalf("reset of an unfinished attempt with published batches: %v, want ErrUnfinished", err)
	}

	// Released before any batch: nothing counted, deleted.
	c, err = l.Claim(ctx, id("released"), now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := Reset(ctx, db, table, id("released"), time.Now()); err != nil {
		t.Errorf("reset of a released claim with no batch: %v", err)
	}
	if got, err := l.Inspect(ctx, id("released")); err != nil || got != nil {
		t.Errorf("item after reset: %+v, %v", got, err)
	}

	// Missing.
	if _, err := Reset(ctx, db, table, id("never"), time.Now()); !errors.Is(err, ErrNoItem) {
		t.Errorf("reset of a missing item: %v, want ErrNoItem", err)
	}
}

package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// TestBatchItem: an object claimed in a batch names it, and keeps naming
// the first batch it was claimed in; a batch item holds its members and the
// caller's state; a resumed batch gets them back with its progress, and
// once published says so; a done batch is reported done with its members;
// a batch never written is gone, and resuming it writes nothing.
func TestBatchItem(t *testing.T) {
	ctx := context.Background()
	l, db, table := newLedger(t, nil)
	lease := time.Now().Add(time.Minute)
	members := []Member{
		{Bucket: "b", Key: "k1", Identity: "e:1", EventTime: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)},
		{Bucket: "b", Key: "k2", Identity: "v:2", VersionID: "2", Outcome: "failed"},
	}
	id, err := l.NewBatchID()
	if err != nil {
		t.Fatal(err)
	}
	obj, err := l.ClaimIn(ctx, members[0].ID(), id, lease)
	if err != nil {
		t.Fatal(err)
	}
	if obj.Batch != id {
		t.Fatalf("claimed object names %q, want %q", obj.Batch, id)
	}
	b, err := l.ClaimBatch(ctx, id, lease, BatchRecord{Members: members, State: json.RawMessage(`{"oldest":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.ClaimBatch(ctx, id, lease, BatchRecord{Members: members}); err == nil {
		t.Fatal("a batch id was created twice")
	}
	if err := b.Progress(ctx, 2); err != nil {
		t.Fatal(err)
	}
	// The invocation stops; the object's next claim, in another batch,
	// still names the first.
	if err := obj.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	other, _ := l.NewBatchID()
	again, err := l.ClaimIn(ctx, members[0].ID(), other, lease)
	if err != nil {
		t.Fatal(err)
	}
	if again.Batch != id {
		t.Fatalf("object claimed again names %q, want the first batch %q", again.Batch, id)
	}
	r, err := l.ResumeBatch(ctx, id, lease)
	if err != nil {
		t.Fatal(err)
	}
	if r.Resume != 2 || r.Complete || len(r.Record.Members) != 2 || r.Record.Members[1] != members[1] ||
		!r.Record.Members[0].EventTime.Equal(members[0].EventTime) || string(r.Record.State) != `{"oldest":1}` ||
		!r.Record.Has(members[1].ID()) || r.Record.Has("nothing") {
		t.Fatalf("resumed batch %+v", r)
	}
	if _, err := l.ResumeBatch(ctx, id, lease); !errors.Is(err, ErrBusy) {
		t.Fatalf("a held batch resumed twice: %v", err)
	}
	if err := r.Published(ctx, 3, nil); err != nil {
		t.Fatal(err)
	}
	if err := r.Release(ctx); err != nil {
		t.Fatal(err)
	}
	r, err = l.ResumeBatch(ctx, id, lease)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Complete || r.Resume != 3 {
		t.Fatalf("published batch resumed as %+v", r)
	}
	if err := r.Finish(ctx, "processed", 3); err != nil {
		t.Fatal(err)
	}
	if r, err := l.ResumeBatch(ctx, id, lease); err != nil || !r.Done || !r.Record.Has(members[0].ID()) {
		t.Fatalf("finished batch: %+v, %v", r, err)
	}
	if _, err := l.ResumeBatch(ctx, other, lease); !errors.Is(err, ErrBatchGone) {
		t.Fatalf("batch never written: %v, want ErrBatchGone", err)
	}
	if it, err := l.Inspect(ctx, other); err != nil || it != nil {
		t.Fatalf("resuming a batch never written wrote %+v (%v)", it, err)
	}
	if err := again.Join(ctx, other); err != nil {
		t.Fatal(err)
	}
	if again.Batch != other {
		t.Fatalf("joined %q", again.Batch)
	}
	_, _ = db, table
}

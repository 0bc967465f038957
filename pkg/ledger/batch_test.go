package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// TestBatchItem: a batch item holds its members and the caller's state; a
// resumed batch gets them back with its progress; a published batch is
// never claimed as new; a missing one is reported gone.
func TestBatchItem(t *testing.T) {
	ctx := context.Background()
	l, _, _ := newLedger(t, nil)
	lease := time.Now().Add(time.Minute)
	members := []Member{
		{Bucket: "b", Key: "k1", Identity: "e:1", EventTime: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)},
		{Bucket: "b", Key: "k2", Identity: "v:2", VersionID: "2"},
	}
	id := BatchID([]string{members[1].ID(), members[0].ID()})
	if id != BatchID([]string{members[0].ID(), members[1].ID()}) {
		t.Fatal("the batch id depends on the members' order")
	}
	obj, err := l.Claim(ctx, members[0].ID(), lease)
	if err != nil {
		t.Fatal(err)
	}
	if err := obj.Join(ctx, id); err != nil {
		t.Fatal(err)
	}
	b, err := l.ClaimBatch(ctx, id, lease, BatchRecord{Members: members, State: json.RawMessage(`{"oldest":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Progress(ctx, 2); err != nil {
		t.Fatal(err)
	}
	// The invocation crashes: the object's lease ends; its next claim names
	// the batch, which resumes with its record and progress.
	if err := obj.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	again, err := l.Claim(ctx, members[0].ID(), lease)
	if err != nil {
		t.Fatal(err)
	}
	if again.Batch != id {
		t.Fatalf("object claimed again names batch %q, want %q", again.Batch, id)
	}
	r, err := l.ResumeBatch(ctx, id, lease)
	if err != nil {
		t.Fatal(err)
	}
	if r.Resume != 2 || r.Complete || len(r.Record.Members) != 2 || r.Record.Members[1] != members[1] ||
		!r.Record.Members[0].EventTime.Equal(members[0].EventTime) || string(r.Record.State) != `{"oldest":1}` {
		t.Fatalf("resumed batch %+v", r)
	}
	if err := r.Published(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if err := r.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ClaimBatch(ctx, id, lease, BatchRecord{Members: members}); err == nil {
		t.Fatal("a published batch was claimed as new")
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
	if r, err := l.ResumeBatch(ctx, id, lease); err != nil || !r.Done {
		t.Fatalf("finished batch: %+v, %v", r, err)
	}
	if _, err := l.ResumeBatch(ctx, BatchID([]string{"nothing"}), lease); !errors.Is(err, ErrBatchGone) {
		t.Fatalf("missing batch: %v, want ErrBatchGone", err)
	}
	if err := again.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	if err := again.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if c, err := l.Claim(ctx, members[0].ID(), lease); err != nil || c.Batch != "" {
		t.Fatalf("object that left its batch: %+v, %v", c, err)
	}
}

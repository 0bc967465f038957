package ledger

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/cognitrail/cognitrail/internal/ledgertable"
)

// TestNoticesOnceUnlessFailed walks a notice through its states against
// moto_server: sending (held by its sender's lease), sent, failed, and a
// sender that died while sending.
func TestNoticesOnceUnlessFailed(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	t0 := now
	clock := func() time.Time { return now }
	_, db, table := newLedger(t, clock)
	n := NewNotices(db, Options{Table: table, Now: clock})
	const ev = "f1d47f93-c708-495b-bff1-cb935a6064b2"
	lease := now.Add(time.Minute)
	tok, first, err := n.First(ctx, ev, "identity-pool-deleted", lease)
	if err != nil || !first || tok == "" {
		t.Fatalf("first: %q %v %v", tok, first, err)
	}
	// Held: another sender (the trail file after the EventBridge event)
	// sends nothing while the first is alive, and is told to try again
	// (the first may still fail).
	if _, first, err := n.First(ctx, ev, "identity-pool-deleted", lease); !errors.Is(err, ErrNoticeHeld) || first {
		t.Fatalf("while sending: %v, %v", first, err)
	}
	if err := n.Sent(ctx, ev, "identity-pool-deleted", tok); err != nil {
		t.Fatal(err)
	}
	// Sent: never again, even after the lease.
	now = now.Add(time.Hour)
	if _, first, err := n.First(ctx, ev, "identity-pool-deleted", now.Add(time.Minute)); err != nil || first {
		t.Fatalf("after sent: %v, %v", first, err)
	}
	// The item is keyed finding#<eventID>#<name> and kept DefaultRetention.
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key("finding#" + ev + "#identity-pool-deleted")})
	if err != nil || out.Item == nil {
		t.Fatalf("no finding# item: %v", err)
	}
	if st := strAttr(out.Item, attrStatus); st != noticeSent {
		t.Errorf("status %q, want sent", st)
	}
	if exp := time.Unix(int64(intAttr(out.Item, AttrExpiresAt)), 0); exp.Before(t0.Add(DefaultRetention - time.Minute)) {
		t.Errorf("expiresAt %v, want about 30 days ahead", exp)
	}

	// A failed send lets the next pass send it, once.
	tok, first, err = n.First(ctx, ev, "identity-pool-guest-access-enabled", now.Add(time.Minute))
	if err != nil || !first {
		t.Fatalf("other finding: %v, %v", first, err)
	}
	if err := n.Failed(ctx, ev, "identity-pool-guest-access-enabled", tok); err != nil {
		t.Fatal(err)
	}
	_, first, err = n.First(ctx, ev, "identity-pool-guest-access-enabled", now.Add(time.Minute))
	if err != nil || !first {
		t.Fatalf("after failure: %v, %v", first, err)
	}
	// The first sender, taken over, cannot mark the item any more.
	if err := n.Failed(ctx, ev, "identity-pool-guest-access-enabled", tok); err == nil {
		t.Fatal("a sender taken over marked the item")
	}

	// A sender that dies while sending: once its lease is over, the next
	// pass sends.
	now = now.Add(2 * time.Minute)
	if _, first, err := n.First(ctx, ev, "identity-pool-guest-access-enabled", now.Add(time.Minute)); err != nil || !first {
		t.Fatalf("after the sender's lease: %v, %v", first, err)
	}
}

// lostAnswer applies every PutItem twice, returning the second answer: the
// SDK's retry of a write whose first answer was lost.
type lostAnswer struct{ *dynamodb.Client }

func (l lostAnswer) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return ledgertable.Twice(ctx, l.Client.PutItem, in, o...)
}

// TestNoticeLostAnswer: the retry of First meets its own item; the finding
// is still sent (it was reported a duplicate, and never sent).
func TestNoticeLostAnswer(t *testing.T) {
	ctx := context.Background()
	_, db, table := newLedger(t, nil)
	n := NewNotices(lostAnswer{db}, Options{Table: table})
	tok, first, err := n.First(ctx, "e1", "identity-pool-deleted", time.Now().Add(time.Minute))
	if err != nil || !first {
		t.Fatalf("first after a lost answer: %v, %v", first, err)
	}
	if err := n.Sent(ctx, "e1", "identity-pool-deleted", tok); err != nil {
		t.Fatal(err)
	}
	if _, first, err := NewNotices(db, Options{Table: table}).First(ctx, "e1", "identity-pool-deleted", time.Now().Add(time.Minute)); err != nil || first {
		t.Fatalf("another sender: %v, %v", first, err)
	}
}

package ledger

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func TestNoticesOnceUnlessFailed(t *testing.T) {
	ctx := context.Background()
	_, db, table := newLedger(t, nil)
	n := NewNotices(db, Options{Table: table})
	const ev = "f1d47f93-c708-495b-bff1-cb935a6064b2"
	for i, want := range []bool{true, false} {
		if first, err := n.First(ctx, ev, "identity-pool-deleted"); err != nil || first != want {
			t.Fatalf("call %d: first %v, %v; want %v", i, first, err, want)
		}
	}
	// The item is keyed finding#<eventID>#<name> and kept DefaultRetention.
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key("finding#" + ev + "#identity-pool-deleted")})
	if err != nil || out.Item == nil {
		t.Fatalf("no finding# item: %v", err)
	}
	if exp := time.Unix(int64(intAttr(out.Item, AttrExpiresAt)), 0); exp.Before(time.Now().Add(DefaultRetention - time.Hour)) {
		t.Errorf("expiresAt %v, want about 30 days ahead", exp)
	}
	// Another finding of the same event is its own notice.
	if first, err := n.First(ctx, ev, "identity-pool-guest-access-enabled"); err != nil || !first {
		t.Fatalf("other finding: %v, %v", first, err)
	}
	// A failed send lets the next pass send it, once.
	if err := n.Failed(ctx, ev, "identity-pool-deleted"); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		if first, err := n.First(ctx, ev, "identity-pool-deleted"); err != nil || first != want {
			t.Fatalf("after failure, call %d: first %v, %v; want %v", i, first, err, want)
		}
	}
}

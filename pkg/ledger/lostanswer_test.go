package ledger

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// scriptedDB answers each UpdateItem with answer(request): the item a
// failed condition met (the SDK's retry after a lost answer meets the
// write it retries), or nil for success.
type scriptedDB struct {
	recordingDB
	answer func(in *dynamodb.UpdateItemInput) map[string]types.AttributeValue
}

func (d *scriptedDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opt ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if d.answer != nil {
		if item := d.answer(in); item != nil {
			d.updates = append(d.updates, in)
			return nil, &types.ConditionalCheckFailedException{Message: new(string), Item: item}
		}
	}
	return d.recordingDB.UpdateItem(ctx, in, opt...)
}

func tokenOf(in *dynamodb.UpdateItemInput) types.AttributeValue {
	return in.ExpressionAttributeValues[":tok"]
}

// A claim whose answer was lost meets its own write: it holds the claim,
// not "busy"; another's running claim is busy.
func TestClaimMeetsItsOwnWrite(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		owner func(in *dynamodb.UpdateItemInput) types.AttributeValue
		own   bool
	}{
		{"own token", tokenOf, true},
		{"another's", func(*dynamodb.UpdateItemInput) types.AttributeValue { return str("someone-else") }, false},
	} {
		db := &scriptedDB{answer: func(in *dynamodb.UpdateItemInput) map[string]types.AttributeValue {
			return map[string]types.AttributeValue{attrOwner: tc.owner(in), attrStatus: str(statusRunning),
				attrLease: num(time.Now().Add(time.Hour).UnixMilli()), attrAttempts: num(1), attrBatches: num(0)}
		}}
		c, err := New(db, Options{Table: "t"}).Claim(ctx, "id", time.Now().Add(time.Minute))
		if tc.own && (err != nil || c == nil || c.Done) {
			t.Errorf("%s: %v, %+v; want the claim", tc.name, err, c)
		}
		if !tc.own && !errors.Is(err, ErrBusy) {
			t.Errorf("%s: %v; want ErrBusy", tc.name, err)
		}
	}
}

// Finish whose answer was lost meets its own done item: done, no error.
// Any other write that meets a failed condition, or a Finish meeting
// another's item or its own still running, has lost the lease.
func TestFinishMeetsItsOwnWrite(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name           string
		status         string
		ownToken, done bool
		write          func(c *Claim) error
		wantErr        bool
	}{
		{"own Finish, done", statusDone, true, true, func(c *Claim) error { return c.Finish(ctx, "processed", 1) }, false},
		{"another's done item", statusDone, false, true, func(c *Claim) error { return c.Finish(ctx, "processed", 1) }, true},
		{"own item still running", statusRunning, true, true, func(c *Claim) error { return c.Finish(ctx, "processed", 1) }, true},
		{"Advance on own done item", statusDone, true, false, func(c *Claim) error { return c.Advance(ctx, 1, "k", "") }, true},
	} {
		db := &scriptedDB{}
		c, err := New(db, Options{Table: "t"}).Claim(ctx, "id", time.Now().Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		tok := tokenOf(db.updates[0])
		db.answer = func(*dynamodb.UpdateItemInput) map[string]types.AttributeValue {
			owner := tok
			if !tc.ownToken {
				owner = str("someone-else")
			}
			return map[string]types.AttributeValue{attrOwner: owner, attrStatus: str(tc.status)}
		}
		err = tc.write(c)
		if tc.wantErr != (err != nil) || (tc.wantErr && !errors.Is(err, ErrLeaseLost)) {
			t.Errorf("%s: %v, want error %v (ErrLeaseLost)", tc.name, err, tc.wantErr)
		}
	}
}

// Advance records the inputs with the first progress only: a later
// Advance without them keeps what the claim holds.
func TestAdvanceKeepsTheInputs(t *testing.T) {
	ctx := context.Background()
	c, err := New(&recordingDB{}, Options{Table: "t"}).Claim(ctx, "id", time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Advance(ctx, 1, "k1", `{"oldest":1}`); err != nil {
		t.Fatal(err)
	}
	if err := c.Advance(ctx, 2, "k2", ""); err != nil {
		t.Fatal(err)
	}
	if c.Inputs != `{"oldest":1}` || c.After != "k2" {
		t.Errorf("inputs %q, after %q: want the first inputs and the last key", c.Inputs, c.After)
	}
}

// Published writes the members' outcomes only when some differ from the
// batch record, and keeps them on the claim once written.
func TestPublishedWritesOutcomesWhenAny(t *testing.T) {
	ctx := context.Background()
	for _, outcomes := range []map[string]string{nil, {}, {`"b"/"k"/e:1`: "failed"}} {
		db := &recordingDB{}
		l := New(db, Options{Table: "t"})
		bc, err := l.ClaimBatch(ctx, BatchPrefix+"x", time.Now().Add(time.Minute), BatchRecord{Members: []Member{{Bucket: "b", Key: "k", Identity: "e:1"}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := bc.Published(ctx, 2, outcomes); err != nil {
			t.Fatal(err)
		}
		last := db.updates[len(db.updates)-1]
		_, wrote := last.ExpressionAttributeNames["#outcomes"]
		if wrote != (len(outcomes) > 0) {
			t.Errorf("outcomes %v: #outcomes written %v", outcomes, wrote)
		}
		if len(outcomes) > 0 && bc.Record.Outcomes[`"b"/"k"/e:1`] != "failed" {
			t.Errorf("outcomes %v not kept on the claim: %v", outcomes, bc.Record.Outcomes)
		}
	}
}

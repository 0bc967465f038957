package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognitrail/cognitrail/internal/ledgertable"
	"github.com/cognitrail/cognitrail/internal/motoserver"
	"github.com/cognitrail/cognitrail/pkg/budget"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/ledger"
)

// recorded is one request sent to moto_server and what it answered.
type recorded struct {
	op  string
	in  any
	out map[string]types.AttributeValue
	err error
}

// tee sends every request to moto_server and records it.
type tee struct {
	db    *dynamodb.Client
	calls []recorded
}

func (t *tee) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	out, err := t.db.UpdateItem(ctx, in, o...)
	return keep(t, "UpdateItem", in, out, err, func(out *dynamodb.UpdateItemOutput) map[string]types.AttributeValue { return out.Attributes })
}

func (t *tee) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := t.db.PutItem(ctx, in, o...)
	return keep(t, "PutItem", in, out, err, func(out *dynamodb.PutItemOutput) map[string]types.AttributeValue { return out.Attributes })
}

func (t *tee) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := t.db.GetItem(ctx, in, o...)
	return keep(t, "GetItem", in, out, err, func(out *dynamodb.GetItemOutput) map[string]types.AttributeValue { return out.Item })
}

// keep records a call moto_server answered and passes its answer on; item
// reads the attributes an answer holds (there are none when it failed).
func keep[O any](t *tee, op string, in any, out *O, err error, item func(*O) map[string]types.AttributeValue) (*O, error) {
	r := recorded{op: op, in: in, err: err}
	if out != nil {
		r.out = item(out)
	}
	t.calls = append(t.calls, r)
	return out, err
}

// TestModelMatchesMoto runs the ledger's, the notices', the settings' and
// the budget's writes, through their own protocols, against moto_server,
// then replays every request on the model: each answer (the condition's
// verdict, the attributes returned, the item a failed condition returns)
// must be the same. The simulation's verdicts stand on this.
func TestModelMatchesMoto(t *testing.T) {
	srv := motoserver.StartT(t)
	ctx := context.Background()
	db := dynamodb.NewFromConfig(srv.AWSConfig())
	if err := ledgertable.Create(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	api := &tee{db: db}
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	opts := ledger.Options{Table: table, Now: clock, Rand: rand.New(rand.NewSource(1))}
	l := ledger.New(api, opts)
	lease := now.Add(time.Minute)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	// An object: claimed, busy for another, progressed, released, taken
	// over after the lease, finished, then a duplicate.
	id := ledger.ObjectID(bucket, "k1", "e:1")
	c, err := l.Claim(ctx, id, lease)
	must(err)
	if _, err := l.Claim(ctx, id, lease); !errors.Is(err, ledger.ErrBusy) {
		t.Fatalf("second claim: %v", err)
	}
	must(c.Progress(ctx, 1))
	must(c.Release(ctx))
	now = now.Add(2 * time.Minute)
	c2, err := l.Claim(ctx, id, now.Add(time.Minute))
	must(err)
	if err := c.Progress(ctx, 2); !errors.Is(err, ledger.ErrLeaseLost) {
		t.Fatalf("stale progress: %v", err)
	}
	must(c2.Finish(ctx, "processed", 2))
	if d, err := l.Claim(ctx, id, lease); err != nil || !d.Done {
		t.Fatalf("done: %+v %v", d, err)
	}

	// A batch with two members, published with pending findings, resumed.
	bid, err := l.NewBatchID()
	must(err)
	m1, m2 := ledger.ObjectID(bucket, "k2", "v:1"), ledger.ObjectID(bucket, "k3", "v:2")
	o1, err := l.ClaimIn(ctx, m1, bid, now.Add(time.Minute))
	must(err)
	_, err = l.ClaimIn(ctx, m2, bid, now.Add(time.Minute))
	must(err)
	bc, err := l.ClaimBatch(ctx, bid, now.Add(time.Minute), ledger.BatchRecord{
		Members: []ledger.Member{{Bucket: bucket, Key: "k2", Identity: "v:1"}, {Bucket: bucket, Key: "k3", Identity: "v:2"}},
		State:   json.RawMessage(`{"oldest":1}`), Pending: json.RawMessage(`[{"finding":"f"}]`)})
	must(err)
	must(bc.Progress(ctx, 1))
	must(bc.Published(ctx, 2, map[string]string{m2: "failed"}))
	must(o1.Finish(ctx, "processed", 0))
	must(bc.Release(ctx))
	now = now.Add(2 * time.Minute)
	rb, err := l.ResumeBatch(ctx, bid, now.Add(time.Minute))
	must(err)
	if !rb.Complete || string(rb.Record.Pending) != `[{"finding":"f"}]` {
		t.Fatalf("resumed batch %+v", rb)
	}
	must(rb.Finish(ctx, "processed", 2))

	// Notices: sending, held, sent, failed, taken over.
	n := ledger.NewNotices(api, opts)
	tok, first, err := n.First(ctx, "ev", "f", now.Add(time.Minute))
	must(err)
	if _, again, _ := n.First(ctx, "ev", "f", now.Add(time.Minute)); !first || again {
		t.Fatal("notice not held")
	}
	must(n.Sent(ctx, "ev", "f", tok))
	tok, _, err = n.First(ctx, "ev", "g", now.Add(time.Minute))
	must(err)
	must(n.Failed(ctx, "ev", "g", tok))
	_, first, err = n.First(ctx, "ev", "g", now.Add(time.Minute))
	if err != nil || !first {
		t.Fatalf("after failed: %v %v", first, err)
	}

	// Settings and the series budget.
	s := ledger.NewSettings(api, opts)
	at := time.Date(2026, 11, 22, 4, 20, 0, 0, time.UTC)
	must(s.Put(context.Background(), map[string][]finding.Entry{"a": {{Time: at, EventID: "e1", Value: "1"}}, "b": {{Time: at, EventID: "e1", Value: "2"}}}))
	// A newer and an older entry (version condition), then one already
	// there (read, nothing to write).
	must(s.Put(context.Background(), map[string][]finding.Entry{"a": {{Time: at.Add(time.Minute), EventID: "e2", Value: "0"}, {Time: at.Add(-time.Minute), EventID: "e0", Value: "0"}}}))
	must(s.Put(context.Background(), map[string][]finding.Entry{"a": {{Time: at, EventID: "e1", Value: "1"}}}))
	if h, err := s.Get(context.Background(), "a"); err != nil || len(h) != 3 {
		t.Fatalf("settings history %+v, %v", h, err)
	}
	b, err := budget.NewDynamo(api, table, 3)
	must(err)
	for _, vals := range [][]string{{"x", "y"}, {"y", "z", "w"}, {"v"}} {
		if _, err := b.Admit(ctx, "2026-11", "Operation", vals); err != nil {
			t.Fatal(err)
		}
	}

	// The same requests, in the same order, on the model.
	model := NewDB()
	for i, r := range api.calls {
		var out map[string]types.AttributeValue
		var err error
		switch in := r.in.(type) {
		case *dynamodb.UpdateItemInput:
			var o *dynamodb.UpdateItemOutput
			if o, err = model.UpdateItem(ctx, in); o != nil {
				out = o.Attributes
			}
		case *dynamodb.PutItemInput:
			var o *dynamodb.PutItemOutput
			if o, err = model.PutItem(ctx, in); o != nil {
				out = o.Attributes
			}
		case *dynamodb.GetItemInput:
			var o *dynamodb.GetItemOutput
			if o, err = model.GetItem(ctx, in); o != nil {
				out = o.Item
			}
		}
		if got, want := verdict(err), verdict(r.err); got != want {
			t.Errorf("request %d (%s): model says %s, moto_server %s", i, describeIn(r.in), got, want)
			continue
		}
		if !sameItem(out, r.out) {
			t.Errorf("request %d (%s): model returned %s, moto_server %s", i, describeIn(r.in), show(out), show(r.out))
		}
		if g, w := failedItem(err), failedItem(r.err); !sameItem(g, w) {
			t.Errorf("request %d (%s): condition failure item: model %s, moto_server %s", i, describeIn(r.in), show(g), show(w))
		}
	}
	if len(api.calls) < 25 {
		t.Fatalf("only %d requests compared", len(api.calls))
	}
}

func verdict(err error) string {
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &ccf):
		return "condition failed"
	}
	return "error: " + err.Error()
}

func failedItem(err error) map[string]types.AttributeValue {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ccf.Item
	}
	return nil
}

// sameItem compares items by value; numbers as numbers and sets as sets.
func sameItem(a, b map[string]types.AttributeValue) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok {
			return false
		}
		switch v := v.(type) {
		case *types.AttributeValueMemberN:
			if c, ok := order(v, w); !ok || c != 0 {
				return false
			}
		case *types.AttributeValueMemberSS:
			ws, ok := w.(*types.AttributeValueMemberSS)
			if !ok || len(ws.Value) != len(v.Value) {
				return false
			}
			set := map[string]bool{}
			for _, s := range v.Value {
				set[s] = true
			}
			for _, s := range ws.Value {
				if !set[s] {
					return false
				}
			}
		default:
			if !reflect.DeepEqual(v, w) {
				return false
			}
		}
	}
	return true
}

func show(m map[string]types.AttributeValue) string {
	b, _ := json.Marshal(m)
	return string(b)
}

func describeIn(in any) string {
	switch in := in.(type) {
	case *dynamodb.UpdateItemInput:
		return fmt.Sprintf("UpdateItem %s if %s", keyOf(in.Key), strPtr(in.ConditionExpression))
	case *dynamodb.PutItemInput:
		return fmt.Sprintf("PutItem %s if %s", keyOf(in.Item), strPtr(in.ConditionExpression))
	case *dynamodb.GetItemInput:
		return "GetItem " + keyOf(in.Key)
	}
	return "?"
}

func strPtr(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}

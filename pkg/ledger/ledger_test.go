package ledger

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/cognitrail/cognitrail/internal/ledgertable"
)

var moto ledgertable.Moto

func TestMain(m *testing.M) { moto.Main(m) }

// newLedger creates a fresh table on the shared moto_server.
func newLedger(t *testing.T, now func() time.Time) (*Ledger, *dynamodb.Client, string) {
	t.Helper()
	db, table := moto.Table(t, "ledger")
	return New(db, Options{Table: table, Now: now}), db, table
}

// claimed claims id, failing the test if the claim is refused.
func claimed(t *testing.T, l *Ledger, id string, lease time.Time) *Claim {
	t.Helper()
	c, err := l.Claim(context.Background(), id, lease)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClaimProgressFinish(t *testing.T) {
	ctx := context.Background()
	l, db, table := newLedger(t, nil)
	id := ObjectID("bucket", "AWSLogs/1/CloudTrail/x.json.gz", "e:abc")
	lease := time.Now().Add(time.Minute)

	c := claimed(t, l, id, lease)
	if c.Done || c.Resume != 0 || c.Attempt != 1 {
		t.Fatalf("first claim %+v", c)
	}
	// A second invocation while the lease is live.
	if _, err := l.Claim(ctx, id, lease); !errors.Is(err, ErrBusy) {
		t.Fatalf("second claim: %v, want ErrBusy", err)
	}
	if err := c.Progress(ctx, 2); err != nil {
		t.Fatal(err)
	}
	// The holder fails transiently and releases: the retry resumes at 2.
	if err := c.Release(ctx); err != nil {
		t.Fatal(err)
	}
	c2 := claimed(t, l, id, lease)
	if c2.Resume != 2 || c2.Attempt != 2 {
		t.Fatalf("resumed claim %+v", c2)
	}
	// The old holder's writes no longer count.
	if err := c.Progress(ctx, 5); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("stale progress: %v", err)
	}
	if err := c2.Finish(ctx, "processed", 3); err != nil {
		t.Fatal(err)
	}
	c3 := claimed(t, l, id, lease)
	if !c3.Done || c3.Outcome != "processed" || c3.Resume != 3 {
		t.Fatalf("claim of a done object %+v", c3)
	}
	// The item carries the TTL attribute.
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key(id)})
	if err != nil {
		t.Fatal(err)
	}
	if exp := intAttr(out.Item, AttrExpiresAt); time.Unix(int64(exp), 0).Before(time.Now().Add(29 * 24 * time.Hour)) {
		t.Fatalf("expiresAt %d", exp)
	}
}

func TestExpiredLeaseIsTakenOver(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	l, _, _ := newLedger(t, clock)
	id := ObjectID("b", "k", "v:1")
	c := claimed(t, l, id, now.Add(time.Minute))
	if err := c.Progress(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// The holder crashed; its lease ends.
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	c2 := claimed(t, l, id, now.Add(time.Minute))
	if c2.Resume != 1 {
		t.Fatalf("took over at %d, want 1", c2.Resume)
	}
	if err := c.Finish(ctx, "processed", 1); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("crashed holder finished: %v", err)
	}
}

func TestConcurrentClaimsOneWins(t *testing.T) {
	ctx := context.Background()
	_, db, table := newLedger(t, nil)
	l := New(ledgertable.NewSerial(db), Options{Table: table})
	id := ObjectID("b", "k", "e:x")
	var wins, busy atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := l.Claim(ctx, id, time.Now().Add(time.Minute))
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, ErrBusy):
				busy.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || busy.Load() != 7 {
		t.Fatalf("%d wins, %d busy", wins.Load(), busy.Load())
	}
}

func TestObjectIDIsUnambiguous(t *testing.T) {
	if ObjectID("a/b", "c", "e:1") == ObjectID("a", "b/c", "e:1") {
		t.Fatal("ids collide")
	}
}

package ledger

// Tests that pin down behaviours the other tests of this package left open
// (issue 19: each was a mutant of the code that no test noticed). They run
// on a recording fake of the table, without moto_server.

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// recordingDB answers every UpdateItem as applied, with the item its
// values describe, and GetItem with item.
type recordingDB struct {
	updates []*dynamodb.UpdateItemInput
	gets    []*dynamodb.GetItemInput
	item    map[string]types.AttributeValue
	err     error
}

func (d *recordingDB) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	d.updates = append(d.updates, in)
	v := in.ExpressionAttributeValues
	attrs := map[string]types.AttributeValue{attrStatus: str(statusRunning), attrOwner: v[":tok"], attrAttempts: num(1), attrBatches: num(0)}
	if m, ok := v[":members"]; ok {
		attrs[attrMembers] = m
	}
	if p, ok := v[":pending"]; ok {
		attrs[attrPending] = p
	}
	return &dynamodb.UpdateItemOutput{Attributes: attrs}, nil
}

func (d *recordingDB) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	d.gets = append(d.gets, in)
	if d.err != nil {
		return nil, d.err
	}
	return &dynamodb.GetItemOutput{Item: d.item}, nil
}

func numValue(t *testing.T, v types.AttributeValue) int64 {
	t.Helper()
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("%T, want a number", v)
	}
	i, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// TestRetentionZeroIsTheDefault: an item expires Retention after its last
// write, DefaultRetention when Retention is zero or negative.
func TestRetentionZeroIsTheDefault(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		retention, want time.Duration
	}{{0, DefaultRetention}, {-time.Hour, DefaultRetention}, {time.Hour, time.Hour}, {time.Second, time.Second}} {
		db := &recordingDB{}
		l := New(db, Options{Table: "t", Retention: tc.retention, Now: func() time.Time { return now }})
		c, err := l.Claim(context.Background(), "id", now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Finish(context.Background(), "processed", 1); err != nil {
			t.Fatal(err)
		}
		for i, in := range db.updates {
			if got := numValue(t, in.ExpressionAttributeValues[":exp"]); got != now.Add(tc.want).Unix() {
				t.Errorf("retention %v, write %d: expires at %d, want %d", tc.retention, i, got, now.Add(tc.want).Unix())
			}
			if got := numValue(t, in.ExpressionAttributeValues[":now"]); got != now.UnixMilli() {
				t.Errorf("write %d: now %d, want %d", i, got, now.UnixMilli())
			}
			if *in.TableName != "t" {
				t.Errorf("table %q", *in.TableName)
			}
		}
	}
}

// TestDefaultClockAndTokens: without Now and Rand, the clock is the
// system's and claim tokens are random, 128 bits in hex.
func TestDefaultClockAndTokens(t *testing.T) {
	db := &recordingDB{}
	l := New(db, Options{Table: "t"})
	before := time.Now()
	for range 2 {
		if _, err := l.Claim(context.Background(), "id", before.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	after := time.Now()
	var toks []string
	for _, in := range db.updates {
		if at := numValue(t, in.ExpressionAttributeValues[":now"]); at < before.UnixMilli() || at > after.UnixMilli() {
			t.Errorf("now %d outside [%d, %d]", at, before.UnixMilli(), after.UnixMilli())
		}
		tok := in.ExpressionAttributeValues[":tok"].(*types.AttributeValueMemberS).Value
		if len(tok) != 32 || strings.Trim(tok, "0123456789abcdef") != "" {
			t.Errorf("token %q", tok)
		}
		toks = append(toks, tok)
	}
	if toks[0] == toks[1] {
		t.Error("two claims drew the same token")
	}
	id, err := l.NewBatchID()
	if err != nil || !strings.HasPrefix(id, BatchPrefix) || len(id) != len(BatchPrefix)+32 {
		t.Errorf("batch id %q, %v", id, err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestTokenFailureWritesNothing(t *testing.T) {
	db := &recordingDB{}
	l := New(db, Options{Table: "t", Rand: failingReader{}})
	if _, err := l.Claim(context.Background(), "id", time.Now()); err == nil {
		t.Error("a claim without a token")
	}
	if _, err := l.NewBatchID(); err == nil {
		t.Error("a batch id without randomness")
	}
	if len(db.updates) != 0 {
		t.Errorf("%d writes", len(db.updates))
	}
}

// TestInspect: an item read consistently and decoded field by field; none
// is nil; a failed read is an error.
func TestInspect(t *testing.T) {
	lease := time.Date(2026, 11, 20, 10, 5, 0, 0, time.UTC)
	db := &recordingDB{item: map[string]types.AttributeValue{
		AttrKey: str("id"), attrStatus: str(statusRunning), attrOutcome: str(""), attrBatches: num(3), attrAttempts: num(2),
		attrLease: num(lease.UnixMilli()),
	}}
	l := New(db, Options{Table: "t"})
	it, err := l.Inspect(context.Background(), "id")
	if err != nil || it == nil {
		t.Fatalf("Inspect: %+v, %v", it, err)
	}
	if it.ID != "id" || it.Done || it.Batches != 3 || it.Attempts != 2 || !it.LeaseUntil.Equal(lease) {
		t.Errorf("item %+v", it)
	}
	if in := db.gets[0]; in.ConsistentRead == nil || !*in.ConsistentRead || *in.TableName != "t" ||
		in.Key[AttrKey].(*types.AttributeValueMemberS).Value != "id" {
		t.Errorf("read %+v", in)
	}
	for at, live := range map[time.Time]bool{lease.Add(-time.Millisecond): true, lease: false, lease.Add(time.Second): false} {
		if it.Live(at) != live {
			t.Errorf("Live(%v) = %v, want %v", at, !live, live)
		}
	}
	db.item = map[string]types.AttributeValue{AttrKey: str("id"), attrStatus: str(statusDone), attrOutcome: str("failed"), attrBatches: num(1)}
	it, err = l.Inspect(context.Background(), "id")
	if err != nil || !it.Done || it.Outcome != "failed" || !it.LeaseUntil.IsZero() || it.Live(lease) {
		t.Errorf("done item %+v, %v", it, err)
	}
	db.item = map[string]types.AttributeValue{AttrKey: str("id"), attrStatus: str(statusRunning), attrLease: num(0)}
	if it, err = l.Inspect(context.Background(), "id"); err != nil || !it.LeaseUntil.IsZero() || it.Live(time.Unix(0, 0).Add(-time.Hour)) {
		t.Errorf("released item %+v, %v", it, err)
	}
	db.item = nil
	if it, err := l.Inspect(context.Background(), "id"); it != nil || err != nil {
		t.Errorf("no item: %+v, %v", it, err)
	}
	db.err = errors.New("throttled")
	if it, err := l.Inspect(context.Background(), "id"); it != nil || !errors.Is(err, db.err) {
		t.Errorf("failed read: %+v, %v", it, err)
	}
}

// TestBatchRecordCap: a batch record of exactly MaxBatchRecordBytes is
// written, one byte more is refused before any write, with or without a
// pending record.
func TestBatchRecordCap(t *testing.T) {
	members := []Member{{Bucket: "b", Key: "k", Identity: "e:1"}}
	packed, err := packMembers(members)
	if err != nil {
		t.Fatal(err)
	}
	pending := json.RawMessage(`{"findings":[]}`)
	packedPending, err := pack(pending)
	if err != nil {
		t.Fatal(err)
	}
	state := func(n int) json.RawMessage { // a JSON string of n bytes
		return json.RawMessage(`"` + strings.Repeat("s", n-2) + `"`)
	}
	for _, tc := range []struct {
		name    string
		state   json.RawMessage
		pending json.RawMessage
		ok      bool
	}{
		{"at the cap", state(MaxBatchRecordBytes - len(packed)), nil, true},
		{"a byte over", state(MaxBatchRecordBytes - len(packed) + 1), nil, false},
		{"at the cap with pending", state(MaxBatchRecordBytes - len(packed) - len(packedPending)), pending, true},
		{"a byte over with pending", state(MaxBatchRecordBytes - len(packed) - len(packedPending) + 1), pending, false},
	} {
		db := &recordingDB{}
		l := New(db, Options{Table: "t"})
		b, err := l.ClaimBatch(context.Background(), BatchPrefix+"x", time.Now(), BatchRecord{Members: members, State: tc.state, Pending: tc.pending})
		switch {
		case tc.ok && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.ok && (len(b.Record.Members) != 1 || string(b.Record.Pending) != string(tc.pending)):
			t.Errorf("%s: record %+v", tc.name, b.Record)
		case !tc.ok && (err == nil || len(db.updates) != 0):
			t.Errorf("%s: %v after %d writes, want refused before any", tc.name, err, len(db.updates))
		}
	}
}

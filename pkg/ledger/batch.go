package ledger

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognitrail/cognitrail/pkg/ledger/item"
)

// Attributes of a batch item.
const (
	attrMembers  = "members"  // gzipped JSON: []Member
	attrState    = "state"    // JSON: what the caller needs to aggregate the batch again
	attrComplete = "complete" // set once every datum of the batch is published
	attrPending  = "pending"  // gzipped, the caller's: what is still to send once published
	attrOutcomes = "outcomes" // JSON: the members' outcomes as the publishing attempt judged them
)

// BatchPrefix starts the key of a batch item (package item).
const BatchPrefix = item.BatchPrefix

// MaxBatchRecordBytes bounds a batch item's members and state: DynamoDB
// items are at most 400 KB.
const MaxBatchRecordBytes = 300_000

// MaxPendingBytes bounds a batch's pending record, before compression.
const MaxPendingBytes = 1 << 20

// ErrBatchGone is returned by ResumeBatch when the batch item does not
// exist (never written: the attempt that named it stopped before; or
// expired): the objects naming it are free to join another batch.
var ErrBatchGone = errors.New("ledger: batch item not found")

// Member is one object of a batch, with what reading it again needs.
type Member struct {
	Bucket    string `json:"b"`
	Key       string `json:"k"`
	Identity  string `json:"i"`
	VersionID string `json:"v,omitempty"`
	// EventTime is the notification's time: when a member is gone from S3
	// on a retry, its FilesFailed count is dated as the first time.
	EventTime time.Time `json:"t,omitzero"`
	// Outcome is the caller's judgement of the member when the batch was
	// written (empty: processed): a retry that finds the batch published
	// marks the members done without reading them again, and must record
	// a file that failed permanently as failed.
	Outcome string `json:"o,omitempty"`
}

// ID is the member's object item key.
func (m Member) ID() string { return ObjectID(m.Bucket, m.Key, m.Identity) }

// BatchRecord is what a batch item holds besides the claim.
type BatchRecord struct {
	// Members in the order they are aggregated.
	Members []Member
	// State is the caller's, opaque here (the aggregation's cut-off, the
	// series budget's decisions): a resumed batch must produce the same
	// datums, cut into the same batches.
	State json.RawMessage
	// Outcomes are the members' outcomes as the attempt that published
	// the batch judged them, where they differ from Members' (Published).
	Outcomes map[string]string
	// Pending is the caller's, opaque here, gzipped in the item: what a
	// retry must still do whatever it can read again (the findings to
	// notify), at most MaxPendingBytes.
	Pending json.RawMessage
}

// Has reports whether the object item id is a member.
func (r *BatchRecord) Has(id string) bool {
	for _, m := range r.Members {
		if m.ID() == id {
			return true
		}
	}
	return false
}

// NewBatchID returns the id of a new batch: random, so that it names
// nothing an earlier attempt wrote.
func (l *Ledger) NewBatchID() (string, error) {
	t, err := l.token()
	return BatchPrefix + t, err
}

// ClaimIn claims an object like Claim and, in the same write, names batch
// as the batch it is to be counted by, unless it names one already (an
// earlier attempt's): Claim.Batch says which. Naming is not membership:
// an object is a member only once the batch item lists it.
func (l *Ledger) ClaimIn(ctx context.Context, id, batch string, leaseUntil time.Time) (*Claim, error) {
	return l.claim(ctx, id, leaseUntil, ", #batch = if_not_exists(#batch, :batch)", condClaim,
		map[string]string{"#batch": attrBatch}, map[string]types.AttributeValue{":batch": str(batch)})
}

// BatchClaim is one invocation's hold on a batch item.
type BatchClaim struct {
	*Claim
	Record BatchRecord
	// Complete: every datum of the batch was published; what is left is
	// marking the members and the batch done.
	Complete bool
}

// ClaimBatch creates the item of the new batch id (NewBatchID), holding
// rec. It is a claim like an object's: Progress, Finish and Release apply.
func (l *Ledger) ClaimBatch(ctx context.Context, id string, leaseUntil time.Time, rec BatchRecord) (*BatchClaim, error) {
	members, err := packMembers(rec.Members)
	if err != nil {
		return nil, fmt.Errorf("ledger: batch %s: %w", id, err)
	}
	if n := len(members) + len(rec.State); n > MaxBatchRecordBytes {
		return nil, fmt.Errorf("ledger: batch %s: record of %d bytes, over %d", id, n, MaxBatchRecordBytes)
	}
	state := rec.State
	if len(state) == 0 {
		state = json.RawMessage("null")
	}
	set := ", #members = :members, #state = :state"
	names := map[string]string{"#members": attrMembers, "#state": attrState}
	values := map[string]types.AttributeValue{":members": &types.AttributeValueMemberB{Value: members}, ":state": str(string(state))}
	if len(rec.Pending) > 0 {
		packed, err := pack(rec.Pending)
		if err != nil {
			return nil, fmt.Errorf("ledger: batch %s: pending: %w", id, err)
		}
		if n := len(members) + len(rec.State) + len(packed); n > MaxBatchRecordBytes {
			return nil, fmt.Errorf("ledger: batch %s: record of %d bytes with its pending, over %d", id, n, MaxBatchRecordBytes)
		}
		set += ", #pending = :pending"
		names["#pending"] = attrPending
		values[":pending"] = &types.AttributeValueMemberB{Value: packed}
	}
	c, err := l.claim(ctx, id, leaseUntil, set, "attribute_not_exists(#pk)", names, values)
	if err != nil {
		return nil, err
	}
	if c.Done {
		return nil, fmt.Errorf("ledger: new batch %s exists", id)
	}
	return batchClaim(c)
}

// ResumeBatch claims the existing item of batch id, to finish what an
// earlier attempt started. A done batch is reported Done, with its record;
// a missing one with ErrBatchGone.
func (l *Ledger) ResumeBatch(ctx context.Context, id string, leaseUntil time.Time) (*BatchClaim, error) {
	c, err := l.claim(ctx, id, leaseUntil, "", condResume, nil, nil)
	if err != nil {
		return nil, err
	}
	return batchClaim(c)
}

func batchClaim(c *Claim) (*BatchClaim, error) {
	bc := &BatchClaim{Claim: c, Complete: intAttr(c.item, attrComplete) == 1}
	packed, _ := c.item[attrMembers].(*types.AttributeValueMemberB)
	if packed == nil {
		return nil, fmt.Errorf("ledger: batch %s: no members", c.ID)
	}
	var err error
	if bc.Record.Members, err = unpackMembers(packed.Value); err != nil {
		return nil, fmt.Errorf("ledger: batch %s: members: %w", c.ID, err)
	}
	if s := strAttr(c.item, attrState); s != "" && s != "null" {
		bc.Record.State = json.RawMessage(s)
	}
	if o := strAttr(c.item, attrOutcomes); o != "" {
		if err := json.Unmarshal([]byte(o), &bc.Record.Outcomes); err != nil {
			return nil, fmt.Errorf("ledger: batch %s: outcomes: %w", c.ID, err)
		}
	}
	if p, _ := c.item[attrPending].(*types.AttributeValueMemberB); p != nil {
		raw, err := unpack(p.Value)
		if err != nil {
			return nil, fmt.Errorf("ledger: batch %s: pending: %w", c.ID, err)
		}
		bc.Record.Pending = raw
	}
	return bc, nil
}

// Published records that all batches of the batch's datums are
// published: a retry only does what is left (the notifications, the
// members' marks).
//
// outcomes are the members' outcomes as the publishing attempt judged them
// (by member id; absent: processed), when they differ from the record's: a
// member gone since the batch was written was counted failed by the
// attempt that published, and a retry that finds the batch published must
// mark it so.
func (c *BatchClaim) Published(ctx context.Context, batches int, outcomes map[string]string) error {
	expr := "SET #batches = :n, #complete = :one, #upd = :now"
	names := map[string]string{"#batches": attrBatches, "#complete": attrComplete}
	values := map[string]types.AttributeValue{":n": num(int64(batches)), ":one": num(1)}
	if len(outcomes) > 0 {
		raw, err := json.Marshal(outcomes)
		if err != nil {
			return fmt.Errorf("ledger: batch %s: outcomes: %w", c.ID, err)
		}
		expr += ", #outcomes = :outcomes"
		names["#outcomes"] = attrOutcomes
		values[":outcomes"] = str(string(raw))
	}
	if err := c.update(ctx, expr, names, values); err != nil {
		return err
	}
	c.Record.Outcomes = outcomes
	return nil
}

// Join names batch as the claimed object's batch, in place of the one it
// named (gone, or done without it).
func (c *Claim) Join(ctx context.Context, batch string) error {
	if err := c.update(ctx, "SET #batch = :batch, #upd = :now",
		map[string]string{"#batch": attrBatch},
		map[string]types.AttributeValue{":batch": str(batch)}); err != nil {
		return err
	}
	c.Batch = batch
	return nil
}

// packMembers encodes members as gzipped JSON: their keys share long
// prefixes, and every write to the batch item (each progress step) costs a
// write unit per KB of the whole item.
func packMembers(ms []Member) ([]byte, error) {
	raw, err := json.Marshal(ms)
	if err != nil {
		return nil, err
	}
	return pack(raw)
}

// writers keeps gzip writers between packs: a new one allocates about
// 800 KB, many times a batch's member list.
var writers = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

func pack(raw []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := writers.Get().(*gzip.Writer)
	defer writers.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func unpackMembers(b []byte) ([]Member, error) {
	raw, err := unpack(b)
	if err != nil {
		return nil, err
	}
	var ms []Member
	return ms, json.Unmarshal(raw, &ms)
}

func unpack(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(zr, 64<<20))
}

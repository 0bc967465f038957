package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attributes of a batch item.
const (
	attrMembers  = "members"  // JSON: []Member
	attrState    = "state"    // JSON: what the caller needs to aggregate the batch again
	attrComplete = "complete" // set once every datum of the batch is published
)

// BatchPrefix starts the key of a batch item.
const BatchPrefix = "batch#"

// MaxBatchRecordBytes bounds a batch item's members and state: DynamoDB
// items are at most 400 KB.
const MaxBatchRecordBytes = 300_000

// ErrBatchGone is returned by ResumeBatch when the batch item does not
// exist (expired, or deleted by an operator): its members are then free.
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
}

// BatchID names the batch of these object item keys, in any order.
func BatchID(memberIDs []string) string {
	ids := slices.Sorted(slices.Values(memberIDs))
	sum := sha256.Sum256([]byte(strings.Join(ids, "\n")))
	return BatchPrefix + hex.EncodeToString(sum[:16])
}

// BatchClaim is one invocation's hold on a batch item.
type BatchClaim struct {
	*Claim
	Record BatchRecord
	// Complete: every datum of the batch was published; what is left is
	// marking the members and the batch done.
	Complete bool
}

// ClaimBatch creates (or takes over, when an earlier attempt crashed before
// any member joined it) the item of batch id, holding rec. It is a claim
// like an object's: Progress, Finish and Release apply.
func (l *Ledger) ClaimBatch(ctx context.Context, id string, leaseUntil time.Time, rec BatchRecord) (*BatchClaim, error) {
	members, err := json.Marshal(rec.Members)
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
	// Members join a batch before its first publish and never leave it
	// then: a published batch is only ever resumed, never claimed anew.
	c, err := l.claim(ctx, id, leaseUntil, ", #members = :members, #state = :state",
		" AND #batches = :zero AND attribute_not_exists(#complete)",
		map[string]string{"#members": attrMembers, "#state": attrState, "#complete": attrComplete},
		map[string]types.AttributeValue{":members": str(string(members)), ":state": str(string(state))})
	if err != nil {
		return nil, err
	}
	if c.Done {
		return &BatchClaim{Claim: c, Record: rec}, nil
	}
	return batchClaim(c)
}

// ResumeBatch claims the existing item of batch id, to finish what an
// earlier attempt started. A done batch is reported Done.
func (l *Ledger) ResumeBatch(ctx context.Context, id string, leaseUntil time.Time) (*BatchClaim, error) {
	c, err := l.claim(ctx, id, leaseUntil, "", "", nil, nil)
	if err != nil {
		return nil, err
	}
	if c.Done {
		return &BatchClaim{Claim: c}, nil
	}
	if _, ok := c.item[attrMembers]; !ok {
		// The claim created the item: there was none. Give it up at once.
		rerr := c.Finish(ctx, "gone", 0)
		return nil, errors.Join(fmt.Errorf("%w: %s", ErrBatchGone, id), rerr)
	}
	return batchClaim(c)
}

func batchClaim(c *Claim) (*BatchClaim, error) {
	bc := &BatchClaim{Claim: c, Complete: intAttr(c.item, attrComplete) == 1}
	if err := json.Unmarshal([]byte(strAttr(c.item, attrMembers)), &bc.Record.Members); err != nil {
		return nil, fmt.Errorf("ledger: batch %s: members: %w", c.ID, err)
	}
	if s := strAttr(c.item, attrState); s != "" && s != "null" {
		bc.Record.State = json.RawMessage(s)
	}
	return bc, nil
}

// Published records that all batches of the batch's datums are
// published: a retry only marks the members done.
func (c *BatchClaim) Published(ctx context.Context, batches int) error {
	return c.update(ctx, "SET #batches = :n, #complete = :one, #upd = :now",
		map[string]string{"#batches": attrBatches, "#complete": attrComplete},
		map[string]types.AttributeValue{":n": num(int64(batches)), ":one": num(1)})
}

// Join marks the claimed object a member of batch: from now on it is
// counted only by that batch, whichever invocation finishes it.
func (c *Claim) Join(ctx context.Context, batch string) error {
	if err := c.update(ctx, "SET #batch = :batch, #upd = :now",
		map[string]string{"#batch": attrBatch},
		map[string]types.AttributeValue{":batch": str(batch)}); err != nil {
		return err
	}
	c.Batch = batch
	return nil
}

// Leave undoes Join for a batch that was never published (Resume 0) and
// cannot be resumed as it was recorded (one of its members was counted by
// another batch): the object is free to join another batch.
func (c *Claim) Leave(ctx context.Context) error {
	if err := c.update(ctx, "SET #upd = :now REMOVE #batch",
		map[string]string{"#batch": attrBatch}, map[string]types.AttributeValue{}); err != nil {
		return err
	}
	c.Batch = ""
	return nil
}

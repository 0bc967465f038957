package ledger

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognitrail/cognitrail/pkg/ledger/item"
)

// Attribute names of the table's items.
const (
	// AttrKey and AttrExpiresAt are package item's, for the ledger's
	// callers that read its items.
	AttrKey       = item.AttrKey
	AttrExpiresAt = item.AttrExpiresAt
	attrStatus    = "status"
	attrOwner     = "owner"
	attrLease     = "leaseUntil" // Unix milliseconds
	attrBatches   = "batches"
	attrAttempts  = "attempts"
	attrOutcome   = "outcome"
	attrUpdated   = "updatedAt"
	// attrBatch, on an object's item, names the buffered batch the object
	// was joined to (see batch.go).
	attrBatch = "batch"
	// attrAfter is the caller's encoding of the last datum published (its
	// sort key): a retry resumes after it. attrBatches is then a count for
	// the logs; on an item without attrAfter (written by a version that
	// counted batches only) it is still where a retry resumes.
	attrAfter = "after"
	// attrInputs is the caller's record of what decided the datums besides
	// the object (the age cut, the app client pairs used), written with the
	// first progress and reused by every retry.
	attrInputs = "inputs"
)

const (
	statusRunning = "running"
	statusDone    = "done"
)

// The attributes and value that package ledgeradmin's conditions name.
const (
	AttrStatus  = attrStatus
	AttrLease   = attrLease
	AttrBatches = attrBatches
	StatusDone  = statusDone
)

// Defaults for Options.
const (
	// DefaultRetention is how long an item is kept after its last write: past
	// SQS's longest retention (14 days) and Lambda's longest async retry
	// window, so any duplicate delivery still finds it.
	DefaultRetention = 30 * 24 * time.Hour
)

// ErrBusy is returned by Claim when another invocation holds a live lease on
// the object. It is transient: retry later.
var ErrBusy = errors.New("ledger: object is being processed by another invocation")

// ErrLeaseLost is returned when the claim was taken over (its lease had
// expired): the caller must stop publishing.
var ErrLeaseLost = errors.New("ledger: claim lost to another invocation")

// API is the part of the DynamoDB client the ledger uses.
type API interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// Options configure a Ledger.
type Options struct {
	// Table is the DynamoDB table name (required).
	Table string
	// Retention: zero means DefaultRetention.
	Retention time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand is where claim tokens and batch ids come from; nil means
	// crypto/rand. A simulation sets a seeded one, so that a run replays.
	Rand io.Reader
}

// Ledger records which objects were processed.
type Ledger struct {
	api  API
	opts Options
}

// New returns a Ledger on api (a *dynamodb.Client, built once).
func New(api API, opts Options) *Ledger {
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	return &Ledger{api: api, opts: opts}
}

// Claim is one invocation's hold on an object.
type Claim struct {
	// ID is the item's key.
	ID string
	// Done: the object was processed before; nothing else to do.
	Done bool
	// Outcome is the recorded outcome of a Done object.
	Outcome string
	// Resume is the number of batches already published by earlier attempts.
	Resume int
	// After is what Advance last recorded as the last datum published
	// (opaque here), "" when nothing was, or when only a count was recorded
	// (Progress, or an item of an earlier version): Resume alone then says
	// where to resume.
	After string
	// Inputs is what Advance recorded of the inputs that decided the
	// datums, "" when none: a retry reuses them instead of judging again.
	Inputs string
	// Attempt counts claims of this object, this one included.
	Attempt int
	// Batch is the buffered batch an earlier attempt joined the object to
	// (Claim.Join), "" when none: the object is then counted only by
	// resuming that batch (see batch.go).
	Batch string
	token string
	l     *Ledger
	// item is the item as the claim wrote it.
	item map[string]types.AttributeValue
}

// Claim takes the object id until leaseUntil (after which another
// invocation may take it over).
func (l *Ledger) Claim(ctx context.Context, id string, leaseUntil time.Time) (*Claim, error) {
	return l.claim(ctx, id, leaseUntil, "", condClaim, nil, nil)
}

// Conditions of a claim: condClaim takes an object that has no item or
// whose item is neither done nor held; condResume only an existing item.
const (
	condClaim  = "attribute_not_exists(#pk) OR (#st <> :done AND #lease < :now)"
	condResume = "attribute_exists(#pk) AND #st <> :done AND #lease < :now"
)

// claim is Claim on condition cond, setting also set (", #a = :a, ..."
// with its names and values) in the same conditional write.
func (l *Ledger) claim(ctx context.Context, id string, leaseUntil time.Time, set, cond string,
	names map[string]string, values map[string]types.AttributeValue) (*Claim, error) {
	tok, err := l.token()
	if err != nil {
		return nil, err
	}
	now := l.opts.Now()
	allNames := map[string]string{
		"#pk": AttrKey, "#st": attrStatus, "#owner": attrOwner, "#lease": attrLease,
		"#exp": AttrExpiresAt, "#upd": attrUpdated, "#batches": attrBatches, "#attempts": attrAttempts,
	}
	allValues := map[string]types.AttributeValue{
		":running": str(statusRunning), ":done": str(statusDone), ":tok": str(tok),
		":lease": num(leaseUntil.UnixMilli()), ":now": num(now.UnixMilli()),
		":exp": num(now.Add(l.opts.Retention).Unix()), ":zero": num(0), ":one": num(1),
	}
	maps.Copy(allNames, names)
	maps.Copy(allValues, values)
	if !strings.Contains(cond, ":done") {
		// DynamoDB refuses values an expression does not use.
		delete(allValues, ":done")
	}
	out, err := l.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(l.opts.Table),
		Key:       key(id),
		UpdateExpression: aws.String("SET #st = :running, #owner = :tok, #lease = :lease, #exp = :exp, #upd = :now, " +
			"#batches = if_not_exists(#batches, :zero), #attempts = if_not_exists(#attempts, :zero) + :one" + set),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  allNames,
		ExpressionAttributeValues: allValues,
		ReturnValues:              types.ReturnValueAllNew,
		// A failed condition answers with the item that failed it: no
		// second read to tell done from held from our own write.
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		item, ok := conditionFailedItem(err)
		if !ok {
			return nil, fmt.Errorf("ledger: claim %s: %w", id, err)
		}
		if strAttr(item, attrOwner) == tok && strAttr(item, attrStatus) == statusRunning {
			// Our own claim: it applied, its answer was lost, and the SDK's
			// retry met it. Not "held by another invocation".
			return l.claimed(id, tok, item), nil
		}
		return l.held(id, item)
	}
	return l.claimed(id, tok, out.Attributes), nil
}

// claimed is the Claim an applied claim write holds.
func (l *Ledger) claimed(id, tok string, item map[string]types.AttributeValue) *Claim {
	c := &Claim{ID: id, token: tok, l: l, item: item}
	c.Resume = intAttr(item, attrBatches)
	c.Attempt = intAttr(item, attrAttempts)
	c.Batch = strAttr(item, attrBatch)
	c.After = strAttr(item, attrAfter)
	c.Inputs = strAttr(item, attrInputs)
	return c
}

// held tells a done object from one another invocation holds, from the
// item a claim's condition failed on.
func (l *Ledger) held(id string, item map[string]types.AttributeValue) (*Claim, error) {
	if len(item) == 0 {
		// Only a resume's condition fails on a missing item.
		return nil, fmt.Errorf("%w: %s", ErrBatchGone, id)
	}
	if strAttr(item, attrStatus) == statusDone {
		return &Claim{ID: id, Done: true, Outcome: strAttr(item, attrOutcome), Resume: intAttr(item, attrBatches),
			l: l, item: item}, nil
	}
	until := time.UnixMilli(int64(intAttr(item, attrLease)))
	return nil, fmt.Errorf("%w (%s, lease until %s)", ErrBusy, id, until.UTC().Format(time.RFC3339))
}

// Item is what the ledger holds about one object version.
type Item struct {
	ID string
	// Done: the object is marked processed (or permanently failed), with
	// Outcome.
	Done    bool
	Outcome string
	// Batches is how many of its batches are published; Attempts how many
	// times it was claimed.
	Batches  int
	Attempts int
	// LeaseUntil is the running claim's lease (zero when released or done).
	LeaseUntil time.Time
}

// Live reports whether an invocation may still be processing the object.
func (it *Item) Live(now time.Time) bool {
	return !it.Done && it.LeaseUntil.After(now)
}

// Inspect reads the item of id (consistently); nil when there is none.
func (l *Ledger) Inspect(ctx context.Context, id string) (*Item, error) {
	item, err := l.read(ctx, id)
	if err != nil || len(item) == 0 {
		return nil, err
	}
	return ItemFrom(id, item), nil
}

// read reads the item of id consistently: what a claim decides from must
// include the last write of any invocation. An empty map means none.
func (l *Ledger) read(ctx context.Context, id string) (map[string]types.AttributeValue, error) {
	out, err := l.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(l.opts.Table),
		Key:            key(id),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("ledger: read %s: %w", id, err)
	}
	return out.Item, nil
}

// ItemFrom decodes a table item.
func ItemFrom(id string, item map[string]types.AttributeValue) *Item {
	it := &Item{
		ID: id, Done: strAttr(item, attrStatus) == statusDone, Outcome: strAttr(item, attrOutcome),
		Batches: intAttr(item, attrBatches), Attempts: intAttr(item, attrAttempts),
	}
	if ms := intAttr(item, attrLease); ms > 0 {
		it.LeaseUntil = time.UnixMilli(int64(ms))
	}
	return it
}

// Progress records that batches batches of the object are published.
func (c *Claim) Progress(ctx context.Context, batches int) error {
	return c.update(ctx, "SET #batches = :n, #upd = :now",
		map[string]string{"#batches": attrBatches},
		map[string]types.AttributeValue{":n": num(int64(batches))})
}

// Advance records that batches batches of the object are published, the
// last datum of them being after (the caller's encoding of its sort key),
// and, when inputs is not "", what decided the datums (written with the
// first progress, in the same write: the record never names datums that
// other inputs produced). A later claim returns them as Resume, After and
// Inputs.
func (c *Claim) Advance(ctx context.Context, batches int, after, inputs string) error {
	expr := "SET #batches = :n, #after = :after, #upd = :now"
	names := map[string]string{"#batches": attrBatches, "#after": attrAfter}
	values := map[string]types.AttributeValue{":n": num(int64(batches)), ":after": str(after)}
	if inputs != "" {
		expr += ", #inputs = :inputs"
		names["#inputs"] = attrInputs
		values[":inputs"] = str(inputs)
	}
	if err := c.update(ctx, expr, names, values); err != nil {
		return err
	}
	c.After = after
	if inputs != "" {
		c.Inputs = inputs
	}
	return nil
}

// Finish marks the object done with outcome (processed, failed, skipped).
func (c *Claim) Finish(ctx context.Context, outcome string, batches int) error {
	return c.write(ctx, true, "SET #st = :done, #outcome = :outcome, #batches = :n, #exp = :exp, #upd = :now REMOVE #lease",
		map[string]string{"#outcome": attrOutcome, "#batches": attrBatches, "#exp": AttrExpiresAt, "#lease": attrLease},
		map[string]types.AttributeValue{
			":done": str(statusDone), ":outcome": str(outcome), ":n": num(int64(batches)),
			":exp": num(c.l.opts.Now().Add(c.l.opts.Retention).Unix()),
		})
}

// Release gives the lease up, so a retry can claim the object at once.
func (c *Claim) Release(ctx context.Context) error {
	err := c.update(ctx, "SET #lease = :zero, #upd = :now",
		map[string]string{"#lease": attrLease},
		map[string]types.AttributeValue{":zero": num(0)})
	if errors.Is(err, ErrLeaseLost) {
		return nil
	}
	return err
}

// update writes expr if the claim still holds; names and values are the
// expression's own placeholders (DynamoDB rejects unused ones).
func (c *Claim) update(ctx context.Context, expr string, names map[string]string, values map[string]types.AttributeValue) error {
	return c.write(ctx, false, expr, names, values)
}

// write is update; finish says the write marks the item done, which its
// own retry, after a lost answer, finds so.
func (c *Claim) write(ctx context.Context, finish bool, expr string, names map[string]string, values map[string]types.AttributeValue) error {
	if c.Done {
		return nil
	}
	values[":tok"] = str(c.token)
	values[":running"] = str(statusRunning)
	values[":now"] = num(c.l.opts.Now().UnixMilli())
	names["#owner"], names["#st"], names["#upd"] = attrOwner, attrStatus, attrUpdated
	_, err := c.l.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           aws.String(c.l.opts.Table),
		Key:                                 key(c.ID),
		UpdateExpression:                    aws.String(expr),
		ConditionExpression:                 aws.String("#owner = :tok AND #st = :running"),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		if item, ok := conditionFailedItem(err); ok {
			if finish && strAttr(item, attrOwner) == c.token && strAttr(item, attrStatus) == statusDone {
				// Our own Finish: it applied, its answer was lost, and the
				// SDK's retry met the done item. (Every other write keeps
				// the condition true for its own retry.)
				return nil
			}
			return fmt.Errorf("%w (%s)", ErrLeaseLost, c.ID)
		}
		if finish {
			// The answer is unknown (every retry of the SDK failed): the
			// write may have applied. A read tells, so that a done object
			// is not reported failed, which would leave its retry to skip
			// it and its event lines unwritten.
			if item, rerr := c.l.read(ctx, c.ID); rerr == nil &&
				strAttr(item, attrOwner) == c.token && strAttr(item, attrStatus) == statusDone {
				return nil
			}
		}
		return fmt.Errorf("ledger: update %s: %w", c.ID, err)
	}
	return nil
}

func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

func key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrKey: str(id)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func strAttr(item map[string]types.AttributeValue, k string) string {
	if v, ok := item[k].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func intAttr(item map[string]types.AttributeValue, k string) int {
	if v, ok := item[k].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return int(n)
	}
	return 0
}

func (l *Ledger) token() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(l.opts.Rand, b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// ObjectID is the item key of one object version: bucket, key and identity
// (see notification.Object.Identity) joined unambiguously.
func ObjectID(bucket, key, identity string) string {
	return strconv.Quote(bucket) + "/" + strconv.Quote(key) + "/" + identity
}

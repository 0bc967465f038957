package budget

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognitrail/cognitrail/pkg/ledger/item"
)

// KeyPrefix starts the key of a month's item of one dimension:
// "series#<month>#<dimension>" (package item holds every kind apart).
const KeyPrefix = item.SeriesPrefix

// Attribute names of a budget item; the key and TTL attributes are the
// table's (package item).
const (
	attrKey       = item.AttrKey
	attrExpiresAt = item.AttrExpiresAt
	attrValues    = "values" // string set of the admitted values (StoredValue)
	attrLimit     = "limit"  // the month's bound, fixed by the first admission
)

// Retention is how long after the end of its month a budget item is kept:
// past the two weeks CloudWatch accepts datums for (records older are not
// aggregated, so never asked about), and the ledger's 30 days in which a
// file may be resumed.
const Retention = 40 * 24 * time.Hour

// MaxDynamoLimit is the largest bound the DynamoDB budget takes: the values
// of a month live in one item, at most 400 KB, and a stored value is at most
// maxStoredBytes bytes.
const MaxDynamoLimit = 5000

// maxStoredBytes: longer values (and empty or invalid UTF-8 ones, which a
// string set cannot hold) are stored as a hash. Identity pool ids, the
// longest real values, are 46 bytes.
const maxStoredBytes = 64

// maxRounds bounds the conditional writes of one Admit: each lost race
// means another environment admitted values, so few are ever needed.
const maxRounds = 20

// DynamoAPI is the part of the DynamoDB client Dynamo uses: the calls the
// ledger makes already, which the function's role grants.
type DynamoAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Dynamo is a Budget in the ledger table, shared by every execution
// environment: see the package doc for the protocol. It is safe for
// concurrent use; build one per execution environment, as its cache is what
// keeps a file's DynamoDB requests at zero once the values are known.
type Dynamo struct {
	api   DynamoAPI
	table string
	limit int

	mu    sync.Mutex
	cache map[monthDim]*entry
}

type monthDim struct{ month, dim string }

// entry is what this environment knows of a month's item. Both facts are
// monotonic, so they never go stale: a value in set stays admitted, and a
// full set never takes another value.
type entry struct {
	mu     sync.Mutex // held across the requests for this month and dimension
	loaded bool
	set    map[string]bool // stored values
	limit  int             // the item's; 0 until read or written
}

func (e *entry) full() bool { return e.limit > 0 && len(e.set) >= e.limit }

// NewDynamo returns a budget of limit values per dimension and month in
// table (the ledger table); limit must be 1 to MaxDynamoLimit.
func NewDynamo(api DynamoAPI, table string, limit int) (*Dynamo, error) {
	if limit <= 0 || limit > MaxDynamoLimit {
		return nil, fmt.Errorf("budget: %d values per dimension and month: want 1 to %d with the ledger table", limit, MaxDynamoLimit)
	}
	return &Dynamo{api: api, table: table, limit: limit, cache: map[monthDim]*entry{}}, nil
}

// StoredValue is how value is kept in the item's set: itself, or "#" and a
// SHA-256 prefix when it is long, empty or not UTF-8.
func StoredValue(value string) string {
	if value != "" && len(value) <= maxStoredBytes && utf8.ValidString(value) {
		return value
	}
	sum := sha256.Sum256([]byte(value))
	return "#" + hex.EncodeToString(sum[:16])
}

// ItemKey is the key of the item holding month's values of dimension.
func ItemKey(month, dimension string) string { return KeyPrefix + month + "#" + dimension }

// Admit implements Budget.
func (d *Dynamo) Admit(ctx context.Context, month, dimension string, values []string) (map[string]bool, error) {
	d.mu.Lock()
	e := d.cache[monthDim{month, dimension}]
	if e == nil {
		e = &entry{set: map[string]bool{}}
		d.cache[monthDim{month, dimension}] = e
	}
	d.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	stored := make([]string, len(values))
	for i, v := range values {
		stored[i] = StoredValue(v)
	}
	if err := d.settle(ctx, e, month, dimension, stored); err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(values))
	for i, v := range values {
		out[v] = e.set[stored[i]]
	}
	return out, nil
}

// settle brings e to a state that decides every value: each is in the set,
// or the set is full. Only the item's state is ever used to decide, never
// this environment's guess, so every environment decides alike.
func (d *Dynamo) settle(ctx context.Context, e *entry, month, dim string, stored []string) error {
	for round := 0; ; round++ {
		var fresh []string
		seen := map[string]bool{}
		for _, s := range stored {
			if !e.set[s] && !seen[s] {
				seen[s] = true
				fresh = append(fresh, s)
			}
		}
		if len(fresh) == 0 || e.full() {
			return nil
		}
		if round == maxRounds {
			return fmt.Errorf("budget: %s: still contended after %d writes", ItemKey(month, dim), maxRounds)
		}
		if !e.loaded {
			// A cold environment reads first: most files bring only values
			// admitted already, and a read is cheaper than a write.
			if err := d.read(ctx, e, month, dim); err != nil {
				return err
			}
			continue
		}
		limit := e.limit
		if limit == 0 {
			limit = d.limit
		}
		room := limit - len(e.set)
		if len(fresh) > room {
			// The busiest first: values are asked in order of preference.
			fresh = fresh[:room]
		}
		ok, err := d.add(ctx, e, month, dim, fresh, limit)
		if err != nil {
			return err
		}
		if !ok {
			// Another environment wrote the item since it was read.
			if err := d.read(ctx, e, month, dim); err != nil {
				return err
			}
		}
	}
}

// read loads the item with a consistent read: a value admitted by an
// admission that returned must be seen.
func (d *Dynamo) read(ctx context.Context, e *entry, month, dim string) error {
	k := ItemKey(month, dim)
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(d.table),
		Key:            map[string]types.AttributeValue{attrKey: &types.AttributeValueMemberS{Value: k}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("budget: read %s: %w", k, err)
	}
	e.loaded = true
	e.merge(out.Item)
	return nil
}

// add admits fresh into the item if the set, with them, stays within the
// bound: false when the condition failed (the item changed since read).
// The first admission of a month creates the item and fixes its bound.
func (d *Dynamo) add(ctx context.Context, e *entry, month, dim string, fresh []string, limit int) (bool, error) {
	k := ItemKey(month, dim)
	in := &dynamodb.UpdateItemInput{
		TableName:        aws.String(d.table),
		Key:              map[string]types.AttributeValue{attrKey: &types.AttributeValueMemberS{Value: k}},
		UpdateExpression: aws.String("ADD #vals :fresh SET #lim = if_not_exists(#lim, :lim), #exp = if_not_exists(#exp, :exp)"),
		ExpressionAttributeNames: map[string]string{
			"#vals": attrValues, "#lim": attrLimit, "#exp": attrExpiresAt,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":fresh": &types.AttributeValueMemberSS{Value: fresh},
			":lim":   num(int64(limit)),
			":exp":   num(expiresAt(month)),
		},
		ReturnValues: types.ReturnValueAllNew,
	}
	if e.limit == 0 {
		// No item when last read: create it, unless one was created since.
		in.ConditionExpression = aws.String("attribute_not_exists(#pk)")
		in.ExpressionAttributeNames["#pk"] = attrKey
	} else {
		// The set grows by len(fresh) at most (some may be in it already).
		in.ConditionExpression = aws.String("size(#vals) <= :max")
		in.ExpressionAttributeValues[":max"] = num(int64(limit - len(fresh)))
	}
	out, err := d.api.UpdateItem(ctx, in)
	if err != nil {
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return false, nil
		}
		return false, fmt.Errorf("budget: admit into %s: %w", k, err)
	}
	e.merge(out.Attributes)
	return true, nil
}

func (e *entry) merge(item map[string]types.AttributeValue) {
	if v, ok := item[attrValues].(*types.AttributeValueMemberSS); ok {
		for _, s := range v.Value {
			e.set[s] = true
		}
	}
	if v, ok := item[attrLimit].(*types.AttributeValueMemberN); ok {
		if n, err := strconv.Atoi(v.Value); err == nil && n > 0 {
			e.limit = n
		}
	}
}

// expiresAt is the TTL of month's items: Retention after the month ends.
func expiresAt(month string) int64 {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		// Months come from aggregate as "2006-01"; keep anything else a
		// month and a Retention from now rather than for ever.
		return time.Now().Add(31*24*time.Hour + Retention).Unix()
	}
	return t.AddDate(0, 1, 0).Add(Retention).Unix()
}

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

var _ Budget = (*Dynamo)(nil)

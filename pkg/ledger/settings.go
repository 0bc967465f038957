package ledger

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/ledger/item"
)

// SettingPrefix starts the key of a setting item (package item), followed
// by the finding.State key.
const SettingPrefix = item.SettingPrefix

// DefaultSettingRetention is how long a setting's history is kept after its
// last write. A pool whose configuration is not written for longer is
// judged as new once more (previous "unknown"): one finding per setting and
// year at most.
const DefaultSettingRetention = 400 * 24 * time.Hour

// WindowRetention is how long a window subject's counts (finding.WindowKey)
// are kept after their last write: a file delivered or retried within a
// day still counts in its window, and a botnet's subjects leave the table
// within days (DynamoDB's TTL) instead of a year.
const WindowRetention = 24 * time.Hour

// Attributes of a setting item: the newest value (for a reader of the
// table; items written before the history was kept have only this), the
// history (a list of maps, oldest first) and the version every write
// increments and is conditional on.
const (
	attrValue   = "value"
	attrHistory = "history"
	attrVersion = "version"
	// in an entry of the history
	attrEntryTime  = "t"
	attrEntryID    = "id"
	attrEntryValue = "v"
)

// maxSettingWrites bounds the read-merge-write rounds of one setting in
// Put. A round fails only when another writer changed the item since it
// was read (or the SDK's retry met this round's own write, which the next
// round reads as done), so it takes that many concurrent writers of one
// setting to exhaust it; the file's findings are kept and the error says
// the state was not saved.
const maxSettingWrites = 10

// Settings is a finding.State in the ledger table: each watched setting's
// history outlives the execution environment, so a restated setting is not
// raised again after a cold start, and a file processed late is judged
// against the value as of its records' time. It is safe for concurrent
// use, across execution environments too: a write merges its entries into
// what it read and is conditional on the item's version, so two writers
// never lose each other's entries and the newest value never moves back.
type Settings struct {
	api       API
	table     string
	retention time.Duration
	now       func() time.Time
}

// NewSettings returns the setting store in opts.Table (Retention zero means
// DefaultSettingRetention).
func NewSettings(api API, opts Options) *Settings {
	s := &Settings{api: api, table: opts.Table, retention: opts.Retention, now: opts.Now}
	if s.retention <= 0 {
		s.retention = DefaultSettingRetention
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Get implements finding.State.
func (s *Settings) Get(ctx context.Context, key string) ([]finding.Entry, error) {
	return s.get(ctx, key)
}

// Put implements finding.State.
func (s *Settings) Put(ctx context.Context, entries map[string][]finding.Entry) error {
	return s.put(ctx, entries)
}

func (s *Settings) get(ctx context.Context, k string) ([]finding.Entry, error) {
	h, _, err := s.read(ctx, k)
	return h, err
}

// read returns the kept history of k and the item's version (0: no item,
// or one written before versions).
func (s *Settings) read(ctx context.Context, k string) ([]finding.Entry, int, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table),
		Key:       key(SettingPrefix + k),
		// A setting written by an invocation that just finished must be
		// seen, or it is raised again.
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, 0, fmt.Errorf("ledger: read setting %s: %w", k, err)
	}
	version := intAttr(out.Item, attrVersion)
	// DynamoDB deletes expired items within days, not at once.
	if exp := intAttr(out.Item, AttrExpiresAt); exp != 0 && int64(exp) < s.now().Unix() {
		return nil, version, nil
	}
	h, err := decodeHistory(out.Item)
	if err != nil {
		return nil, 0, fmt.Errorf("ledger: read setting %s: %w", k, err)
	}
	return h, version, nil
}

// decodeHistory reads an item's history. An item with a value and no
// history (written before it was kept) is one entry older than any record.
func decodeHistory(item map[string]types.AttributeValue) ([]finding.Entry, error) {
	l, ok := item[attrHistory].(*types.AttributeValueMemberL)
	if !ok {
		if v, ok := item[attrValue].(*types.AttributeValueMemberS); ok {
			return []finding.Entry{{Value: v.Value}}, nil
		}
		return nil, nil
	}
	h := make([]finding.Entry, 0, len(l.Value))
	for _, av := range l.Value {
		m, ok := av.(*types.AttributeValueMemberM)
		if !ok {
			return nil, errors.New("malformed history entry")
		}
		at, err := time.Parse(time.RFC3339Nano, strAttr(m.Value, attrEntryTime))
		if err != nil {
			return nil, fmt.Errorf("history entry time: %w", err)
		}
		h = append(h, finding.Entry{Time: at, EventID: strAttr(m.Value, attrEntryID), Value: strAttr(m.Value, attrEntryValue)})
	}
	return h, nil
}

func encodeHistory(h []finding.Entry) types.AttributeValue {
	l := make([]types.AttributeValue, len(h))
	for i, e := range h {
		l[i] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			attrEntryTime:  str(e.Time.UTC().Format(time.RFC3339Nano)),
			attrEntryID:    str(e.EventID),
			attrEntryValue: str(e.Value),
		}}
	}
	return &types.AttributeValueMemberL{Value: l}
}

// put merges each setting's entries into its item, one setting at a time:
// settings change rarely, a few items per file at most.
func (s *Settings) put(ctx context.Context, entries map[string][]finding.Entry) error {
	for _, k := range slices.Sorted(maps.Keys(entries)) {
		if err := s.merge(ctx, k, entries[k]); err != nil {
			return err
		}
	}
	return nil
}

// merge reads k's item, merges add into its history (finding.Merge) and
// writes the result on the condition that the version is still the one
// read. A failed condition means another writer came first, or the SDK
// retried this write after DynamoDB applied it and its answer was lost:
// either way the next round reads the item again, and finds add merged
// already (nothing to write: done) or merges into the other writer's
// history. Entries older than all the history keeps change nothing either.
func (s *Settings) merge(ctx context.Context, k string, add []finding.Entry) error {
	for range maxSettingWrites {
		h, version, err := s.read(ctx, k)
		if err != nil {
			return err
		}
		merged, changed := finding.Merge(h, add)
		if !changed {
			return nil
		}
		newest, _ := finding.Newest(merged)
		retention := s.retention
		if finding.WindowKey(k) {
			retention = min(retention, WindowRetention)
		}
		cond := "attribute_not_exists(#ver)"
		values := map[string]types.AttributeValue{
			":v": str(newest.Value), ":h": encodeHistory(merged), ":next": num(int64(version) + 1),
			":exp": num(s.now().Add(retention).Unix()),
		}
		if version != 0 {
			cond = "#ver = :ver"
			values[":ver"] = num(int64(version))
		}
		_, err = s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(s.table),
			Key:                       key(SettingPrefix + k),
			UpdateExpression:          aws.String("SET #v = :v, #h = :h, #ver = :next, #exp = :exp"),
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeNames:  map[string]string{"#v": attrValue, "#h": attrHistory, "#ver": attrVersion, "#exp": AttrExpiresAt},
			ExpressionAttributeValues: values,
		})
		if err == nil {
			return nil
		}
		if !conditionFailed(err) {
			return fmt.Errorf("ledger: write setting %s: %w", k, err)
		}
	}
	return fmt.Errorf("ledger: write setting %s: changed by other writers %d times in a row", k, maxSettingWrites)
}

var _ finding.State = (*Settings)(nil)

package ledger

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognitrail/cognitrail/pkg/finding"
)

// SettingPrefix starts the key of a setting item ("setting#" + the
// finding.State key), so that settings never collide with object items
// (quoted bucket first) or the app client cache ("client#").
const SettingPrefix = "setting#"

// DefaultSettingRetention is how long a setting's last seen value is kept
// after its last write. A pool whose configuration is not written for longer
// is judged as new once more (previous "unknown"): one finding per setting
// and year at most.
const DefaultSettingRetention = 400 * 24 * time.Hour

const attrValue = "value"

// Settings is a finding.State in the ledger table: the last seen value of
// each watched setting outlives the execution environment, so a restated
// setting is not raised again after a cold start. It is safe for concurrent
// use; two invocations writing the same setting at once keep the last
// write, which is what either would have seen next.
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

// WithContext implements finding.ContextState.
func (s *Settings) WithContext(ctx context.Context) finding.State { return boundSettings{s, ctx} }

// Get implements finding.State with a background context.
func (s *Settings) Get(key string) (string, bool, error) { return s.get(context.Background(), key) }

// Put implements finding.State with a background context.
func (s *Settings) Put(values map[string]string) error { return s.put(context.Background(), values) }

type boundSettings struct {
	s   *Settings
	ctx context.Context
}

func (b boundSettings) Get(key string) (string, bool, error) { return b.s.get(b.ctx, key) }
func (b boundSettings) Put(values map[string]string) error   { return b.s.put(b.ctx, values) }

func (s *Settings) get(ctx context.Context, k string) (string, bool, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table),
		Key:       key(SettingPrefix + k),
		// A setting written by an invocation that just finished must be
		// seen, or it is raised again.
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return "", false, fmt.Errorf("ledger: read setting %s: %w", k, err)
	}
	v, ok := out.Item[attrValue].(*types.AttributeValueMemberS)
	if !ok {
		return "", false, nil
	}
	// DynamoDB deletes expired items within days, not at once.
	if exp := intAttr(out.Item, AttrExpiresAt); exp != 0 && int64(exp) < s.now().Unix() {
		return "", false, nil
	}
	return v.Value, true, nil
}

// put writes each value with UpdateItem, the ledger's own call: settings
// change rarely, a few items per file at most.
func (s *Settings) put(ctx context.Context, values map[string]string) error {
	exp := num(s.now().Add(s.retention).Unix())
	for _, k := range slices.Sorted(maps.Keys(values)) {
		_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(s.table),
			Key:                       key(SettingPrefix + k),
			UpdateExpression:          aws.String("SET #v = :v, #exp = :exp"),
			ExpressionAttributeNames:  map[string]string{"#v": attrValue, "#exp": AttrExpiresAt},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": str(values[k]), ":exp": exp},
		})
		if err != nil {
			return fmt.Errorf("ledger: write setting %s: %w", k, err)
		}
	}
	return nil
}

var _ finding.ContextState = (*Settings)(nil)

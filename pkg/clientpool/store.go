package clientpool

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognitrail/cognitrail/pkg/ledger"
	"github.com/cognitrail/cognitrail/pkg/ledger/item"
)

// KeyPrefix starts the item keys of cached pairs in the ledger table,
// client#<region>#<clientId>. Ledger object keys start with a quote
// (ledger.ObjectID), so the two never meet. Items of the earlier
// client#<clientId> form, not scoped by Region, are never read: they
// expire with their TTL, and a client they would have answered is looked
// up again once.
const KeyPrefix = item.ClientPrefix

const attrPool = "userPoolId"

// DynamoAPI is the part of the DynamoDB client DynamoStore uses.
type DynamoAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// DynamoStore caches pairs in the ledger table, with the ledger's TTL
// attribute so DynamoDB deletes them after TTL.
type DynamoStore struct {
	API   DynamoAPI
	Table string
	// TTL: zero means DefaultTTL.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// ItemKey is the ledger table key of k's cached pair.
func ItemKey(k Key) string { return KeyPrefix + k.Region + "#" + k.Client }

func (s *DynamoStore) key(k Key) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{ledger.AttrKey: &types.AttributeValueMemberS{Value: ItemKey(k)}}
}

// Get returns the cached pool of k, "" when none (or expired but not
// yet deleted: DynamoDB deletes expired items within days, not at once).
func (s *DynamoStore) Get(ctx context.Context, k Key) (string, error) {
	out, err := s.API.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.Table), Key: s.key(k), ConsistentRead: aws.Bool(false),
	})
	if err != nil {
		return "", err
	}
	if exp, ok := out.Item[ledger.AttrExpiresAt].(*types.AttributeValueMemberN); ok {
		if n, err := strconv.ParseInt(exp.Value, 10, 64); err == nil && n < s.now().Unix() {
			return "", nil
		}
	}
	if p, ok := out.Item[attrPool].(*types.AttributeValueMemberS); ok {
		return p.Value, nil
	}
	return "", nil
}

// Put caches a pair.
func (s *DynamoStore) Put(ctx context.Context, k Key, pool string) error {
	ttl := s.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	item := s.key(k)
	item[attrPool] = &types.AttributeValueMemberS{Value: pool}
	item[ledger.AttrExpiresAt] = &types.AttributeValueMemberN{Value: strconv.FormatInt(s.now().Add(ttl).Unix(), 10)}
	_, err := s.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item})
	return err
}

func (s *DynamoStore) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

package clientpool_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognitrail/cognitrail/pkg/clientpool"
	"github.com/cognitrail/cognitrail/pkg/ledger"
)

// fakeTable is a DynamoDB table in a map, by pk.
type fakeTable map[string]map[string]types.AttributeValue

func pk(k map[string]types.AttributeValue) string {
	return k[ledger.AttrKey].(*types.AttributeValueMemberS).Value
}

func (f fakeTable) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return &dynamodb.GetItemOutput{Item: f[pk(in.Key)]}, nil
}

func (f fakeTable) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f[pk(in.Item)] = in.Item
	return &dynamodb.PutItemOutput{}, nil
}

func TestDynamoStoreKeysAndTTL(t *testing.T) {
	tbl := fakeTable{}
	now := time.Unix(1_800_000_000, 0)
	s := &clientpool.DynamoStore{API: tbl, Table: "t", Now: func() time.Time { return now }}
	ctx := context.Background()
	web1 := clientpool.Key{Region: "us-east-1", Client: "web1"}
	if err := s.Put(ctx, web1, "us-east-1_P"); err != nil {
		t.Fatal(err)
	}
	item, ok := tbl["client#us-east-1#web1"]
	if !ok {
		t.Fatalf("items %v: want key client#us-east-1#web1 (apart from the ledger's quoted object keys)", tbl)
	}
	exp := item[ledger.AttrExpiresAt].(*types.AttributeValueMemberN).Value
	if want := now.Add(clientpool.DefaultTTL).Unix(); exp != itoa(want) {
		t.Errorf("expiresAt %s, want %d", exp, want)
	}
	if p, err := s.Get(ctx, web1); p != "us-east-1_P" || err != nil {
		t.Errorf("Get: %q %v", p, err)
	}
	// The same client id in another Region is another item.
	if p, _ := s.Get(ctx, clientpool.Key{Region: "eu-west-1", Client: "web1"}); p != "" {
		t.Errorf("eu-west-1 web1 answered %q", p)
	}
	// Expired but not yet deleted by DynamoDB: not an answer.
	now = now.Add(clientpool.DefaultTTL + time.Second)
	if p, _ := s.Get(ctx, web1); p != "" {
		t.Errorf("expired item answered %q", p)
	}
	// An item of the earlier form, client#<id>, says nothing of its
	// Region: never read.
	tbl["client#legacy"] = map[string]types.AttributeValue{
		ledger.AttrKey: &types.AttributeValueMemberS{Value: "client#legacy"}, "userPoolId": &types.AttributeValueMemberS{Value: "us-east-1_L"},
	}
	if p, _ := s.Get(ctx, clientpool.Key{Region: "us-east-1", Client: "legacy"}); p != "" {
		t.Errorf("a client#<id> item answered %q", p)
	}
	if p, _ := s.Get(ctx, clientpool.Key{Region: "us-east-1", Client: "other"}); p != "" {
		t.Errorf("missing item answered %q", p)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

package ledgertable

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognitrail/cognitrail/pkg/ledger/item"
)

// inUseTables answers CreateTable as DynamoDB answers the retry of a
// CreateTable whose first attempt created the table: ResourceInUse.
type inUseTables struct {
	key []types.KeySchemaElement
	ttl bool
}

func (f *inUseTables) CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	return nil, &types.ResourceInUseException{Message: aws.String("Table already exists")}
}

func (f *inUseTables) UpdateTimeToLive(context.Context, *dynamodb.UpdateTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error) {
	f.ttl = true
	return &dynamodb.UpdateTimeToLiveOutput{}, nil
}

func (f *inUseTables) DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return &dynamodb.DescribeTableOutput{Table: &types.TableDescription{KeySchema: f.key}}, nil
}

// TestCreateTableMeetsItsOwnRetry: a ResourceInUse answer (the SDK's retry
// of a create whose answer was lost under load; seen as a flake of the
// moto tests) is accepted when the table has the ledger's key, and still
// refused when it has another.
func TestCreateTableMeetsItsOwnRetry(t *testing.T) {
	ours := &inUseTables{key: []types.KeySchemaElement{{AttributeName: aws.String(item.AttrKey), KeyType: types.KeyTypeHash}}}
	if err := Create(context.Background(), ours, "t"); err != nil {
		t.Fatalf("table with the ledger's key: %v", err)
	}
	if !ours.ttl {
		t.Error("TTL not enabled on the existing table")
	}
	other := &inUseTables{key: []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}}}
	err := Create(context.Background(), other, "t")
	var inUse *types.ResourceInUseException
	if err == nil || errors.As(err, &inUse) || !strings.Contains(err.Error(), "another key schema") {
		t.Fatalf("table with another key: err = %v, want the key schema named", err)
	}
	if other.ttl {
		t.Error("TTL enabled on a table that is not a ledger")
	}
}

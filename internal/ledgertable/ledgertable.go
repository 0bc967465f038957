// Package ledgertable creates cognitrail's DynamoDB table the way the SAM
// template declares it (on demand, keyed by pkg/ledger/item.item.AttrKey, TTL on
// item.item.AttrExpiresAt), for the tests that run against moto_server. The
// product never creates its table: the stack does.
package ledgertable

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognitrail/cognitrail/pkg/ledger/item"
)

// API is what Create needs.
type API interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// Create creates the table name (on demand, with TTL on expiresAt), the same
// shape as the SAM template's.
func Create(ctx context.Context, api API, name string) error {
	_, err := api.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(item.AttrKey), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(item.AttrKey), KeyType: types.KeyTypeHash}},
	})
	var inUse *types.ResourceInUseException
	if errors.As(err, &inUse) {
		// The SDK retries a request whose answer was lost (a loaded local
		// endpoint), and the retry of a CreateTable that succeeded meets
		// its own table: accept a table keyed as the ledger's.
		err = sameKey(ctx, api, name)
	}
	if err != nil {
		return fmt.Errorf("ledgertable: create table %s: %w", name, err)
	}
	_, err = api.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(item.AttrExpiresAt), Enabled: aws.Bool(true)},
	})
	if err != nil {
		return fmt.Errorf("ledgertable: enable TTL on %s: %w", name, err)
	}
	return nil
}

// sameKey reports whether the existing table name has the ledger's key.
func sameKey(ctx context.Context, api API, name string) error {
	out, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		return err
	}
	ks := out.Table.KeySchema
	if len(ks) != 1 || aws.ToString(ks[0].AttributeName) != item.AttrKey || ks[0].KeyType != types.KeyTypeHash {
		return fmt.Errorf("the table exists with another key schema")
	}
	return nil
}

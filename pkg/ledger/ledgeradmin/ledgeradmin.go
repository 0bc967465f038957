// Package ledgeradmin holds the operator's operations on the idempotency
// table that the function itself never makes: Reset, behind `cognitrail
// ledger reset`, deletes an object's item so that its next delivery
// processes it again (after raising a limit, after a fix).
//
// It is a package of its own so that the function's binary does not import
// it: the function's role has no dynamodb:DeleteItem, and the template
// check that derives the role's actions from the SDK calls in the function's
// packages (internal/templatecheck) stays exact.
package ledgeradmin

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognitrail/cognitrail/pkg/ledger"
)

// API is the part of the DynamoDB client Reset uses.
type API interface {
	ledger.API
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// ErrNoItem: the table has no item for the object version (never
// processed with this table, expired after the retention, a wrong
// identity, or reset already).
var ErrNoItem = errors.New("ledgeradmin: no ledger item for this object version")

// ErrUnfinished: an earlier attempt published some of the object's batches
// and did not finish. Its retry resumes after them; deleting the item would
// make the next attempt publish them again and count them twice.
var ErrUnfinished = errors.New("ledgeradmin: an unfinished attempt has published batches")

// Reset deletes the item of object id when no invocation can be processing
// it: the item is done, or its lease has expired (or was released) with no
// batch published. It returns what the item held. A live lease is refused
// with an error wrapping ledger.ErrBusy, a missing item with ErrNoItem.
func Reset(ctx context.Context, api API, table, id string, now time.Time) (*ledger.Item, error) {
	out, err := api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(table),
		Key:       map[string]types.AttributeValue{ledger.AttrKey: &types.AttributeValueMemberS{Value: id}},
		// The same rule as a claim's takeover, so that a reset never pulls
		// an object from under a live invocation, and never forgets
		// published batches an unfinished attempt recorded.
		ConditionExpression: aws.String("attribute_exists(#pk) AND (#st = :done OR " +
			"((attribute_not_exists(#lease) OR #lease < :now) AND (attribute_not_exists(#batches) OR #batches = :zero)))"),
		ExpressionAttributeNames: map[string]string{
			"#pk": ledger.AttrKey, "#st": ledger.AttrStatus, "#lease": ledger.AttrLease, "#batches": ledger.AttrBatches,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":done": &types.AttributeValueMemberS{Value: ledger.StatusDone},
			":now":  &types.AttributeValueMemberN{Value: strconv.FormatInt(now.UnixMilli(), 10)},
			":zero": &types.AttributeValueMemberN{Value: "0"},
		},
		ReturnValues: types.ReturnValueAllOld,
	})
	if err == nil {
		return ledger.ItemFrom(id, out.Attributes), nil
	}
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return nil, fmt.Errorf("ledgeradmin: delete %s: %w", id, err)
	}
	// Say why.
	it, gerr := ledger.New(api, ledger.Options{Table: table}).Inspect(ctx, id)
	switch {
	case gerr != nil:
		return nil, fmt.Errorf("ledgeradmin: %s not deleted, and then: %w", id, gerr)
	case it == nil:
		return nil, fmt.Errorf("%w (%s in table %s)", ErrNoItem, id, table)
	case it.Live(now):
		return it, fmt.Errorf("%w (%s, attempt %d, lease until %s): not reset; try again after it",
			ledger.ErrBusy, id, it.Attempts, it.LeaseUntil.UTC().Format(time.RFC3339))
	case !it.Done && it.Batches > 0:
		return it, fmt.Errorf("%w (%s: %d batches): not reset; the next delivery or retry finishes it",
			ErrUnfinished, id, it.Batches)
	}
	// Changed between the delete and the read: the caller may try again.
	return it, fmt.Errorf("ledgeradmin: %s changed while being reset; try again", id)
}

package budget

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/cognitrail/cognitrail/internal/ledgertable"
)

// lostAnswers applies every UpdateItem twice, returning the second answer:
// DynamoDB's lost answer (the write applied, its answer lost, the SDK's
// retry sent) on each admission.
type lostAnswers struct {
	api DynamoAPI
}

func (l lostAnswers) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return l.api.GetItem(ctx, in, o...)
}

func (l lostAnswers) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return ledgertable.Twice(ctx, l.api.UpdateItem, in, o...)
}

// TestDynamoLostAnswers: an admission whose answer is lost, and whose
// retry then fails its condition (the item created; the set grown past the
// bound the retry allows), decides as one answered write does: the value
// is admitted, because the budget decides from the item it reads again,
// and ADD of a set is idempotent. Nothing in the budget changed for this;
// the test keeps it so.
func TestDynamoLostAnswers(t *testing.T) {
	ctx := context.Background()
	db, table := moto.Table(t, "budget")
	d := newDynamo(t, lostAnswers{db}, table, 2)
	for _, tc := range []struct {
		value string
		want  bool
	}{{"a", true}, {"b", true}, {"c", false}} {
		got, err := d.Admit(ctx, "2026-11", "Operation", []string{tc.value})
		if err != nil {
			t.Fatal(err)
		}
		if got[tc.value] != tc.want {
			t.Errorf("%s admitted=%v, want %v", tc.value, got[tc.value], tc.want)
		}
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: ItemKey("2026-11", "Operation")}}})
	if err != nil {
		t.Fatal(err)
	}
	set := out.Item["values"].(*types.AttributeValueMemberSS).Value
	slices.Sort(set)
	if !slices.Equal(set, []string{"a", "b"}) {
		t.Fatalf("item holds %v, want [a b]", set)
	}
	// Another environment decides alike.
	got, err := newDynamo(t, db, table, 2).Admit(ctx, "2026-11", "Operation", []string{"a", "b", "c"})
	if err != nil || !got["a"] || !got["b"] || got["c"] {
		t.Fatalf("another environment: %v, %v", got, err)
	}
}

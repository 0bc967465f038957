package sim

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DB is an in-memory model of one DynamoDB table keyed by the string
// attribute "pk", with DynamoDB's documented per-item atomicity: each
// request reads and writes one item as one step. It implements the
// DynamoDB client interfaces of packages ledger, budget and clientpool.
// Strongly consistent reads only: every read sees the last write.
type DB struct {
	mu    sync.Mutex
	items map[string]map[string]types.AttributeValue
}

// NewDB returns an empty table.
func NewDB() *DB { return &DB{items: map[string]map[string]types.AttributeValue{}} }

func pk(key map[string]types.AttributeValue) (string, error) {
	v, ok := key["pk"].(*types.AttributeValueMemberS)
	if !ok || len(key) != 1 {
		return "", fmt.Errorf("sim: key must be the string attribute pk alone")
	}
	return v.Value, nil
}

// step runs a request on the item key names, under the table's lock: the
// request is one step, as DynamoDB's per-item atomicity makes it.
func step[O any](d *DB, key map[string]types.AttributeValue, run func(k string) (*O, error)) (*O, error) {
	k, err := pk(key)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return run(k)
}

// Item returns a copy of the item k (nil when none).
func (d *DB) Item(k string) map[string]types.AttributeValue {
	d.mu.Lock()
	defer d.mu.Unlock()
	return maps.Clone(d.items[k])
}

// Keys lists the keys, sorted.
func (d *DB) Keys() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]string, 0, len(d.items))
	for k := range d.items {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func evalCondition(cond *string, e *env) (bool, error) {
	if cond == nil {
		return true, nil
	}
	toks, err := lex(*cond)
	if err != nil {
		return false, err
	}
	p := &parser{toks: toks, e: e}
	ok, err := p.or()
	if err == nil && p.pos != len(toks) {
		err = fmt.Errorf("sim: condition %q: trailing %q", *cond, p.peek().text)
	}
	return ok, err
}

// checkUsed refuses placeholders no expression used, as DynamoDB does
// ("Value provided in ExpressionAttributeValues unused in expressions").
func checkUsed(e *env) error {
	for k := range e.names {
		if !e.used[k] {
			return fmt.Errorf("sim: ValidationException: unused expression attribute name %s", k)
		}
	}
	for k := range e.values {
		if !e.used[k] {
			return fmt.Errorf("sim: ValidationException: unused expression attribute value %s", k)
		}
	}
	return nil
}

func conditionFailed(old map[string]types.AttributeValue, rv types.ReturnValuesOnConditionCheckFailure) error {
	ex := &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
	if rv == types.ReturnValuesOnConditionCheckFailureAllOld && old != nil {
		ex.Item = maps.Clone(old)
	}
	return ex
}

// UpdateItem applies the update if the condition holds.
func (d *DB) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return step(d, in.Key, func(k string) (*dynamodb.UpdateItemOutput, error) { return d.update(k, in) })
}

// update is UpdateItem on item k (d.mu held).
func (d *DB) update(k string, in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
	old := d.items[k]
	e := &env{names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues, item: old, used: map[string]bool{}}
	ok, err := evalCondition(in.ConditionExpression, e)
	if err != nil {
		return nil, err
	}
	next := maps.Clone(old)
	if next == nil {
		next = map[string]types.AttributeValue{}
	}
	next["pk"] = &types.AttributeValueMemberS{Value: k}
	if in.UpdateExpression != nil {
		toks, err := lex(*in.UpdateExpression)
		if err != nil {
			return nil, err
		}
		// Evaluated against the old item, written into the new.
		ue := &env{names: e.names, values: e.values, item: next, used: e.used}
		if err := (&parser{toks: toks, e: ue}).update(); err != nil {
			return nil, fmt.Errorf("%w (update %q)", err, *in.UpdateExpression)
		}
	}
	if err := checkUsed(e); err != nil {
		return nil, err
	}
	if !ok {
		return nil, conditionFailed(old, in.ReturnValuesOnConditionCheckFailure)
	}
	d.items[k] = next
	out := &dynamodb.UpdateItemOutput{}
	switch in.ReturnValues {
	case types.ReturnValueAllNew:
		out.Attributes = maps.Clone(next)
	case types.ReturnValueAllOld:
		out.Attributes = maps.Clone(old)
	case types.ReturnValueNone, "":
	default:
		return nil, fmt.Errorf("sim: ReturnValues %s not modelled", in.ReturnValues)
	}
	return out, nil
}

// admit judges a whole-item write's condition on item k (d.mu held): the
// item it replaces, or the error DynamoDB would answer.
func (d *DB) admit(k string, cond *string, names map[string]string, values map[string]types.AttributeValue,
	rv types.ReturnValuesOnConditionCheckFailure) (map[string]types.AttributeValue, error) {
	old := d.items[k]
	e := &env{names: names, values: values, item: old, used: map[string]bool{}}
	ok, err := evalCondition(cond, e)
	if err != nil {
		return nil, err
	}
	if err := checkUsed(e); err != nil {
		return nil, err
	}
	if !ok {
		return nil, conditionFailed(old, rv)
	}
	return old, nil
}

// PutItem replaces the item if the condition holds.
func (d *DB) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return step(d, map[string]types.AttributeValue{"pk": in.Item["pk"]}, func(k string) (*dynamodb.PutItemOutput, error) {
		old, err := d.admit(k, in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues, in.ReturnValuesOnConditionCheckFailure)
		if err != nil {
			return nil, err
		}
		d.items[k] = maps.Clone(in.Item)
		out := &dynamodb.PutItemOutput{}
		if in.ReturnValues == types.ReturnValueAllOld {
			out.Attributes = maps.Clone(old)
		}
		return out, nil
	})
}

// GetItem reads an item.
func (d *DB) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return step(d, in.Key, func(k string) (*dynamodb.GetItemOutput, error) {
		return &dynamodb.GetItemOutput{Item: maps.Clone(d.items[k])}, nil
	})
}

// DeleteItem deletes an item if the condition holds.
func (d *DB) DeleteItem(_ context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return step(d, in.Key, func(k string) (*dynamodb.DeleteItemOutput, error) {
		if _, err := d.admit(k, in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues, in.ReturnValuesOnConditionCheckFailure); err != nil {
			return nil, err
		}
		delete(d.items, k)
		return &dynamodb.DeleteItemOutput{}, nil
	})
}

package budget

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognitrail/cognitrail/internal/ledgertable"
	"github.com/cognitrail/cognitrail/pkg/ledger"
)

var moto ledgertable.Moto

func TestMain(m *testing.M) { moto.Main(m) }

func newDynamo(t *testing.T, api DynamoAPI, table string, limit int) *Dynamo {
	t.Helper()
	d, err := NewDynamo(api, table, limit)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// counting counts the requests an environment's budget makes.
type counting struct {
	api        DynamoAPI
	gets, upds atomic.Int32
}

func (c *counting) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.gets.Add(1)
	return c.api.GetItem(ctx, in, o...)
}

func (c *counting) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.upds.Add(1)
	return c.api.UpdateItem(ctx, in, o...)
}

func (c *counting) take() (gets, upds int) {
	return int(c.gets.Swap(0)), int(c.upds.Swap(0))
}

// TestDynamoSharedByEnvironments: two execution environments (two Dynamo
// values) share one bound per month and dimension, and each month and
// dimension has its own; the item holds the values, the bound and a TTL
// 40 days after the month's end.
func TestDynamoSharedByEnvironments(t *testing.T) {
	ctx := context.Background()
	db, table := moto.Table(t, "budget")
	keepsTheFirstValuesOfAMonth(t, newDynamo(t, db, table, 2), newDynamo(t, db, table, 2))
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "series#2026-11#UserPoolId"}}})
	if err != nil {
		t.Fatal(err)
	}
	vals, _ := out.Item["values"].(*types.AttributeValueMemberSS)
	if vals == nil || !slices.Equal(slices.Sorted(slices.Values(vals.Value)), []string{"p1", "p2"}) {
		t.Errorf("item values %#v", out.Item["values"])
	}
	if lim, _ := out.Item["limit"].(*types.AttributeValueMemberN); lim == nil || lim.Value != "2" {
		t.Errorf("item limit %#v", out.Item["limit"])
	}
	want := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).Add(40 * 24 * time.Hour).Unix()
	if exp, _ := out.Item[ledger.AttrExpiresAt].(*types.AttributeValueMemberN); exp == nil || exp.Value != fmt.Sprint(want) {
		t.Errorf("expiresAt %#v, want %d", out.Item[ledger.AttrExpiresAt], want)
	}
}

// TestDynamoLongValues: a value a string set cannot hold as it is (too
// long, empty, not UTF-8) is admitted under its hash.
func TestDynamoLongValues(t *testing.T) {
	db, table := moto.Table(t, "budget")
	long := strings.Repeat("x", 300)
	d := newDynamo(t, db, table, 3)
	if got := admitted(t, d, "2026-11", "ErrorCode", long, "", "\xff"); len(got) != 3 {
		t.Fatalf("admitted %q", got)
	}
	// Another environment finds them admitted, and the budget spent.
	e := newDynamo(t, db, table, 3)
	if got := admitted(t, e, "2026-11", "ErrorCode", "new", long); !slices.Equal(got, []string{long}) {
		t.Errorf("second environment: %q", got)
	}
	if s := StoredValue(long); len(s) != 33 || s == StoredValue(long+"y") {
		t.Errorf("stored value %q", s)
	}
	if StoredValue("us-east-1:12345678-1234-1234-1234-123456789012") != "us-east-1:12345678-1234-1234-1234-123456789012" {
		t.Error("an identity pool id is hashed")
	}
}

// TestDynamoRequests: what a file costs in requests. The first file of a
// month creates the item (a read, a write); a cold environment reads once;
// a warm one asks nothing for values it knows, or for any value once the
// month is full; a new value in a month not full is one write.
func TestDynamoRequests(t *testing.T) {
	db, table := moto.Table(t, "budget")
	c1 := &counting{api: db}
	a := newDynamo(t, c1, table, 3)
	admitted(t, a, "2026-11", "UserPoolId", "p1", "p2")
	if g, u := c1.take(); g != 1 || u != 1 {
		t.Errorf("first file of the month: %d reads, %d writes, want 1 and 1", g, u)
	}
	admitted(t, a, "2026-11", "UserPoolId", "p2", "p1")
	if g, u := c1.take(); g != 0 || u != 0 {
		t.Errorf("known values: %d reads, %d writes, want none", g, u)
	}
	c2 := &counting{api: db}
	b := newDynamo(t, c2, table, 3)
	admitted(t, b, "2026-11", "UserPoolId", "p1")
	if g, u := c2.take(); g != 1 || u != 0 {
		t.Errorf("cold environment: %d reads, %d writes, want 1 and 0", g, u)
	}
	admitted(t, b, "2026-11", "UserPoolId", "p3", "p4")
	if g, u := c2.take(); g != 0 || u != 1 {
		t.Errorf("new values: %d reads, %d writes, want 0 and 1", g, u)
	}
	if got := admitted(t, b, "2026-11", "UserPoolId", "p5", "p1"); !slices.Equal(got, []string{"p1"}) {
		t.Errorf("full month: %v", got)
	}
	if g, u := c2.take(); g != 0 || u != 0 {
		t.Errorf("full month: %d reads, %d writes, want none", g, u)
	}
	// The first environment did not see p3 admitted: it writes, finds the
	// month full, and reads it.
	if got := admitted(t, a, "2026-11", "UserPoolId", "p5", "p3"); !slices.Equal(got, []string{"p3"}) {
		t.Errorf("stale environment: %v, want p3 (admitted by the other)", got)
	}
	if g, u := c1.take(); g != 1 || u != 1 {
		t.Errorf("stale environment: %d reads, %d writes, want 1 and 1", g, u)
	}
}

// TestDynamoMonthKeepsItsFirstBound: the bound is fixed by the month's
// first admission, so environments configured differently (a deployment
// in progress) still decide alike.
func TestDynamoMonthKeepsItsFirstBound(t *testing.T) {
	db, table := moto.Table(t, "budget")
	admitted(t, newDynamo(t, db, table, 1), "2026-11", "ClientId", "c1")
	if got := admitted(t, newDynamo(t, db, table, 3), "2026-11", "ClientId", "c2", "c1"); !slices.Equal(got, []string{"c1"}) {
		t.Errorf("raised bound: %v, want the month's bound of 1", got)
	}
	if got := admitted(t, newDynamo(t, db, table, 3), "2026-12", "ClientId", "c2", "c1"); !slices.Equal(got, []string{"c1", "c2"}) {
		t.Errorf("next month: %v", got)
	}
}

func TestNewDynamoRefusesBoundsAnItemCannotHold(t *testing.T) {
	for _, n := range []int{0, -1, MaxDynamoLimit + 1} {
		if _, err := NewDynamo(nil, "t", n); err == nil {
			t.Errorf("limit %d accepted", n)
		}
	}
}

// TestDynamoConcurrentEnvironments: environments admitting at once never
// exceed the bound, and every decision, asked again in any environment
// (a retry), is the same: admitted exactly when the value is in the item.
func TestDynamoConcurrentEnvironments(t *testing.T) {
	ctx := context.Background()
	db, table := moto.Table(t, "budget")
	api := ledgertable.NewSerial(db)
	const envs, limit = 8, 5
	decisions := make([]map[string]bool, envs)
	var wg sync.WaitGroup
	for i := range envs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := newDynamo(t, api, table, limit)
			var vals []string
			for j := range 4 {
				// Overlapping values: each environment shares some with the next.
				vals = append(vals, fmt.Sprintf("v%d", (i*2+j)%(envs*2)))
			}
			got, err := d.Admit(ctx, "2026-11", "Operation", vals)
			if err != nil {
				t.Error(err)
				return
			}
			decisions[i] = got
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: ItemKey("2026-11", "Operation")}}})
	if err != nil {
		t.Fatal(err)
	}
	set := out.Item["values"].(*types.AttributeValueMemberSS).Value
	if len(set) != limit {
		t.Fatalf("%d values admitted, want the bound %d: %v", len(set), limit, set)
	}
	retry := newDynamo(t, db, table, limit)
	for i, dec := range decisions {
		for v, ok := range dec {
			if ok != slices.Contains(set, v) {
				t.Errorf("environment %d: %s admitted=%v, item %v", i, v, ok, set)
			}
		}
		again, err := retry.Admit(ctx, "2026-11", "Operation", slices.Collect(maps.Keys(dec)))
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(again, dec) {
			t.Errorf("environment %d decided %v, a retry %v", i, dec, again)
		}
	}
}

package ledgertable

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/cognitrail/cognitrail/internal/motoserver"
)

// Moto is a test binary's one moto_server and the tables its tests create
// on it: each test gets a table of its own, so tests run against one server
// without seeing each other's items.
type Moto struct {
	server *motoserver.Server
	err    error
	seq    atomic.Int32
}

// Main is the test binary's TestMain (see motoserver.Main).
func (m *Moto) Main(tm *testing.M) {
	motoserver.Main(tm, func(s *motoserver.Server, err error) { m.server, m.err = s, err })
}

// Table creates a fresh table named prefix-N on the server. It skips the
// test where moto_server is not installed, and fails it where the server
// did not start.
func (m *Moto) Table(t testing.TB, prefix string) (*dynamodb.Client, string) {
	t.Helper()
	motoserver.Require(t)
	if m.err != nil {
		t.Fatal(m.err)
	}
	db := dynamodb.NewFromConfig(m.server.AWSConfig())
	table := fmt.Sprintf("%s-%d", prefix, m.seq.Add(1))
	if err := Create(context.Background(), db, table); err != nil {
		t.Fatal(err)
	}
	return db, table
}

// ItemAPI is the item reads and writes of the ledger and the budget.
type ItemAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Serial applies one request at a time. DynamoDB evaluates a conditional
// write atomically with respect to every other write to the item; moto does
// not across its server threads (under load, two claims both see "no item"
// and both win). Serialising requests gives moto that guarantee while the
// condition itself is still evaluated by moto, from the caller's own
// expressions: code whose condition let two writers win would still fail.
type Serial struct {
	mu  sync.Mutex
	api ItemAPI
}

// NewSerial serialises the requests made to api.
func NewSerial(api ItemAPI) *Serial { return &Serial{api: api} }

// GetItem implements ItemAPI.
func (s *Serial) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.api.GetItem(ctx, in, o...)
}

// UpdateItem implements ItemAPI.
func (s *Serial) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.api.UpdateItem(ctx, in, o...)
}

// Twice makes the request in twice and returns the second answer: DynamoDB
// applying a write whose answer was lost, and the SDK's retry of it.
func Twice[I, O any](ctx context.Context, call func(context.Context, I, ...func(*dynamodb.Options)) (O, error), in I, o ...func(*dynamodb.Options)) (O, error) {
	if _, err := call(ctx, in, o...); err != nil {
		var zero O
		return zero, err
	}
	return call(ctx, in, o...)
}

package ledgertable

import (
	"context"
	"fmt"
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

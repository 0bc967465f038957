package aggregate_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cognitrail/cognitrail/pkg/aggregate"
)

// savingResolver is a Resolver that keeps what it learns (aggregate.Saver).
type savingResolver struct {
	fakeResolver
	saves int
	err   error
}

func (s *savingResolver) SaveLearned(context.Context) error {
	s.saves++
	return s.err
}

// ResolveClients has a Saver keep the pairs a file taught, once per file
// that taught any, and reports a failed save with the lookup's errors
// (nothing is lost: the counts stay); a file that taught none saves
// nothing.
func TestResolveClientsSavesWhatWasLearned(t *testing.T) {
	ctx := context.Background()
	r := &savingResolver{fakeResolver: fakeResolver{learned: map[string]string{}, pools: map[string]string{}}}
	taught := aggregate.New(nil)
	add(taught, idp("CreateUserPoolClient", "webclient", "us-east-1_Pool1", ""))
	if _, err := taught.ResolveClients(ctx, r); err != nil || r.saves != 1 {
		t.Fatalf("a file that taught a pair: %d saves (%v), want 1", r.saves, err)
	}
	silent := aggregate.New(nil)
	add(silent, signIns()...)
	if _, err := silent.ResolveClients(ctx, r); err != nil || r.saves != 1 {
		t.Errorf("a file that taught nothing: %d saves in all (%v), want still 1", r.saves, err)
	}
	r.err = errors.New("throttled")
	again := aggregate.New(nil)
	add(again, idp("CreateUserPoolClient", "otherclient", "us-east-1_Pool1", ""))
	if _, err := again.ResolveClients(ctx, r); !errors.Is(err, r.err) {
		t.Errorf("a failed save: %v, want it reported", err)
	}
}

package aggregate_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/budget"
	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/record"
)

// byValue sums one metric's datums with exactly the dimensions (Category,
// dim) by dim's value.
func byValue(ds []metric.Datum, name, dim string) map[string]float64 {
	out := map[string]float64{}
	for _, d := range ds {
		if d.Name != name || len(d.Dimensions) != 2 {
			continue
		}
		for _, x := range d.Dimensions {
			if x.Name == dim {
				out[x.Value] += d.Sum()
			}
		}
	}
	return out
}

type rec struct {
	at         time.Time
	pool, code string
	n          int
}

func budgeted(t *testing.T, b budget.Budget, recs ...rec) []metric.Datum {
	t.Helper()
	a := aggregate.New(&aggregate.Options{Level: metric.Full})
	for _, r := range recs {
		c := class.Class{Category: class.UserPoolAPI, Operation: "InitiateAuth", UserPoolID: r.pool, Failed: r.code != "", ErrorCode: r.code}
		for range r.n {
			a.Add(&record.Record{EventTime: r.at}, &c, time.Time{})
		}
	}
	if err := a.ApplyBudget(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	return slices.Collect(a.All())
}

// TestBudgetFoldsNewValuesIntoOther: a month's budget keeps the values seen
// first (the busiest first within a file); the others are counted under
// "other", so no count is lost; the values kept keep their series in the
// next file, and a new month starts a new budget. ErrorCode, capped by no
// per-file limit, is bounded too.
func TestBudgetFoldsNewValuesIntoOther(t *testing.T) {
	nov := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	dec := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	b := budget.NewMemory(2)
	ds := budgeted(t, b, rec{nov, "pool-a", "", 5}, rec{nov, "pool-b", "", 3}, rec{nov, "pool-c", "", 1},
		rec{nov, "pool-a", "E1", 1}, rec{nov, "pool-a", "E2", 2}, rec{nov, "pool-a", "E3", 3})
	pools := byValue(ds, metric.Events, metric.DimUserPoolID)
	if len(pools) != 3 || pools["pool-a"] != 11 || pools["pool-b"] != 3 || pools[aggregate.OtherValue] != 1 {
		t.Errorf("first file, by pool: %v; want pool-a 11, pool-b 3, other 1", pools)
	}
	codes := byValue(ds, metric.Errors, metric.DimErrorCode)
	if len(codes) != 3 || codes["E3"] != 3 || codes["E2"] != 2 || codes[aggregate.OtherValue] != 1 {
		t.Errorf("first file, by error code: %v; want E3 3, E2 2, other 1", codes)
	}

	// pool-d is the busiest of the second file, but the budget is spent.
	ds = budgeted(t, b, rec{nov, "pool-d", "", 50}, rec{nov, "pool-b", "", 1}, rec{dec, "pool-d", "", 4})
	pools = byValue(ds, metric.Events, metric.DimUserPoolID)
	if len(pools) != 3 || pools["pool-b"] != 1 || pools[aggregate.OtherValue] != 50 || pools["pool-d"] != 4 {
		t.Errorf("second file, by pool: %v; want pool-b 1, other 50 (November), pool-d 4 (December)", pools)
	}
	for _, d := range ds {
		for _, x := range d.Dimensions {
			if x.Value == "pool-d" && d.Timestamp.Before(dec) {
				t.Errorf("pool-d has a series in November: %+v", d)
			}
		}
	}
}

// roleCalls adds n denied identity-pool role calls, each to its own
// operation with its own error code, at t.
func roleCalls(a *aggregate.Aggregator, t time.Time, n, each int) {
	for i := range n {
		c := class.Class{Category: class.IdentityPoolRoleCall, AuthType: class.Unauthenticated,
			Operation: fmt.Sprintf("s3:Op%03d", i), Failed: true, ErrorCode: fmt.Sprintf("Denied%03d", i)}
		for range each {
			a.Add(&record.Record{EventTime: t}, &c, time.Time{})
		}
	}
}

// TestRoleCallsCannotSquatTheBudget: a few hundred denied role calls on the
// 1st of the month (guest credentials suffice) spend their own budget, not
// Cognito's: the Cognito operations and documented errors seen later keep
// their series, and the role calls beyond their budget are folded into
// "other" as before.
func TestRoleCallsCannotSquatTheBudget(t *testing.T) {
	first := time.Date(2026, 12, 1, 0, 5, 0, 0, time.UTC)
	later := time.Date(2026, 12, 9, 14, 0, 0, 0, time.UTC)
	b := budget.NewMemory(budget.DefaultMax)
	a := aggregate.New(&aggregate.Options{Level: metric.Full})
	// Distinct operations within the per-file cap (MaxOperations), each
	// called twice: a few hundred calls.
	const distinct = 180
	roleCalls(a, first, distinct, 2)
	if err := a.ApplyBudget(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	ops := byValue(slices.Collect(a.All()), metric.Events, metric.DimOperation)
	if ops[aggregate.OtherValue] != 2*(distinct-budget.DefaultMax) || len(ops) != budget.DefaultMax+1 {
		t.Errorf("role calls: %d operations, other %v; want %d and %d (their own budget)", len(ops)-1, ops[aggregate.OtherValue], budget.DefaultMax, 2*(distinct-budget.DefaultMax))
	}

	a = aggregate.New(&aggregate.Options{Level: metric.Full})
	for _, c := range []class.Class{
		{Category: class.UserPoolAPI, Operation: "InitiateAuth", SignIn: true, Failed: true, ErrorCode: "NotAuthorizedException"},
		{Category: class.UserPoolAPI, Operation: "UpdateUserPool", ConfigChange: true},
		{Category: class.IdentityPoolData, Operation: "GetCredentialsForIdentity", Failed: true, ErrorCode: "ExternalServiceException"},
	} {
		a.Add(&record.Record{EventTime: later}, &c, time.Time{})
	}
	if err := a.ApplyBudget(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	ds := slices.Collect(a.All())
	ops = byValue(ds, metric.Events, metric.DimOperation)
	for _, op := range []string{"InitiateAuth", "UpdateUserPool", "GetCredentialsForIdentity"} {
		if ops[op] != 1 {
			t.Errorf("Events by operation %v: %s folded", ops, op)
		}
	}
	codes := byValue(ds, metric.Errors, metric.DimErrorCode)
	for _, code := range []string{"NotAuthorizedException", "ExternalServiceException"} {
		if codes[code] != 1 {
			t.Errorf("Errors by code %v: %s folded", codes, code)
		}
	}
}

// TestRoleCallsCannotCrowdOutListedOperations: in one file, more distinct
// role-call operations than MaxOperations, each busier than a Cognito
// operation, do not drop the Cognito operation's series.
func TestRoleCallsCannotCrowdOutListedOperations(t *testing.T) {
	at := time.Date(2026, 12, 1, 0, 5, 0, 0, time.UTC)
	a := aggregate.New(&aggregate.Options{Level: metric.Full})
	roleCalls(a, at, aggregate.DefaultMaxOperations+50, 3)
	c := class.Class{Category: class.UserPoolAPI, Operation: "InitiateAuth", SignIn: true}
	a.Add(&record.Record{EventTime: at}, &c, time.Time{})
	ops := byValue(slices.Collect(a.All()), metric.Events, metric.DimOperation)
	if ops["InitiateAuth"] != 1 {
		t.Errorf("InitiateAuth dropped by the per-file cap")
	}
	if n := len(ops) - 1; n != aggregate.DefaultMaxOperations {
		t.Errorf("%d role-call operations kept, want MaxOperations %d", n, aggregate.DefaultMaxOperations)
	}
}

package aggregate_test

// Tests that pin down behaviours the other tests of this package left open
// (issue 19: each was a mutant of the code that no test noticed).

import (
	"slices"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/budget"
	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/record"
)

// TestMergeAddsOverlappingCells: two files with records of the same shape,
// minute and delivery lag, the same file outcomes and findings, and records
// too old to count: merged, every count is the sum of both.
func TestMergeAddsOverlappingCells(t *testing.T) {
	oldest := t0.Add(-time.Hour)
	file := func() *aggregate.Aggregator {
		a := aggregate.New(&aggregate.Options{Level: metric.Full, Oldest: oldest})
		c := class.Class{Category: class.UserPoolAPI, Operation: "InitiateAuth", UserPoolID: "us-east-1_P"}
		for range 3 {
			a.Add(&record.Record{EventTime: t0}, &c, t0.Add(5*time.Minute))
		}
		a.Add(&record.Record{EventTime: oldest.Add(-time.Hour)}, &c, t0)
		a.AddFile(aggregate.Processed, t0)
		a.AddFinding("f", "HIGH", t0)
		return a
	}
	one := file()
	if got := one.Stats().TooOld; got != 1 {
		t.Fatalf("one file: TooOld %d, want 1", got)
	}
	merged := aggregate.New(&aggregate.Options{Level: metric.Full, Oldest: oldest})
	merged.Merge(file())
	merged.Merge(file())
	if got := merged.Stats().TooOld; got != 2 {
		t.Errorf("merged: TooOld %d, want 2", got)
	}
	ds := slices.Collect(merged.All())
	for _, tc := range []struct {
		name string
		dims []string
		want float64
	}{
		{metric.RecordsRead, nil, 6},
		{metric.Events, []string{metric.DimCategory, "user-pool-api", metric.DimUserPoolID, "us-east-1_P"}, 6},
		{metric.FilesProcessed, nil, 2},
		{metric.Findings, []string{metric.DimSeverity, "HIGH"}, 2},
	} {
		if got := value(ds, tc.name, tc.dims...); got != tc.want {
			t.Errorf("%s %v: %v, want %v", tc.name, tc.dims, got, tc.want)
		}
	}
	var lag *metric.Datum
	for i := range ds {
		if ds[i].Name == metric.DeliveryLagSeconds {
			if lag != nil {
				t.Fatalf("two lag datums: %+v, %+v", *lag, ds[i])
			}
			lag = &ds[i]
		}
	}
	if lag == nil || !slices.Equal(lag.Values, []float64{300}) || !slices.Equal(lag.Counts, []float64{6}) {
		t.Errorf("lag datum %+v, want 6 samples of 300 s", lag)
	}
}

// TestResolveClientsGoesOnPastEachOutcome: a client the trail resolved, one
// a Resolver answered before, and one no one knows, each followed by a
// client still to look up: every client is looked at.
func TestResolveClientsGoesOnPastEachOutcome(t *testing.T) {
	a := aggregate.New(nil)
	add(a,
		idp("InitiateAuth", "a1trail", "", "NotAuthorizedException"),
		idp("UpdateUserPoolClient", "a1trail", "us-east-1_Trail", ""),
		idp("InitiateAuth", "a2nobody", "", "NotAuthorizedException"),
		idp("InitiateAuth", "a3first", "", "NotAuthorizedException"),
		idp("InitiateAuth", "a4later", "", "NotAuthorizedException"),
	)
	r := resolverOf(map[string]string{"a3first": "us-east-1_First"})
	st := resolve(t, a, r)
	if want := (aggregate.ClientStats{FromTrail: 1, FromResolver: 1, Unresolved: 2}); st != want {
		t.Errorf("first pass: %+v, want %+v", st, want)
	}
	if want := []string{"us-east-1/a2nobody", "us-east-1/a3first", "us-east-1/a4later"}; !slices.Equal(r.asked, want) {
		t.Errorf("first pass asked %v, want %v", r.asked, want)
	}
	// The resolver learns a4later's pool; a3first, answered before, is not
	// asked again, and the clients after it are.
	r.pools["a4later"] = "us-east-1_Later"
	r.asked = nil
	st = resolve(t, a, r)
	if want := (aggregate.ClientStats{FromTrail: 1, FromResolver: 2, Unresolved: 1}); st != want {
		t.Errorf("second pass: %+v, want %+v", st, want)
	}
	if want := []string{"us-east-1/a2nobody", "us-east-1/a4later"}; !slices.Equal(r.asked, want) {
		t.Errorf("second pass asked %v, want %v", r.asked, want)
	}
	ds := slices.Collect(a.All())
	for pool, want := range map[string]float64{"us-east-1_Trail": 1, "us-east-1_First": 1, "us-east-1_Later": 1} {
		if got := value(ds, metric.SignInFailures, metric.DimUserPoolID, pool); got != want {
			t.Errorf("%s: %v, want %v", pool, got, want)
		}
	}
}

// TestMergeTakesResolvedClientsAfterALearnedOne: a merged file's resolved
// clients are taken, also those that sort after a client the trail gave a
// pool for.
func TestMergeTakesResolvedClientsAfterALearnedOne(t *testing.T) {
	merged := aggregate.New(&aggregate.Options{Level: metric.Full})
	learnt := aggregate.New(&aggregate.Options{Level: metric.Full})
	add(learnt, idp("UpdateUserPoolClient", "c1", "us-east-1_Trail", ""))
	merged.Merge(learnt)

	resolved := aggregate.New(&aggregate.Options{Level: metric.Full})
	add(resolved,
		idp("InitiateAuth", "c1", "", "NotAuthorizedException"),
		idp("InitiateAuth", "c2", "", "NotAuthorizedException"),
		idp("InitiateAuth", "c3", "", "NotAuthorizedException"))
	resolve(t, resolved, resolverOf(map[string]string{"c1": "us-east-1_Other", "c2": "us-east-1_Two", "c3": "us-east-1_Three"}))
	merged.Merge(resolved)
	for client, want := range map[string]string{"c1": "us-east-1_Trail", "c2": "us-east-1_Two", "c3": "us-east-1_Three"} {
		if got, _ := merged.PoolOf("us-east-1", client); got != want {
			t.Errorf("PoolOf(%s) = %q, want %q", client, got, want)
		}
	}
	ds := slices.Collect(merged.All())
	for pool, want := range map[string]float64{"us-east-1_Trail": 1, "us-east-1_Two": 1, "us-east-1_Three": 1, "us-east-1_Other": 0} {
		if got := value(ds, metric.SignInFailures, metric.DimUserPoolID, pool); got != want {
			t.Errorf("SignInFailures of %s: %v, want %v", pool, got, want)
		}
	}
}

// TestOldestAtAMinute: Oldest exactly at the start of a minute keeps that
// minute and drops the one before, to the nanosecond.
func TestOldestAtAMinute(t *testing.T) {
	oldest := time.Date(2026, 11, 15, 10, 1, 0, 0, time.UTC)
	a := aggregate.New(&aggregate.Options{Oldest: oldest})
	other := class.Class{Category: class.Other}
	for _, at := range []time.Time{
		oldest,                        // kept
		oldest.Add(59 * time.Second),  // kept
		oldest.Add(-time.Nanosecond),  // the minute before
		oldest.Add(-time.Second),      // the minute before
		oldest.Add(-59 * time.Second), // the minute before
		oldest.Add(time.Minute),       // kept
		oldest.Add(-61 * time.Second), // two minutes before
	} {
		a.Add(&record.Record{EventTime: at}, &other, time.Time{})
	}
	a.AddFile(aggregate.Processed, oldest)
	a.AddFile(aggregate.Failed, oldest.Add(-time.Nanosecond))
	a.AddInvalid(oldest.Add(-time.Nanosecond))
	a.AddFinding("f", "LOW", oldest.Add(-time.Nanosecond))
	a.AddFinding("f", "LOW", oldest)
	// Records only, usable or not (issue 17: recordsTooOld counted the
	// findings and file outcomes too): 4 records and 1 invalid one.
	if got := a.Stats().TooOld; got != 5 {
		t.Errorf("TooOld %d, want 5", got)
	}
	ds := slices.Collect(a.All())
	for name, want := range map[string]float64{metric.RecordsRead: 3, metric.FilesProcessed: 1, metric.FilesFailed: 0, metric.RecordsInvalid: 0} {
		if got := value(ds, name); got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	if got := value(ds, metric.Findings, metric.DimSeverity, "LOW"); got != 1 {
		t.Errorf("findings %v, want 1", got)
	}
	// Oldest a nanosecond after a minute starts: that minute is dropped.
	b := aggregate.New(&aggregate.Options{Oldest: oldest.Add(time.Nanosecond)})
	b.Add(&record.Record{EventTime: oldest.Add(30 * time.Second)}, &other, time.Time{})
	b.Add(&record.Record{EventTime: oldest.Add(time.Minute)}, &other, time.Time{})
	if got := value(slices.Collect(b.All()), metric.RecordsRead); got != 1 || b.Stats().TooOld != 1 {
		t.Errorf("Oldest 1 ns into a minute: %v records read, %d too old; want 1 and 1", got, b.Stats().TooOld)
	}
}

// TestBudgetRanksByTheMonthsTotal: the budget's first place goes to the
// value with the most records in the month, summed over its minutes, not
// to the busiest single minute.
func TestBudgetRanksByTheMonthsTotal(t *testing.T) {
	nov := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	ds := budgeted(t, budget.NewMemory(1),
		rec{at: nov, pool: "us-east-1_Spread", n: 1},
		rec{at: nov.Add(time.Minute), pool: "us-east-1_Spread", n: 1},
		rec{at: nov.Add(2 * time.Minute), pool: "us-east-1_Spread", n: 1},
		rec{at: nov, pool: "us-east-1_Burst", n: 2},
	)
	got := byValue(ds, metric.Events, metric.DimUserPoolID)
	if got["us-east-1_Spread"] != 3 || got[aggregate.OtherValue] != 2 || got["us-east-1_Burst"] != 0 {
		t.Errorf("Events by pool %v, want us-east-1_Spread 3 and the burst under %q", got, aggregate.OtherValue)
	}
}

// TestLearnOnlyFromSuccess: a failed call naming a client and a pool
// teaches nothing (it may have failed because the pair is wrong).
func TestLearnOnlyFromSuccess(t *testing.T) {
	a := aggregate.New(nil)
	add(a, idp("AdminInitiateAuth", "c1", "us-east-1_Wrong", "NotAuthorizedException"),
		idp("ForgotPassword", "c1", "", ""))
	if p, ok := a.PoolOf("us-east-1", "c1"); ok {
		t.Errorf("learned %q from a failed call", p)
	}
	if got := value(slices.Collect(a.All()), metric.ForgotPasswordRequests, metric.DimClientID, "c1"); got != 1 {
		t.Errorf("ForgotPasswordRequests by ClientId %v, want 1", got)
	}
}

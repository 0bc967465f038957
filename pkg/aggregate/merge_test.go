package aggregate_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/budget"
	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/record"
)

// mergeInput is one file's worth of records: pools, an app client learned
// in one file and used without its pool in another, failures, lags.
func mergeInput(a *aggregate.Aggregator, file int) {
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for i := range 50 {
		at := base.Add(time.Duration(i*37+file*11) * time.Second)
		c := class.Class{Category: class.UserPoolAPI, Operation: "InitiateAuth", ClientID: fmt.Sprintf("client%d", i%3)}
		switch {
		case file == 0 && i%5 == 0:
			c.UserPoolID = fmt.Sprintf("us-east-1_pool%d", i%3)
		case i%7 == 0:
			c.Failed, c.ErrorCode = true, "NotAuthorizedException"
		}
		if i%4 == 0 {
			c = class.Class{Category: class.Other}
		}
		a.Add(&record.Record{EventTime: at}, &c, at.Add(time.Duration(file+1)*time.Minute))
	}
	a.AddFinding("mfa-disabled", "high", base)
	// Two files' views of one window (the later knows more) and one each.
	a.AddPeak(metric.DistinctFailingSources, base, float64(3+file), metric.DimUserPoolID, "us-east-1_pool0")
	a.AddPeak(metric.DistinctFailingSources, base.Add(time.Duration(file)*5*time.Minute), 2, metric.DimClientID, "client1")
	a.AddFile(aggregate.Processed, base.Add(10*time.Minute))
	a.AddInvalid(base)
}

// TestMergeIsOneAggregation: files aggregated apart and merged (in either
// order) give the datums of one aggregation over every file, clients
// folded into pools learned in another file included; whether the first
// file is merged into a fresh aggregation (which takes its counts) or is
// read into it.
func TestMergeIsOneAggregation(t *testing.T) {
	opts := &aggregate.Options{Level: metric.Full, MaxPools: 2}
	whole := aggregate.New(opts)
	for f := range 3 {
		mergeInput(whole, f)
	}
	want := slices.Collect(whole.All())
	for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}} {
		merged := aggregate.New(opts)
		for _, f := range order {
			one := aggregate.New(opts)
			mergeInput(one, f)
			merged.Merge(one)
		}
		if got := slices.Collect(merged.All()); !reflect.DeepEqual(got, want) {
			t.Errorf("merged in order %v: %d datums, want the %d of one aggregation", order, len(got), len(want))
		}
	}
	merged := aggregate.New(opts)
	mergeInput(merged, 0)
	for f := 1; f < 3; f++ {
		one := aggregate.New(opts)
		mergeInput(one, f)
		merged.Merge(one)
	}
	if got := slices.Collect(merged.All()); !reflect.DeepEqual(got, want) {
		t.Errorf("file 0 read, the others merged: %d datums, want the %d of one aggregation", len(got), len(want))
	}
}

// TestSetFoldedReplaysABudget: the values a budget folded, recorded and
// set on a fresh aggregation of the same records (another execution
// environment, whose budget knows nothing), give the same datums.
func TestSetFoldedReplaysABudget(t *testing.T) {
	nov := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	fill := func() *aggregate.Aggregator {
		a := aggregate.New(&aggregate.Options{Level: metric.Full})
		for i, pool := range []string{"p1", "p2", "p3", "p4"} {
			c := class.Class{Category: class.UserPoolAPI, Operation: "InitiateAuth", UserPoolID: pool}
			for range 4 - i {
				a.Add(&record.Record{EventTime: nov}, &c, time.Time{})
			}
		}
		return a
	}
	first := fill()
	b := budget.NewMemory(2)
	// Another file spent the budget on other pools first.
	if _, err := b.Admit(context.Background(), "2026-11", metric.DimUserPoolID, []string{"p3"}); err != nil {
		t.Fatal(err)
	}
	if err := first.ApplyBudget(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	folded := first.Folded()
	if len(folded) != 2 || folded[0].Value != "p2" || folded[1].Value != "p4" {
		t.Fatalf("folded %+v, want p2 and p4 (p3 was admitted before, p1 is the busiest)", folded)
	}
	again := fill()
	again.SetFolded(folded)
	if got, want := slices.Collect(again.All()), slices.Collect(first.All()); !reflect.DeepEqual(got, want) {
		t.Errorf("replayed decisions: %d datums differ from the %d of the first attempt", len(got), len(want))
	}
	if reflect.DeepEqual(slices.Collect(fill().All()), slices.Collect(first.All())) {
		t.Error("the test's budget folded nothing")
	}
}

// TestMergeOrderOfResolvedClients: two files whose Resolver answered
// different pools for one app client (a cache refreshed between them)
// merge into the same datums in either order: the smaller pool, as two
// pools the trail gives for one client.
func TestMergeOrderOfResolvedClients(t *testing.T) {
	file := func(pool string) *aggregate.Aggregator {
		a := aggregate.New(&aggregate.Options{Level: metric.Full})
		add(a, idp("InitiateAuth", "c1", "", "NotAuthorizedException"))
		resolve(t, a, resolverOf(map[string]string{"c1": pool}))
		return a
	}
	var got [][]metric.Datum
	for _, order := range [][]string{{"us-east-1_A", "us-east-1_B"}, {"us-east-1_B", "us-east-1_A"}} {
		merged := aggregate.New(&aggregate.Options{Level: metric.Full})
		for _, pool := range order {
			merged.Merge(file(pool))
		}
		ds := slices.Collect(merged.All())
		if v := value(ds, metric.SignInFailures, metric.DimUserPoolID, "us-east-1_A"); v != 2 {
			t.Errorf("merged in order %v: SignInFailures of us-east-1_A %v, want 2", order, v)
		}
		got = append(got, ds)
	}
	if !reflect.DeepEqual(got[0], got[1]) {
		t.Error("the merge order changes the datums")
	}
}

// TestMergeTrailPoolOverResolved: a pool the trail gave for a client, in
// one file, wins over a Resolver's answer for another file in either
// merge order, as within one file.
func TestMergeTrailPoolOverResolved(t *testing.T) {
	resolved := func() *aggregate.Aggregator {
		a := aggregate.New(&aggregate.Options{Level: metric.Full})
		add(a, idp("InitiateAuth", "c1", "", "NotAuthorizedException"))
		resolve(t, a, resolverOf(map[string]string{"c1": "us-east-1_A"}))
		return a
	}
	trail := func() *aggregate.Aggregator {
		a := aggregate.New(&aggregate.Options{Level: metric.Full})
		add(a, idp("UpdateUserPoolClient", "c1", "us-east-1_Z", ""))
		return a
	}
	for _, first := range []bool{true, false} {
		merged := aggregate.New(&aggregate.Options{Level: metric.Full})
		if first {
			merged.Merge(resolved())
			merged.Merge(trail())
		} else {
			merged.Merge(trail())
			merged.Merge(resolved())
		}
		if v := value(slices.Collect(merged.All()), metric.SignInFailures, metric.DimUserPoolID, "us-east-1_Z"); v != 1 {
			t.Errorf("resolved merged first %v: SignInFailures of the trail's pool %v, want 1", first, v)
		}
	}
}

// TestPoolOfLearning: a file read into an aggregation of its own, with
// the files before it merged into another, sees at every record the pool
// PoolOf says when every file is read into one aggregation, whether the
// earlier files or a Resolver named a pool, a smaller or a larger one.
func TestPoolOfLearning(t *testing.T) {
	r := resolverOf(map[string]string{"c3": "us-east-1_R", "c1": "us-east-1_Z"})
	earlier := []record.Record{
		idp("AdminInitiateAuth", "c1", "us-east-1_M", ""), // c1: a larger pool than the file's below
		idp("AdminInitiateAuth", "c2", "us-east-1_A", ""), // c2: a smaller one
		idp("InitiateAuth", "c3", "", "NotAuthorizedException"),
	}
	file := []record.Record{
		idp("InitiateAuth", "c1", "", ""),
		idp("AdminInitiateAuth", "c1", "us-east-1_B", ""),
		idp("InitiateAuth", "c1", "", ""),
		idp("AdminInitiateAuth", "c2", "us-east-1_C", ""),
		idp("InitiateAuth", "c3", "", ""),
		idp("AdminInitiateAuth", "c3", "us-east-1_Q", ""),
		idp("InitiateAuth", "c3", "", ""),
		idp("InitiateAuth", "c4", "", ""),
	}
	one := aggregate.New(nil)
	add(one, earlier...)
	resolve(t, one, r)
	before := aggregate.New(nil)
	add(before, earlier...)
	resolve(t, before, r)
	own := aggregate.New(nil)
	var seen []string
	for i := range file {
		add(one, file[i])
		add(own, file[i])
		for _, c := range []string{"c1", "c2", "c3", "c4"} {
			want, wok := one.PoolOf("us-east-1", c)
			local, _ := own.PoolOf("us-east-1", c)
			got, gok := before.PoolOfLearning("us-east-1", c, local)
			if got != want || gok != wok {
				t.Errorf("after record %d, client %s: %q %v, want %q %v", i, c, got, gok, want, wok)
			}
			seen = append(seen, want)
		}
	}
	for _, p := range []string{"us-east-1_A", "us-east-1_B", "us-east-1_Q", "us-east-1_R"} {
		if !slices.Contains(seen, p) {
			t.Errorf("no record saw %s: the test misses a case", p)
		}
	}
}

// TestMergeKeepsWhatTheTargetHeld: an aggregation holding one kind of
// state only (what Merge must not take for a fresh one and drop) keeps it
// when a file is merged into it.
func TestMergeKeepsWhatTheTargetHeld(t *testing.T) {
	oldest := t0.Add(-time.Hour)
	opts := &aggregate.Options{Level: metric.Full, Oldest: oldest}
	c := class.Class{Category: class.UserPoolAPI, Operation: "InitiateAuth", UserPoolID: "us-east-1_P"}
	for _, tc := range []struct {
		name string
		held func(a *aggregate.Aggregator)
	}{
		{"a record", func(a *aggregate.Aggregator) { a.Add(&record.Record{EventTime: t0}, &c, time.Time{}) }},
		{"a file outcome", func(a *aggregate.Aggregator) { a.AddFile(aggregate.Processed, t0) }},
		{"a peak", func(a *aggregate.Aggregator) {
			a.AddPeak(metric.DistinctFailingSources, t0, 7, metric.DimUserPoolID, "us-east-1_P")
		}},
		{"a record too old", func(a *aggregate.Aggregator) {
			a.Add(&record.Record{EventTime: oldest.Add(-time.Hour)}, &c, time.Time{})
		}},
		{"a budget's folded values", func(a *aggregate.Aggregator) {
			a.SetFolded([]aggregate.Folded{{Month: "2026-11", Dimension: metric.DimUserPoolID, Value: "us-east-1_Q"}})
		}},
	} {
		file := func() *aggregate.Aggregator {
			f := aggregate.New(opts)
			f.Add(&record.Record{EventTime: t0.Add(time.Minute)}, &class.Class{Category: class.UserPoolAPI, Operation: "InitiateAuth", UserPoolID: "us-east-1_Q"}, time.Time{})
			return f
		}
		whole := aggregate.New(opts)
		tc.held(whole)
		whole.Add(&record.Record{EventTime: t0.Add(time.Minute)}, &class.Class{Category: class.UserPoolAPI, Operation: "InitiateAuth", UserPoolID: "us-east-1_Q"}, time.Time{})
		merged := aggregate.New(opts)
		tc.held(merged)
		merged.Merge(file())
		if merged.Stats() != whole.Stats() {
			t.Errorf("%s: stats %+v, want %+v", tc.name, merged.Stats(), whole.Stats())
		}
		got, want := slices.Collect(merged.All()), slices.Collect(whole.All())
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %d datums, want %d", tc.name, len(got), len(want))
		}
	}
}

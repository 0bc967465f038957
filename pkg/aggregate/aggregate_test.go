package aggregate_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
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

// published loads the real-shaped records the classifier is tested on.
func published(t *testing.T) []record.Record {
	files, _ := filepath.Glob("../class/testdata/aws/*.json")
	if len(files) == 0 {
		t.Fatal("no test records")
	}
	var out []record.Record
	p := record.NewParser()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var r record.Record
		if _, err := p.Parse(data, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func aggregateAll(recs []record.Record, opts *aggregate.Options, delivered time.Time) []metric.Datum {
	a := aggregate.New(opts)
	for i := range recs {
		c := class.Classify(&recs[i])
		a.Add(&recs[i], &c, delivered)
	}
	return slices.Collect(a.All())
}

func sum(ds []metric.Datum, name string, dims ...string) float64 {
	var s float64
	for _, d := range ds {
		if d.Name == name && slices.Equal(d.DimensionNames(), dims) {
			s += d.Sum()
		}
	}
	return s
}

func TestTotalsAgree(t *testing.T) {
	recs := published(t)
	ds := aggregateAll(recs, &aggregate.Options{Level: metric.Full}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	n := float64(len(recs))
	if got := sum(ds, metric.RecordsRead); got != n {
		t.Errorf("RecordsRead %v, want %v", got, n)
	}
	if got := sum(ds, metric.Events, metric.DimCategory); got != n {
		t.Errorf("Events by Category %v, want %v", got, n)
	}
	var cognito, failed, signInFailed, config, denied float64
	for i := range recs {
		c := class.Classify(&recs[i])
		if c.Category == class.Other {
			continue
		}
		cognito++
		if c.Failed {
			failed++
			if c.SignIn {
				signInFailed++
			}
		}
		switch {
		case c.ConfigChange && c.Failed:
			denied++
		case c.ConfigChange:
			config++
		}
	}
	if got := sum(ds, metric.Events, metric.DimCategory, metric.DimOperation); got != cognito {
		t.Errorf("Events by Category, Operation %v, want %v", got, cognito)
	}
	if got := sum(ds, metric.Errors, metric.DimCategory); got != failed {
		t.Errorf("Errors %v, want %v", got, failed)
	}
	if got := sum(ds, metric.Errors, metric.DimCategory, metric.DimErrorCode); got != failed {
		t.Errorf("Errors by code %v, want %v", got, failed)
	}
	if got := sum(ds, metric.SignInFailures); got != signInFailed || got == 0 {
		t.Errorf("SignInFailures %v, want %v (> 0)", got, signInFailed)
	}
	if got := sum(ds, metric.UserPoolConfigChanges) + sum(ds, metric.IdentityPoolConfigChanges); got != config || got == 0 {
		t.Errorf("config changes %v, want %v (> 0)", got, config)
	}
	// A call that failed changed nothing: it must not page as a change.
	if got := sum(ds, metric.ConfigChangesDenied); got != denied || got == 0 {
		t.Errorf("ConfigChangesDenied %v, want %v (> 0)", got, denied)
	}
	if got := sum(ds, metric.ConfigChangesDenied, metric.DimOperation); got != denied {
		t.Errorf("ConfigChangesDenied by Operation %v, want %v", got, denied)
	}
	var lagCount float64
	for _, d := range ds {
		if d.Name == metric.DeliveryLagSeconds {
			lagCount += d.SampleCount()
		}
	}
	if lagCount != n {
		t.Errorf("lag samples %v, want %v", lagCount, n)
	}
}

func TestDeterministicWhateverTheOrder(t *testing.T) {
	recs := published(t)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	want := aggregateAll(recs, nil, at)
	r := rand.New(rand.NewPCG(1, 2))
	for range 5 {
		shuffled := slices.Clone(recs)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := aggregateAll(shuffled, nil, at); !reflect.DeepEqual(got, want) {
			t.Fatal("datums depend on record order")
		}
	}
}

// Every datum must be one the catalog declares at or below the level, and
// within PutMetricData's per-datum limits.
func TestDatumsMatchCatalog(t *testing.T) {
	recs := published(t)
	for _, level := range []metric.Level{metric.Basic, metric.Standard, metric.Full} {
		ds := aggregateAll(recs, &aggregate.Options{Level: level}, time.Now())
		names := map[string]bool{}
		for _, d := range ds {
			names[d.Name] = true
			spec, ok := metric.Lookup(d.Name)
			if !ok {
				t.Fatalf("%s: not in the catalog", d.Name)
			}
			found := false
			for _, set := range spec.Sets {
				if slices.Equal(set.Names, d.DimensionNames()) {
					found = true
					if set.Level > level {
						t.Errorf("level %s emitted %s %v of level %s", level, d.Name, set.Names, set.Level)
					}
				}
			}
			if !found {
				t.Errorf("%s %v: dimension set not in the catalog", d.Name, d.DimensionNames())
			}
			if len(d.Values) == 0 || len(d.Values) != len(d.Counts) || len(d.Values) > metric.MaxValuesPerDatum {
				t.Errorf("%s: %d values, %d counts", d.Name, len(d.Values), len(d.Counts))
			}
			if d.Timestamp.Second() != 0 || d.Timestamp.Location() != time.UTC {
				t.Errorf("%s: timestamp %v is not a UTC minute", d.Name, d.Timestamp)
			}
			for _, dim := range d.Dimensions {
				if dim.Value == "" || record.IsHidden(dim.Value) {
					t.Errorf("%s: dimension %s = %q", d.Name, dim.Name, dim.Value)
				}
			}
		}
		if level == metric.Basic && (sum(ds, metric.Events, metric.DimCategory, metric.DimOperation) != 0) {
			t.Error("basic level published per-operation series")
		}
		if level == metric.Full && !names[metric.UserPoolConfigChanges] {
			t.Error("no UserPoolConfigChanges from records that change config")
		}
	}
}

func TestPoolCapKeepsBusiest(t *testing.T) {
	var recs []record.Record
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	// pool i gets i+1 failed sign-ins
	for i := range 30 {
		for range i + 1 {
			recs = append(recs, record.Record{
				EventTime: t0, EventSource: class.SourceUserPool, EventType: "AwsApiCall",
				EventName: "InitiateAuth", ErrorCode: "NotAuthorizedException",
				UserPoolID: fmt.Sprintf("us-east-1_pool%02d", i),
			})
		}
	}
	ds := aggregateAll(recs, &aggregate.Options{MaxPools: 5}, time.Time{})
	var pools []string
	for _, d := range ds {
		if d.Name == metric.SignInFailures && len(d.Dimensions) == 1 {
			pools = append(pools, d.Dimensions[0].Value)
		}
	}
	want := []string{"us-east-1_pool25", "us-east-1_pool26", "us-east-1_pool27", "us-east-1_pool28", "us-east-1_pool29"}
	if !slices.Equal(pools, want) {
		t.Errorf("kept %v, want the five busiest %v", pools, want)
	}
	if got, want := sum(ds, metric.SignInFailures), float64(len(recs)); got != want {
		t.Errorf("total sign-in failures %v, want %v: the cap must not lose counts", got, want)
	}
}

func TestLagSplitsAtTheValuesLimit(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	var recs []record.Record
	for i := range 400 {
		recs = append(recs, record.Record{EventTime: t0.Add(time.Duration(i%2) * time.Millisecond), EventSource: "s3.amazonaws.com"})
	}
	// 400 records with 400 distinct lags
	a := aggregate.New(nil)
	for i := range recs {
		c := class.Classify(&recs[i])
		a.Add(&recs[i], &c, t0.Add(time.Duration(i)*time.Second+time.Hour))
	}
	var n float64
	var datums int
	for _, d := range slices.Collect(a.All()) {
		if d.Name == metric.DeliveryLagSeconds {
			datums++
			n += d.SampleCount()
			if len(d.Values) > metric.MaxValuesPerDatum {
				t.Errorf("%d values in one datum", len(d.Values))
			}
		}
	}
	if n != 400 || datums != 3 {
		t.Errorf("%v samples in %d datums, want 400 in 3", n, datums)
	}
}

func TestFileOutcomes(t *testing.T) {
	a := aggregate.New(nil)
	at := time.Date(2026, 11, 20, 10, 7, 31, 0, time.UTC)
	a.AddFile(aggregate.Processed, at)
	a.AddFile(aggregate.Processed, at)
	a.AddFile(aggregate.Skipped, at)
	a.AddFile(aggregate.Failed, at)
	a.AddInvalid(at)
	got := map[string]float64{}
	for _, d := range slices.Collect(a.All()) {
		got[d.Name] += d.Sum()
		if !d.Timestamp.Equal(at.Truncate(time.Minute)) {
			t.Errorf("%s at %v", d.Name, d.Timestamp)
		}
	}
	want := map[string]float64{metric.FilesProcessed: 2, metric.FilesSkipped: 1, metric.FilesFailed: 1, metric.RecordsInvalid: 1}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// An endpoint operation pkg/class does not list is counted in
// UnlistedOperations (total at basic, per operation at standard), so that a
// new AWS operation is noticed; a listed one is not.
func TestUnlistedOperationsCounted(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	rec := func(name string) record.Record {
		return record.Record{EventTime: t0, EventSource: class.SourceUserPool, EventType: "AwsServiceEvent", EventName: name}
	}
	recs := []record.Record{rec("passkeys_delete_POST"), rec("passkeys_delete_POST"), rec("Consent_POST"), rec("login_POST"), rec("Login_GET")}
	for _, lvl := range []metric.Level{metric.Basic, metric.Standard} {
		ds := aggregateAll(recs, &aggregate.Options{Level: lvl}, time.Time{})
		if got := sum(ds, metric.UnlistedOperations); got != 3 {
			t.Errorf("%s: UnlistedOperations %v, want 3", lvl, got)
		}
		per := map[string]float64{}
		for _, d := range ds {
			if d.Name == metric.UnlistedOperations && len(d.Dimensions) == 1 {
				per[d.Dimensions[0].Value] += d.Sum()
			}
		}
		want := map[string]float64{"passkeys_delete_POST": 2, "Consent_POST": 1}
		if lvl == metric.Basic {
			want = map[string]float64{}
		}
		if !reflect.DeepEqual(per, want) {
			t.Errorf("%s: per operation %v, want %v", lvl, per, want)
		}
	}
}

func TestSyncSettingsCountAsIdentityPoolConfigChanges(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	recs := []record.Record{{EventTime: at, EventSource: class.SourceSync, EventName: "SetCognitoEvents",
		IdentityPoolID: "us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE"}}
	ds := aggregateAll(recs, nil, at)
	if got := sum(ds, metric.IdentityPoolConfigChanges); got != 1 {
		t.Errorf("IdentityPoolConfigChanges %v, want 1", got)
	}
	if got := sum(ds, metric.IdentityPoolConfigChanges, metric.DimIdentityPoolID); got != 1 {
		t.Errorf("IdentityPoolConfigChanges by pool %v, want 1", got)
	}
	if got := sum(ds, metric.UserPoolConfigChanges); got != 0 {
		t.Errorf("UserPoolConfigChanges %v, want 0", got)
	}
}

func TestFindingsByLevel(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		level              metric.Level
		bySeverity, byName float64
	}{{metric.Basic, 2, 0}, {metric.Standard, 2, 2}} {
		a := aggregate.New(&aggregate.Options{Level: tc.level})
		a.AddFinding("identity-pool-deleted", "high", at)
		a.AddFinding("user-pool-domain-changed", "medium", at.Add(time.Minute))
		ds := slices.Collect(a.All())
		if got := sum(ds, metric.Findings, metric.DimSeverity); got != tc.bySeverity {
			t.Errorf("%s: Findings by Severity %v, want %v", tc.level, got, tc.bySeverity)
		}
		if got := sum(ds, metric.Findings, metric.DimFinding); got != tc.byName {
			t.Errorf("%s: Findings by Finding %v, want %v", tc.level, got, tc.byName)
		}
	}
}

// TestOldestNotAggregated: what is dated before Options.Oldest (CloudWatch
// would reject it) is counted in Stats, not in any datum; a minute that
// starts before Oldest is dropped whole, as the sink's age filter drops it.
func TestOldestNotAggregated(t *testing.T) {
	oldest := time.Date(2026, 11, 15, 10, 0, 30, 0, time.UTC)
	a := aggregate.New(&aggregate.Options{Oldest: oldest})
	delivered := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	other := class.Class{Category: class.Other}
	for _, at := range []time.Time{
		time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),    // a month old
		time.Date(2026, 11, 15, 10, 0, 45, 0, time.UTC), // after Oldest, but its minute starts before
		time.Date(2026, 11, 15, 10, 1, 0, 0, time.UTC),  // the first minute kept
		time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC),
	} {
		a.Add(&record.Record{EventTime: at}, &other, delivered)
	}
	a.AddFinding("SelfSignUpEnabled", "HIGH", time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))
	a.AddFile(aggregate.Processed, time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))
	a.AddFile(aggregate.Processed, delivered)
	// Records only: the finding and the file outcome dropped with them are
	// not records (issue 17: "recordsTooOld" said 44 for a 36-record file).
	if got := a.Stats().TooOld; got != 2 {
		t.Errorf("TooOld %d, want 2 (the two records)", got)
	}
	ds := slices.Collect(a.All())
	if got := sum(ds, metric.RecordsRead); got != 2 {
		t.Errorf("RecordsRead %v, want 2", got)
	}
	if got := sum(ds, metric.FilesProcessed); got != 1 {
		t.Errorf("FilesProcessed %v, want 1", got)
	}
	var lags float64
	for _, d := range ds {
		if d.Timestamp.Before(oldest) {
			t.Errorf("datum dated %v, before %v: %+v", d.Timestamp, oldest, d)
		}
		if d.Name == metric.DeliveryLagSeconds {
			lags += d.SampleCount()
		}
		if d.Name == metric.Findings {
			t.Errorf("a finding dated before Oldest was counted: %+v", d)
		}
	}
	if lags != 2 {
		t.Errorf("%v delivery lag samples, want 2", lags)
	}
}

// TestAllIsDatums: the iterator yields Datums' datums, and stops when told.
func TestAllIsDatums(t *testing.T) {
	recs := published(t)
	a := aggregate.New(&aggregate.Options{Level: metric.Full})
	for i := range recs {
		c := class.Classify(&recs[i])
		a.Add(&recs[i], &c, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	}
	want := slices.Collect(a.All())
	if got := slices.Collect(a.All()); !reflect.DeepEqual(got, want) {
		t.Fatalf("All gives %d datums, Datums %d", len(got), len(want))
	}
	n := 0
	for range a.All() {
		if n++; n == 3 {
			break
		}
	}
	if n != 3 || len(want) < 3 {
		t.Fatalf("stopped after %d of %d", n, len(want))
	}
}

// TestPeaks: a peak series keeps the largest value of each minute (one
// datum, Values [v] Counts [1], that the Maximum statistic reads), the
// series without dimensions the largest of all pools, and a value folded
// into OtherValue by the budget takes the largest, never the sum.
func TestPeaks(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 5, 0, 0, time.UTC)
	fill := func(level metric.Level) *aggregate.Aggregator {
		a := aggregate.New(&aggregate.Options{Level: level})
		for _, pool := range []string{"us-east-1_A", "us-east-1_B", "us-east-1_C"} {
			c := class.Class{Category: class.UserPoolAPI, Operation: "InitiateAuth", UserPoolID: pool, SignIn: true, Failed: true, ErrorCode: "NotAuthorizedException"}
			a.Add(&record.Record{EventTime: at}, &c, time.Time{})
		}
		a.AddPeak(metric.DistinctFailingSources, at, 3, metric.DimUserPoolID, "us-east-1_A")
		a.AddPeak(metric.DistinctFailingSources, at.Add(30*time.Second), 5, metric.DimUserPoolID, "us-east-1_A")
		a.AddPeak(metric.DistinctFailingSources, at, 4, metric.DimUserPoolID, "us-east-1_B")
		a.AddPeak(metric.DistinctFailingSources, at, 2, metric.DimUserPoolID, "us-east-1_C")
		return a
	}
	peaks := func(ds []metric.Datum) map[string][]float64 {
		out := map[string][]float64{}
		for _, d := range ds {
			if d.Name != metric.DistinctFailingSources {
				continue
			}
			if !d.Timestamp.Equal(at) || len(d.Counts) != 1 || d.Counts[0] != 1 {
				t.Errorf("%v at %s: Values %v Counts %v, want one value at %s", d.Dimensions, d.Timestamp, d.Values, d.Counts, at)
			}
			out[fmt.Sprint(d.Dimensions)] = d.Values
		}
		return out
	}
	key := func(dims ...metric.Dimension) string { return fmt.Sprint(dims) }
	pool := func(v string) string { return key(metric.Dimension{Name: metric.DimUserPoolID, Value: v}) }

	want := map[string][]float64{key(): {5}, pool("us-east-1_A"): {5}, pool("us-east-1_B"): {4}, pool("us-east-1_C"): {2}}
	if got := peaks(slices.Collect(fill(metric.Standard).All())); !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("standard: %v, want %v", got, want)
	}
	if got := peaks(slices.Collect(fill(metric.Basic).All())); !maps.EqualFunc(got, map[string][]float64{key(): {5}}, slices.Equal) {
		t.Errorf("basic: %v, want only %s 5", got, key())
	}

	// A later file saw more of the window: Merge keeps its view.
	a, later := fill(metric.Standard), aggregate.New(&aggregate.Options{Level: metric.Standard})
	later.AddPeak(metric.DistinctFailingSources, at, 9, metric.DimUserPoolID, "us-east-1_B")
	a.Merge(later)
	want[key()], want[pool("us-east-1_B")] = []float64{9}, []float64{9}
	if got := peaks(slices.Collect(a.All())); !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("merged: %v, want %v", got, want)
	}

	// A budget of one pool: B and C meet in OtherValue, which keeps 9.
	a = fill(metric.Standard)
	a.Merge(later)
	if err := a.ApplyBudget(context.Background(), budget.NewMemory(1)); err != nil {
		t.Fatal(err)
	}
	got := peaks(slices.Collect(a.All()))
	if v := got[pool(aggregate.OtherValue)]; !slices.Equal(v, []float64{9}) {
		t.Errorf("budget of one pool: %s = %v, want [9] (the larger, not a sum): %v", pool(aggregate.OtherValue), v, got)
	}
}

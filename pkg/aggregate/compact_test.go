package aggregate

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/budget"
	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/record"
)

// staticResolver answers by "region/client"; it answers a pool of another
// Region for eu-west-1/client3, which the aggregation must not take.
type staticResolver map[string]string

func (staticResolver) Learn(string, string) {}
func (s staticResolver) Resolve(_ context.Context, region, c string) (string, error) {
	return s[region+"/"+c], nil
}

// feeder adds the same random input to several aggregators.
type feeder interface {
	Add(*record.Record, *class.Class, time.Time)
	AddFinding(name, severity string, at time.Time)
	AddInvalid(at time.Time)
	AddFile(FileOutcome, time.Time)
}

func randomInput(rng *rand.Rand, n int, span time.Duration, to ...feeder) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	delivered := start.Add(span + 5*time.Minute)
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	for i := range n {
		r := record.Record{EventTime: start.Add(time.Duration(rng.Int64N(int64(span)))), AWSRegion: pick("us-east-1", "us-east-1", "eu-west-1", "")}
		c := class.Class{Category: class.Category(rng.IntN(class.NumCategories))}
		if c.Category != class.Other {
			c.Operation = pick("InitiateAuth", "SignUp", "UpdateUserPool", "GetId", "AssumeRoleWithWebIdentity", "")
			c.Failed = rng.IntN(3) == 0
			c.ErrorCode = pick("", "NotAuthorizedException", "UserNotFoundException")
			c.SignIn = rng.IntN(2) == 0
			c.ForgotPassword = rng.IntN(5) == 0
			c.ConfigChange = rng.IntN(5) == 0
			c.Unlisted = rng.IntN(9) == 0
			c.UserPoolID = pick("", "", "us-east-1_A", "us-east-1_B", "us-east-1_C", "eu-west-1_A", fmt.Sprintf("us-east-1_P%d", rng.IntN(30)))
			c.IdentityPoolID = pick("", "", "us-east-1:a", "us-east-1:b")
			c.ClientID = pick("", "", "client1", "client2", "client3", fmt.Sprintf("sprayed%d", rng.IntN(40)))
			c.AuthType = class.AuthType(pick("", "", string(class.Authenticated), string(class.Unauthenticated)))
		}
		var at time.Time
		if rng.IntN(4) > 0 {
			at = delivered
		}
		for _, f := range to {
			f.Add(&r, &c, at)
		}
		if i%50 == 0 {
			name, sev, o := pick("SelfSignUpEnabled", "MfaOff"), pick("HIGH", "MEDIUM"), FileOutcome(rng.IntN(3))
			for _, f := range to {
				f.AddFinding(name, sev, r.EventTime)
				f.AddInvalid(delivered)
				f.AddFile(o, delivered)
			}
		}
	}
}

// TestMatchesReference: the compact cells give, datum for datum and in the
// same order, what the string-keyed aggregator gave, at every level and
// under tight caps, folding resolved clients into their pools.
func TestMatchesReference(t *testing.T) {
	for seed := range uint64(12) {
		rng := rand.New(rand.NewPCG(seed, 1))
		opts := &Options{Level: metric.Level(1 + seed%3), MaxPools: 1 + int(seed%4)*3, MaxOperations: 2 + int(seed%3)}
		span := []time.Duration{5 * time.Minute, 15 * time.Hour, 30 * 24 * time.Hour}[seed%3]
		got, want := New(opts), newRef(opts)
		randomInput(rng, 3000, span, got, want)
		res := staticResolver{"us-east-1/client2": "us-east-1_B", "us-east-1/sprayed3": "us-east-1_Z", "eu-west-1/client2": "eu-west-1_B", "eu-west-1/client3": "us-east-1_C"}
		if _, err := got.ResolveClients(context.Background(), res); err != nil {
			t.Fatal(err)
		}
		if _, err := want.ResolveClients(context.Background(), res); err != nil {
			t.Fatal(err)
		}
		if seed%2 == 1 {
			// A budget never spent changes nothing.
			if err := got.ApplyBudget(context.Background(), budget.NewMemory(1<<20)); err != nil {
				t.Fatal(err)
			}
		}
		g, w := slices.Collect(got.All()), slices.Collect(want.All())
		if len(w) == 0 {
			t.Fatal("no datums")
		}
		if !reflect.DeepEqual(g, w) {
			for i := range min(len(g), len(w)) {
				if !reflect.DeepEqual(g[i], w[i]) {
					t.Fatalf("seed %d: %d datums, want %d; first difference at %d:\n got %+v\nwant %+v", seed, len(g), len(w), i, g[i], w[i])
				}
			}
			t.Fatalf("seed %d: %d datums, want %d", seed, len(g), len(w))
		}
	}
}

// tape records the calls of randomInput to replay them.
type tape struct{ calls []func(feeder) }

func (t *tape) Add(r *record.Record, c *class.Class, at time.Time) {
	r2, c2 := *r, *c
	t.calls = append(t.calls, func(f feeder) { f.Add(&r2, &c2, at) })
}
func (t *tape) AddFinding(name, severity string, at time.Time) {
	t.calls = append(t.calls, func(f feeder) { f.AddFinding(name, severity, at) })
}
func (t *tape) AddInvalid(at time.Time) {
	t.calls = append(t.calls, func(f feeder) { f.AddInvalid(at) })
}
func (t *tape) AddFile(o FileOutcome, at time.Time) {
	t.calls = append(t.calls, func(f feeder) { f.AddFile(o, at) })
}

// BenchmarkAggregate compares the compact aggregator with the reference on
// a small file (100 records: Datums' fixed cost), a large one (100,000
// records in 5 minutes: Add's cost) and a month-long one.
func BenchmarkAggregate(b *testing.B) {
	for _, c := range []struct {
		name string
		n    int
		span time.Duration
	}{{"100-records", 100, 5 * time.Minute}, {"100k-records", 100_000, 5 * time.Minute}, {"100k-records-30d", 100_000, 30 * 24 * time.Hour}} {
		var t tape
		randomInput(rand.New(rand.NewPCG(1, 1)), c.n, c.span, &t)
		for _, impl := range []string{"compact", "reference"} {
			b.Run(c.name+"/"+impl, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					var f interface {
						feeder
						All() iter.Seq[metric.Datum]
					}
					if impl == "compact" {
						f = New(nil)
					} else {
						f = newRef(nil)
					}
					for _, call := range t.calls {
						call(f)
					}
					_ = slices.Collect(f.All())
				}
			})
		}
	}
}

// TestMergeIntoFreshTakesTheFile: merged into a fresh aggregation, a file's
// counts are taken, not copied (a run of one file would otherwise hold
// them twice at its peak), and the file is left empty, so that a use of it
// afterwards fails rather than shares the run's maps; merged into one that
// holds counts, they are copied.
func TestMergeIntoFreshTakesTheFile(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	file := func() *Aggregator {
		f := New(nil)
		c := class.Class{Category: class.UserPoolAPI, Operation: "InitiateAuth", UserPoolID: "us-east-1_P", ClientID: "c1"}
		f.Add(&record.Record{EventTime: at, AWSRegion: "us-east-1"}, &c, at.Add(5*time.Minute))
		return f
	}
	run, f := New(nil), file()
	counts := reflect.ValueOf(f.byShape).Pointer()
	run.Merge(f)
	if reflect.ValueOf(run.byShape).Pointer() != counts || f.byShape != nil || f.lag.rows != nil || run.lag.empty() {
		t.Fatal("merged into a fresh aggregation, the file's counts were copied, or the file still holds them")
	}
	g := file()
	counts = reflect.ValueOf(g.byShape).Pointer()
	run.Merge(g)
	if reflect.ValueOf(run.byShape).Pointer() == counts || g.byShape == nil {
		t.Fatal("merged into an aggregation that holds counts, the file's were taken")
	}
}

// TestMinuteRowListsEachShapeOnce: a minute's records wait in a row, each
// shape listed once however many records it counts, and reach the map
// when the minute changes, once per cell.
func TestMinuteRowListsEachShapeOnce(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	a := New(nil)
	c := class.Class{Category: class.UserPoolAPI, Operation: "InitiateAuth", UserPoolID: "us-east-1_P"}
	other := class.Class{Category: class.Other}
	for i := range 1000 {
		cl := &c
		if i%3 == 0 {
			cl = &other
		}
		a.Add(&record.Record{EventTime: at.Add(time.Duration(i%60) * time.Second), AWSRegion: "us-east-1"}, cl, time.Time{})
	}
	if len(a.row.ids) != 2 || len(a.byShape) != 0 {
		t.Fatalf("one minute, two shapes: row lists %d, map holds %d", len(a.row.ids), len(a.byShape))
	}
	a.Add(&record.Record{EventTime: at.Add(time.Minute)}, &other, time.Time{})
	if len(a.row.ids) != 1 || len(a.byShape) != 2 || a.byShape[cell{minute: minuteOf(at), id: a.other}] != 334 {
		t.Fatalf("the next minute: row lists %d, map %v", len(a.row.ids), a.byShape)
	}
}

package aggregate_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/record"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// idp builds a cognito-idp API record made in us-east-1.
func idp(name, client, pool, errorCode string) record.Record {
	return record.Record{
		EventTime: t0, EventSource: class.SourceUserPool, EventName: name, EventType: "AwsApiCall",
		AWSRegion: "us-east-1", ClientID: client, UserPoolID: pool, ErrorCode: errorCode,
	}
}

// in returns r as made in region.
func in(region string, r record.Record) record.Record {
	r.AWSRegion = region
	return r
}

// value is the sum of the datums of name with exactly the dimensions dims
// (name, value pairs).
func value(ds []metric.Datum, name string, dims ...string) float64 {
	var want []metric.Dimension
	for i := 0; i+1 < len(dims); i += 2 {
		want = append(want, metric.Dimension{Name: dims[i], Value: dims[i+1]})
	}
	var s float64
	for _, d := range ds {
		if d.Name == name && slices.Equal(d.Dimensions, want) {
			s += d.Sum()
		}
	}
	return s
}

func add(a *aggregate.Aggregator, recs ...record.Record) {
	for i := range recs {
		c := class.Classify(&recs[i])
		a.Add(&recs[i], &c, time.Time{})
	}
}

// signIns: three failed sign-ins and one password reset through client
// "webclient", which only the CreateUserPoolClient record ties to its pool.
func signIns() []record.Record {
	return []record.Record{
		idp("InitiateAuth", "webclient", "", "NotAuthorizedException"),
		idp("RespondToAuthChallenge", "webclient", "", "CodeMismatchException"),
		idp("InitiateAuth", "webclient", "", "NotAuthorizedException"),
		idp("ForgotPassword", "webclient", "", ""),
		idp("InitiateAuth", "webclient", "", ""),
	}
}

func TestClientResolvedFromTheSameFileWhateverTheOrder(t *testing.T) {
	create := idp("CreateUserPoolClient", "webclient", "us-east-1_Pool1", "")
	for name, recs := range map[string][]record.Record{
		"client created after the sign-ins":  append(signIns(), create),
		"client created before the sign-ins": append([]record.Record{create}, signIns()...),
	} {
		t.Run(name, func(t *testing.T) {
			a := aggregate.New(&aggregate.Options{Level: metric.Full})
			add(a, recs...)
			ds := slices.Collect(a.All())
			if got := value(ds, metric.SignInFailures, metric.DimUserPoolID, "us-east-1_Pool1"); got != 3 {
				t.Errorf("SignInFailures by pool = %v, want 3", got)
			}
			if got := value(ds, metric.ForgotPasswordRequests, metric.DimUserPoolID, "us-east-1_Pool1"); got != 1 {
				t.Errorf("ForgotPasswordRequests by pool = %v, want 1", got)
			}
			if got := value(ds, metric.Events, metric.DimCategory, "user-pool-api", metric.DimUserPoolID, "us-east-1_Pool1"); got != 6 {
				t.Errorf("Events by category and pool = %v, want 6", got)
			}
			if got := sum(ds, metric.SignInFailures, metric.DimClientID); got != 0 {
				t.Errorf("SignInFailures by ClientId = %v, want 0 once resolved", got)
			}
			if got := value(ds, metric.SignInFailures); got != 3 {
				t.Errorf("SignInFailures total = %v, want 3", got)
			}
		})
	}
}

func TestUnresolvedClientCountsUnderClientId(t *testing.T) {
	a := aggregate.New(nil)
	// A failed AdminInitiateAuth names a pool and a client, but may name a
	// client of another pool: it must not teach the pair.
	add(a, append(signIns(), idp("AdminInitiateAuth", "webclient", "us-east-1_Other", "ResourceNotFoundException"))...)
	ds := slices.Collect(a.All())
	if got := value(ds, metric.SignInFailures, metric.DimClientID, "webclient"); got != 3 {
		t.Errorf("SignInFailures by ClientId = %v, want 3", got)
	}
	if got := value(ds, metric.ForgotPasswordRequests, metric.DimClientID, "webclient"); got != 1 {
		t.Errorf("ForgotPasswordRequests by ClientId = %v, want 1", got)
	}
	if got := value(ds, metric.SignInFailures, metric.DimUserPoolID, "us-east-1_Other"); got != 1 {
		t.Errorf("the AdminInitiateAuth failure counts under its own pool: %v, want 1", got)
	}
	if got := value(ds, metric.SignInFailures); got != 4 {
		t.Errorf("SignInFailures total = %v, want 4", got)
	}
	if _, ok := a.PoolOf("us-east-1", "webclient"); ok {
		t.Error("a failed record taught a pair")
	}
}

func TestClientIdsAreCappedLikePools(t *testing.T) {
	a := aggregate.New(&aggregate.Options{MaxPools: 2})
	for i := range 5 {
		for range i + 1 {
			add(a, idp("InitiateAuth", fmt.Sprintf("client%d", i), "", "NotAuthorizedException"))
		}
	}
	ds := slices.Collect(a.All())
	var kept []string
	for _, d := range ds {
		if d.Name == metric.SignInFailures && len(d.Dimensions) == 1 && d.Dimensions[0].Name == metric.DimClientID {
			kept = append(kept, d.Dimensions[0].Value)
		}
	}
	if !slices.Equal(kept, []string{"client3", "client4"}) {
		t.Errorf("kept %v, want the two busiest", kept)
	}
	if got := value(ds, metric.SignInFailures); got != 15 {
		t.Errorf("total %v, want 15: the cap drops series, not counts", got)
	}
}

// fakeResolver is a Resolver over a map.
type fakeResolver struct {
	pools   map[string]string
	learned map[string]string
	asked   []string
	err     error
}

func (f *fakeResolver) Learn(c, p string) { f.learned[c] = p }

// Resolve answers f.pools[client], whatever the Region: the aggregation
// must not take a pool of another Region.
func (f *fakeResolver) Resolve(_ context.Context, region, c string) (string, error) {
	f.asked = append(f.asked, region+"/"+c)
	return f.pools[c], f.err
}

// resolverOf is a fakeResolver that knows pools and has learned nothing.
func resolverOf(pools map[string]string) *fakeResolver {
	return &fakeResolver{pools: pools, learned: map[string]string{}}
}

// resolve runs a.ResolveClients with r, which must not fail: the tests
// that call it are about what it resolved, not about a lookup's error.
func resolve(t *testing.T, a *aggregate.Aggregator, r aggregate.Resolver) aggregate.ClientStats {
	t.Helper()
	st, err := a.ResolveClients(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestResolveClients(t *testing.T) {
	a := aggregate.New(nil)
	add(a, idp("InitiateAuth", "known", "", "NotAuthorizedException"),
		idp("InitiateAuth", "unknown", "", "NotAuthorizedException"),
		idp("InitiateAuth", "intrail", "", "NotAuthorizedException"),
		idp("UpdateUserPoolClient", "intrail", "us-east-1_Trail", ""))
	r := resolverOf(map[string]string{"known": "us-east-1_Known"})
	st := resolve(t, a, r)
	if want := (aggregate.ClientStats{FromTrail: 1, FromResolver: 1, Unresolved: 1}); st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
	if r.learned["intrail"] != "us-east-1_Trail" {
		t.Errorf("resolver learned %v", r.learned)
	}
	if !slices.Equal(r.asked, []string{"us-east-1/known", "us-east-1/unknown"}) {
		t.Errorf("asked %v: the trail's own pairs need no lookup", r.asked)
	}
	ds := slices.Collect(a.All())
	for _, pool := range []string{"us-east-1_Known", "us-east-1_Trail"} {
		if got := value(ds, metric.SignInFailures, metric.DimUserPoolID, pool); got != 1 {
			t.Errorf("%s: %v, want 1", pool, got)
		}
	}
	if got := value(ds, metric.SignInFailures, metric.DimClientID, "unknown"); got != 1 {
		t.Errorf("unknown client: %v, want 1", got)
	}
}

func TestFailedLookupLosesNothing(t *testing.T) {
	a := aggregate.New(nil)
	add(a, idp("InitiateAuth", "c1", "", "NotAuthorizedException"))
	boom := errors.New("throttled")
	_, err := a.ResolveClients(context.Background(), &fakeResolver{learned: map[string]string{}, err: boom})
	if !errors.Is(err, boom) {
		t.Errorf("error %v, want the lookup's", err)
	}
	if got := value(slices.Collect(a.All()), metric.SignInFailures, metric.DimClientID, "c1"); got != 1 {
		t.Errorf("SignInFailures by ClientId = %v, want 1", got)
	}
}

// The same app client id names pools in two Regions (AWS's published
// examples use 1example23456789 for a us-east-1 and an eu-west-1 pool):
// each call goes to the pool of its own Region, whichever pool id sorts
// first, and a call of a third Region, or with no Region, to none.
func TestClientPairsAreScopedByRegion(t *testing.T) {
	const client = "1example23456789"
	recs := []record.Record{
		in("us-east-1", idp("ForgotPassword", client, "", "")),
		in("us-east-1", idp("ForgotPassword", client, "", "")),
		in("eu-west-1", idp("ForgotPassword", client, "", "")),
		in("ap-south-1", idp("ForgotPassword", client, "", "")),
		in("", idp("ForgotPassword", client, "", "")),
		in("us-east-1", idp("CreateUserPoolClient", client, "us-east-1_kV3pT9mQx", "")),
		in("eu-west-1", idp("UpdateUserPoolClient", client, "eu-west-1_Rb7nW2yLc", "")),
	}
	reversed := slices.Clone(recs)
	slices.Reverse(reversed)
	for _, order := range [][]record.Record{recs, reversed} {
		a := aggregate.New(nil)
		add(a, order...)
		ds := slices.Collect(a.All())
		for pool, want := range map[string]float64{"us-east-1_kV3pT9mQx": 2, "eu-west-1_Rb7nW2yLc": 1} {
			if got := value(ds, metric.ForgotPasswordRequests, metric.DimUserPoolID, pool); got != want {
				t.Errorf("ForgotPasswordRequests of %s = %v, want %v", pool, got, want)
			}
		}
		if got := value(ds, metric.ForgotPasswordRequests, metric.DimClientID, client); got != 2 {
			t.Errorf("ForgotPasswordRequests by ClientId = %v, want 2 (ap-south-1 and no Region)", got)
		}
		for region, want := range map[string]string{"us-east-1": "us-east-1_kV3pT9mQx", "eu-west-1": "eu-west-1_Rb7nW2yLc", "ap-south-1": ""} {
			if got, _ := a.PoolOf(region, client); got != want {
				t.Errorf("PoolOf(%s) = %q, want %q", region, got, want)
			}
		}
	}
}

// A Resolver's answer of a pool in another Region than the call's is not
// taken: the call stays under ClientId.
func TestResolverAnswerOfAnotherRegionIsRefused(t *testing.T) {
	a := aggregate.New(nil)
	add(a, in("eu-west-1", idp("InitiateAuth", "web", "", "NotAuthorizedException")))
	r := resolverOf(map[string]string{"web": "us-east-1_Wrong"})
	st := resolve(t, a, r)
	if want := (aggregate.ClientStats{Unresolved: 1}); st != want || !slices.Equal(r.asked, []string{"eu-west-1/web"}) {
		t.Errorf("stats %+v, asked %v; want %+v, asked for eu-west-1/web", st, r.asked, want)
	}
	ds := slices.Collect(a.All())
	if got := value(ds, metric.SignInFailures, metric.DimUserPoolID, "us-east-1_Wrong"); got != 0 {
		t.Errorf("an eu-west-1 call counted on a us-east-1 pool: %v", got)
	}
	if got := value(ds, metric.SignInFailures, metric.DimClientID, "web"); got != 1 {
		t.Errorf("SignInFailures by ClientId = %v, want 1", got)
	}
}

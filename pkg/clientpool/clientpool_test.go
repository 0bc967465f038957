package clientpool_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognitrail/cognitrail/pkg/clientpool"
	"github.com/cognitrail/cognitrail/pkg/record"
)

// fakeLookup serves pools and clients two to a page.
type fakeLookup struct {
	pools      map[string][]string
	order      []string
	poolCalls  int
	clientCall int
	failPools  error
}

func page[T any](items []T, token *string) ([]T, *string) {
	start := 0
	if token != nil {
		fmt.Sscan(*token, &start)
	}
	end := min(start+2, len(items))
	if end < len(items) {
		return items[start:end], aws.String(fmt.Sprint(end))
	}
	return items[start:end], nil
}

func (f *fakeLookup) ListUserPools(_ context.Context, in *cip.ListUserPoolsInput, _ ...func(*cip.Options)) (*cip.ListUserPoolsOutput, error) {
	f.poolCalls++
	if f.failPools != nil {
		return nil, f.failPools
	}
	if aws.ToInt32(in.MaxResults) < 1 || aws.ToInt32(in.MaxResults) > 60 {
		return nil, errors.New("MaxResults out of range")
	}
	ids, next := page(f.order, in.NextToken)
	out := &cip.ListUserPoolsOutput{NextToken: next}
	for _, id := range ids {
		out.UserPools = append(out.UserPools, types.UserPoolDescriptionType{Id: aws.String(id)})
	}
	return out, nil
}

func (f *fakeLookup) ListUserPoolClients(_ context.Context, in *cip.ListUserPoolClientsInput, _ ...func(*cip.Options)) (*cip.ListUserPoolClientsOutput, error) {
	f.clientCall++
	ids, next := page(f.pools[aws.ToString(in.UserPoolId)], in.NextToken)
	out := &cip.ListUserPoolClientsOutput{NextToken: next}
	for _, id := range ids {
		out.UserPoolClients = append(out.UserPoolClients, types.UserPoolClientDescription{ClientId: aws.String(id), UserPoolId: in.UserPoolId})
	}
	return out, nil
}

// clock is a fake clock whose Wait advances it.
type clock struct {
	now    time.Time
	waited time.Duration
}

func (c *clock) Now() time.Time { return c.now }
func (c *clock) Wait(_ context.Context, d time.Duration) error {
	c.waited += d
	c.now = c.now.Add(d)
	return nil
}

func newLookup() *fakeLookup {
	return &fakeLookup{
		order: []string{"us-east-1_A", "us-east-1_B", "us-east-1_C"},
		pools: map[string][]string{
			"us-east-1_A": {"a1", "a2", "a3"},
			"us-east-1_B": {"b1"},
			"us-east-1_C": {},
		},
	}
}

func TestLookupPaginatesPacesAndCaches(t *testing.T) {
	f := newLookup()
	c := &clock{now: time.Unix(1e9, 0)}
	r := clientpool.New(&clientpool.Options{Region: "us-east-1", Lookup: f, Now: c.Now, Wait: c.Wait, RequestsPerSecond: 4, RelistAfter: time.Hour})
	ctx := context.Background()
	if p, err := r.Resolve(ctx, "us-east-1", "a3"); p != "us-east-1_A" || err != nil {
		t.Fatalf("a3: %q %v", p, err)
	}
	// 2 pages of pools, 2 of A's clients, 1 of B's, 1 of C's.
	if f.poolCalls != 2 || f.clientCall != 4 {
		t.Errorf("calls: %d pools, %d clients; want 2 and 4", f.poolCalls, f.clientCall)
	}
	if want := 5 * 250 * time.Millisecond; c.waited != want {
		t.Errorf("waited %v for 6 calls at 4/s, want %v", c.waited, want)
	}
	if p, _ := r.Resolve(ctx, "us-east-1", "b1"); p != "us-east-1_B" {
		t.Errorf("b1: %q", p)
	}
	if p, _ := r.Resolve(ctx, "us-east-1", "nope"); p != "" {
		t.Errorf("nope: %q", p)
	}
	if f.poolCalls != 2 {
		t.Errorf("a second listing within RelistAfter: %d ListUserPools calls", f.poolCalls)
	}
	// Past RelistAfter, a client no listing has missed yet prompts one;
	// once missed, it prompts no more.
	c.now = c.now.Add(time.Hour)
	r.Resolve(ctx, "us-east-1", "nope")
	if f.poolCalls != 4 {
		t.Errorf("%d ListUserPools calls, want a second listing (4)", f.poolCalls)
	}
	c.now = c.now.Add(time.Hour)
	r.Resolve(ctx, "us-east-1", "nope")
	if f.poolCalls != 4 {
		t.Errorf("a known miss prompted a listing")
	}
	// A client created since, never seen: listed again.
	f.pools["us-east-1_B"] = append(f.pools["us-east-1_B"], "b2")
	if p, _ := r.Resolve(ctx, "us-east-1", "b2"); p != "us-east-1_B" || f.poolCalls != 6 {
		t.Errorf("b2: %q after %d ListUserPools calls", p, f.poolCalls)
	}
}

func TestStaticMapLearnedPairsAndFailedLookup(t *testing.T) {
	f := newLookup()
	boom := errors.New("TooManyRequestsException")
	f.failPools = boom
	r := clientpool.New(&clientpool.Options{Static: map[clientpool.Key]string{{Region: "us-east-1", Client: "s1"}: "us-east-1_S"}, Region: "us-east-1", Lookup: f})
	ctx := context.Background()
	if p, err := r.Resolve(ctx, "us-east-1", "s1"); p != "us-east-1_S" || err != nil || f.poolCalls != 0 {
		t.Errorf("static: %q %v after %d calls", p, err, f.poolCalls)
	}
	r.Learn("s1", "us-east-1_T")
	r.Learn(record.HiddenValue, "us-east-1_T")
	if p, _ := r.Resolve(ctx, "us-east-1", "s1"); p != "us-east-1_T" {
		t.Errorf("the trail's pair should override the static map: %q", p)
	}
	p, err := r.Resolve(ctx, "us-east-1", "a1")
	if p != "" || !errors.Is(err, boom) {
		t.Errorf("failed lookup: %q %v", p, err)
	}
	if p, _ := r.Resolve(ctx, "us-east-1", record.HiddenValue); p != "" {
		t.Errorf("hidden client resolved to %q", p)
	}
}

// memStore is a Store in a map.
type memStore struct {
	m          map[string]string // by ItemKey
	gets, puts int
}

func (s *memStore) Get(_ context.Context, k clientpool.Key) (string, error) {
	s.gets++
	return s.m[clientpool.ItemKey(k)], nil
}

func (s *memStore) Put(_ context.Context, k clientpool.Key, p string) error {
	s.puts++
	s.m[clientpool.ItemKey(k)] = p
	return nil
}

func TestStoreSurvivesColdStarts(t *testing.T) {
	f := newLookup()
	st := &memStore{m: map[string]string{}}
	ctx := context.Background()
	first := clientpool.New(&clientpool.Options{Region: "us-east-1", Lookup: f, Store: st, Wait: func(context.Context, time.Duration) error { return nil }})
	if p, _ := first.Resolve(ctx, "us-east-1", "a2"); p != "us-east-1_A" || st.m["client#us-east-1#a2"] != "us-east-1_A" {
		t.Fatalf("a2: %q, stored %v", p, st.m)
	}
	// a1 came with a2's listing: stored when a trail asks for it.
	first.Resolve(ctx, "us-east-1", "a1")
	if st.m["client#us-east-1#a1"] != "us-east-1_A" || st.m["client#us-east-1#a3"] != "" {
		t.Errorf("stored %v, want a1 and a2 only", st.m)
	}
	calls := f.poolCalls
	second := clientpool.New(&clientpool.Options{Region: "us-east-1", Lookup: f, Store: st})
	for _, c := range []string{"a1", "a2"} {
		if p, _ := second.Resolve(ctx, "us-east-1", c); p != "us-east-1_A" || f.poolCalls != calls {
			t.Errorf("%s after a cold start: %q, %d more listings", c, p, f.poolCalls-calls)
		}
	}
	if s := second.Stats(); s.StoreHits != 2 || s.Listings != 0 {
		t.Errorf("stats %+v", s)
	}
}

// mapCases drive TestParseMap and seed FuzzParseMap.
var mapCases = []struct {
	in   string
	want map[clientpool.Key]string
	ok   bool
}{
	{"", map[clientpool.Key]string{}, true},
	{"abc=us-east-1_X", map[clientpool.Key]string{{Region: "us-east-1", Client: "abc"}: "us-east-1_X"}, true},
	{" a1 = eu-west-1_Y , b2=us-east-1_Z", map[clientpool.Key]string{{Region: "eu-west-1", Client: "a1"}: "eu-west-1_Y", {Region: "us-east-1", Client: "b2"}: "us-east-1_Z"}, true},
	// One client id in two Regions is two clients.
	{"a1=us-east-1_X,a1=eu-west-1_X", map[clientpool.Key]string{{Region: "us-east-1", Client: "a1"}: "us-east-1_X", {Region: "eu-west-1", Client: "a1"}: "eu-west-1_X"}, true},
	{"a1", nil, false},
	{"a1=", nil, false},
	{"a-1=us-east-1_X", nil, false},
	{"a1=us-east-1X", nil, false},
	{"a1=us-east-1_X,a1=us-east-1_Y", nil, false},
	{record.HiddenValue + "=us-east-1_X", nil, false},
	{"a1=us-east-1_X,", nil, false},
}

func TestParseMap(t *testing.T) {
	for _, tc := range mapCases {
		got, err := clientpool.ParseMap(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("%q: error %v", tc.in, err)
			continue
		}
		if err != nil && !errors.Is(err, clientpool.ErrMap) {
			t.Errorf("%q: error %v is not ErrMap", tc.in, err)
		}
		if tc.ok && fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%q: %v, want %v", tc.in, got, tc.want)
		}
	}
}

func FuzzParseMap(f *testing.F) {
	for _, tc := range mapCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := clientpool.ParseMap(s)
		if err != nil {
			return
		}
		var parts []string
		for k, p := range m {
			if !record.IsClientID(k.Client) || !record.IsUserPoolID(p) || k.Region != record.UserPoolRegion(p) {
				t.Fatalf("%q: accepted %+v=%q", s, k, p)
			}
			parts = append(parts, k.Client+"="+p)
		}
		// What it accepted, written back, parses to the same map.
		again, err := clientpool.ParseMap(strings.Join(parts, ","))
		if err != nil || fmt.Sprint(again) != fmt.Sprint(m) {
			t.Fatalf("%q: round trip %v %v", s, again, err)
		}
	})
}

// A pair answers calls made in its pool's Region only, whichever source
// gave it, and the lookup lists the pools of its own Region only.
func TestPairsAreScopedByRegion(t *testing.T) {
	f := newLookup()
	r := clientpool.New(&clientpool.Options{
		Static: map[clientpool.Key]string{
			{Region: "us-east-1", Client: "s1"}: "us-east-1_S",
			// Filed under another Region than its pool's: never an answer.
			{Region: "eu-west-1", Client: "s2"}: "us-east-1_S",
		},
		Region: "us-east-1", Lookup: f, Wait: func(context.Context, time.Duration) error { return nil },
	})
	ctx := context.Background()
	r.Learn("1example23456789", "us-east-1_kV3pT9mQx")
	r.Learn("1example23456789", "eu-west-1_Rb7nW2yLc")
	for _, tc := range []struct{ region, client, want string }{
		{"us-east-1", "s1", "us-east-1_S"},
		{"eu-west-1", "s1", ""},
		{"eu-west-1", "s2", ""},
		{"us-east-1", "1example23456789", "us-east-1_kV3pT9mQx"},
		{"eu-west-1", "1example23456789", "eu-west-1_Rb7nW2yLc"},
		{"ap-south-1", "1example23456789", ""},
		{"", "1example23456789", ""},
		// a1 is a client of a us-east-1 pool: the lookup answers for
		// us-east-1 calls, never for another Region's.
		{"eu-west-1", "a1", ""},
	} {
		if p, err := r.Resolve(ctx, tc.region, tc.client); p != tc.want || err != nil {
			t.Errorf("%s in %s: %q %v, want %q", tc.client, tc.region, p, err, tc.want)
		}
	}
	if f.poolCalls != 0 {
		t.Errorf("%d ListUserPools calls for clients of other Regions, want none", f.poolCalls)
	}
	if p, _ := r.Resolve(ctx, "us-east-1", "a1"); p != "us-east-1_A" || f.poolCalls == 0 {
		t.Errorf("a1 in us-east-1: %q after %d ListUserPools calls", p, f.poolCalls)
	}
	if p, _ := r.Resolve(ctx, "eu-west-1", "a1"); p != "" {
		t.Errorf("a1 in eu-west-1 after the listing: %q", p)
	}
}

// The Store is asked for pairs of any Region, each under its pool's
// Region, and a client it has no pair for is not asked again before
// RelistAfter.
func TestStoreIsKeyedByRegion(t *testing.T) {
	st := &memStore{m: map[string]string{
		"client#us-east-1#c1": "us-east-1_C",
		"client#eu-west-1#c2": "eu-west-1_C",
		// Filed under a Region its pool is not in: not an answer.
		"client#us-east-1#c3": "eu-west-1_C",
	}}
	now := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	r := clientpool.New(&clientpool.Options{Region: "us-east-1", Store: st, Now: func() time.Time { return now }})
	ctx := context.Background()
	cases := []struct{ region, client, want string }{
		{"us-east-1", "c1", "us-east-1_C"},
		{"us-east-1", "c3", ""},
		{"eu-west-1", "c2", "eu-west-1_C"},
		{"eu-west-1", "c1", ""},
	}
	for _, tc := range cases {
		if p, _ := r.Resolve(ctx, tc.region, tc.client); p != tc.want {
			t.Errorf("%s in %s: %q, want %q", tc.client, tc.region, p, tc.want)
		}
	}
	if st.gets != 4 {
		t.Errorf("%d store reads, want 4", st.gets)
	}
	for _, tc := range cases {
		r.Resolve(ctx, tc.region, tc.client)
	}
	if st.gets != 4 {
		t.Errorf("%d store reads after asking again, want 4: answers are kept, absences for RelistAfter", st.gets)
	}
	now = now.Add(clientpool.DefaultRelistAfter)
	r.Resolve(ctx, "eu-west-1", "c1")
	if st.gets != 5 {
		t.Errorf("%d store reads once RelistAfter passed, want 5", st.gets)
	}
}

// failingStore refuses writes while fail is set.
type failingStore struct {
	memStore
	fail bool
}

func (s *failingStore) Put(ctx context.Context, k clientpool.Key, p string) error {
	if s.fail {
		s.puts++
		return errors.New("throttled")
	}
	return s.memStore.Put(ctx, k, p)
}

// A pair the trail taught outlives the execution environment: after a cold
// start, calls that name the client alone resolve to its pool (issue 15:
// a stuffing run's second file counted under ClientId only). Each pair is
// written once, and again only after a failed write.
func TestLearnedPairsOutliveColdStarts(t *testing.T) {
	st := &failingStore{memStore: memStore{m: map[string]string{}}, fail: true}
	ctx := context.Background()
	const client, pool = "1example23456789", "eu-west-1_EXAMPLE"
	warm := clientpool.New(&clientpool.Options{Region: "us-east-1", Store: st})
	warm.Learn(client, pool)
	if err := warm.SaveLearned(ctx); err == nil {
		t.Fatal("a refused write is not reported")
	}
	st.fail = false
	warm.Learn(client, pool) // told again by the next file: nothing new
	if err := warm.SaveLearned(ctx); err != nil {
		t.Fatal(err)
	}
	if err := warm.SaveLearned(ctx); err != nil || st.puts != 2 {
		t.Fatalf("%d writes (%v), want 2: the refused one, then one", st.puts, err)
	}
	cold := clientpool.New(&clientpool.Options{Region: "us-east-1", Store: st})
	if p, err := cold.Resolve(ctx, "eu-west-1", client); p != pool || err != nil {
		t.Errorf("after a cold start: %q %v, want %q", p, err, pool)
	}
	if p, _ := cold.Resolve(ctx, "us-east-1", client); p != "" {
		t.Errorf("in another Region: %q, want none", p)
	}
	// Without a Store nothing is kept, and nothing fails.
	if err := clientpool.New(nil).SaveLearned(ctx); err != nil {
		t.Error(err)
	}
}

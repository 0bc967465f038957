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
	r := clientpool.New(&clientpool.Options{Lookup: f, Now: c.Now, Wait: c.Wait, RequestsPerSecond: 4, RelistAfter: time.Hour})
	ctx := context.Background()
	if p, err := r.Resolve(ctx, "a3"); p != "us-east-1_A" || err != nil {
		t.Fatalf("a3: %q %v", p, err)
	}
	// 2 pages of pools, 2 of A's clients, 1 of B's, 1 of C's.
	if f.poolCalls != 2 || f.clientCall != 4 {
		t.Errorf("calls: %d pools, %d clients; want 2 and 4", f.poolCalls, f.clientCall)
	}
	if want := 5 * 250 * time.Millisecond; c.waited != want {
		t.Errorf("waited %v for 6 calls at 4/s, want %v", c.waited, want)
	}
	if p, _ := r.Resolve(ctx, "b1"); p != "us-east-1_B" {
		t.Errorf("b1: %q", p)
	}
	if p, _ := r.Resolve(ctx, "nope"); p != "" {
		t.Errorf("nope: %q", p)
	}
	if f.poolCalls != 2 {
		t.Errorf("a second listing within RelistAfter: %d ListUserPools calls", f.poolCalls)
	}
	// Past RelistAfter, a client no listing has missed yet prompts one;
	// once missed, it prompts no more.
	c.now = c.now.Add(time.Hour)
	r.Resolve(ctx, "nope")
	if f.poolCalls != 4 {
		t.Errorf("%d ListUserPools calls, want a second listing (4)", f.poolCalls)
	}
	c.now = c.now.Add(time.Hour)
	r.Resolve(ctx, "nope")
	if f.poolCalls != 4 {
		t.Errorf("a known miss prompted a listing")
	}
	// A client created since, never seen: listed again.
	f.pools["us-east-1_B"] = append(f.pools["us-east-1_B"], "b2")
	if p, _ := r.Resolve(ctx, "b2"); p != "us-east-1_B" || f.poolCalls != 6 {
		t.Errorf("b2: %q after %d ListUserPools calls", p, f.poolCalls)
	}
}

func TestStaticMapLearnedPairsAndFailedLookup(t *testing.T) {
	f := newLookup()
	boom := errors.New("TooManyRequestsException")
	f.failPools = boom
	r := clientpool.New(&clientpool.Options{Static: map[string]string{"s1": "us-east-1_S"}, Lookup: f})
	ctx := context.Background()
	if p, err := r.Resolve(ctx, "s1"); p != "us-east-1_S" || err != nil || f.poolCalls != 0 {
		t.Errorf("static: %q %v after %d calls", p, err, f.poolCalls)
	}
	r.Learn("s1", "us-east-1_T")
	r.Learn(record.HiddenValue, "us-east-1_T")
	if p, _ := r.Resolve(ctx, "s1"); p != "us-east-1_T" {
		t.Errorf("the trail's pair should override the static map: %q", p)
	}
	p, err := r.Resolve(ctx, "a1")
	if p != "" || !errors.Is(err, boom) {
		t.Errorf("failed lookup: %q %v", p, err)
	}
	if p, _ := r.Resolve(ctx, record.HiddenValue); p != "" {
		t.Errorf("hidden client resolved to %q", p)
	}
}

// memStore is a Store in a map.
type memStore struct {
	m          map[string]string
	gets, puts int
}

func (s *memStore) Get(_ context.Context, c string) (string, error) { s.gets++; return s.m[c], nil }
func (s *memStore) Put(_ context.Context, c, p string) error        { s.puts++; s.m[c] = p; return nil }

func TestStoreSurvivesColdStarts(t *testing.T) {
	f := newLookup()
	st := &memStore{m: map[string]string{}}
	ctx := context.Background()
	first := clientpool.New(&clientpool.Options{Lookup: f, Store: st, Wait: func(context.Context, time.Duration) error { return nil }})
	if p, _ := first.Resolve(ctx, "a2"); p != "us-east-1_A" || st.m["a2"] != "us-east-1_A" {
		t.Fatalf("a2: %q, stored %v", p, st.m)
	}
	// a1 came with a2's listing: stored when a trail asks for it.
	first.Resolve(ctx, "a1")
	if st.m["a1"] != "us-east-1_A" || st.m["a3"] != "" {
		t.Errorf("stored %v, want a1 and a2 only", st.m)
	}
	calls := f.poolCalls
	second := clientpool.New(&clientpool.Options{Lookup: f, Store: st})
	for _, c := range []string{"a1", "a2"} {
		if p, _ := second.Resolve(ctx, c); p != "us-east-1_A" || f.poolCalls != calls {
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
	want map[string]string
	ok   bool
}{
	{"", map[string]string{}, true},
	{"abc=us-east-1_X", map[string]string{"abc": "us-east-1_X"}, true},
	{" a1 = eu-west-1_Y , b2=us-east-1_Z", map[string]string{"a1": "eu-west-1_Y", "b2": "us-east-1_Z"}, true},
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
		for c, p := range m {
			if !record.IsClientID(c) || !record.IsUserPoolID(p) {
				t.Fatalf("%q: accepted %q=%q", s, c, p)
			}
			parts = append(parts, c+"="+p)
		}
		// What it accepted, written back, parses to the same map.
		again, err := clientpool.ParseMap(strings.Join(parts, ","))
		if err != nil || fmt.Sprint(again) != fmt.Sprint(m) {
			t.Fatalf("%q: round trip %v %v", s, again, err)
		}
	})
}

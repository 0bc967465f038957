package lambdaapp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/processor"
)

// recorder sits in front of the handler's endpoint: it keeps the
// PutMetricData bodies in order and counts the series budget's DynamoDB
// requests (those naming a "series#" item).
type recorder struct {
	*httptest.Server
	mu     sync.Mutex
	puts   [][]byte
	budget map[string]int // by operation
	items  map[string]bool
}

var budgetItemKey = regexp.MustCompile(`"series#[^"]*"`)

func newRecorder(t *testing.T, target string) *recorder {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	r := &recorder{budget: map[string]int{}, items: map[string]bool{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		op := operation(req, body)
		r.mu.Lock()
		switch {
		case op == "PutMetricData":
			r.puts = append(r.puts, body)
		case budgetItemKey.Match(body):
			r.budget[op]++
			r.items[string(budgetItemKey.Find(body))] = true
		}
		r.mu.Unlock()
		req.Body = io.NopCloser(bytes.NewReader(body))
		rp.ServeHTTP(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

// take returns the bodies and budget requests seen since the last take.
func (r *recorder) take() ([][]byte, map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	puts, b := r.puts, r.budget
	r.puts, r.budget = nil, map[string]int{}
	return puts, b
}

// opsFile uploads a file of one user pool API call per operation given, at
// the same minute an hour ago, and returns its S3 event.
func (e *env) opsFile(name string, ops ...string) string {
	e.t.Helper()
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Minute).Format(time.RFC3339)
	var recs []string
	for i, op := range ops {
		recs = append(recs, fmt.Sprintf(`{"eventVersion":"1.08","eventTime":%q,"eventSource":"cognito-idp.amazonaws.com","eventName":%q,"eventID":"%s-%d","requestParameters":{"userPoolId":"us-east-1_A"}}`, at, op, name, i))
	}
	body := []byte(`{"Records":[` + strings.Join(recs, ",") + `]}`)
	key := "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/123456789012_CloudTrail_us-east-1_20261120T1005Z_" + name + ".json"
	if _, err := e.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		e.t.Fatal(err)
	}
	return s3Event(s3Record(key, e.etag(key), len(body)))
}

func handle(t *testing.T, h *processor.Handler, event string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := h.Handle(ctx, []byte(event)); err != nil {
		t.Fatal(err)
	}
}

// operationSums reads the Events of each operation given (and "other").
func (e *env) operationSums(ops ...string) map[string]float64 {
	e.t.Helper()
	x := expectation{sums: map[seriesKey]float64{}, dims: map[seriesKey][]metric.Dimension{}, name: map[seriesKey]string{}}
	keys := map[string]seriesKey{}
	for _, op := range append(ops, "other") {
		dims := []metric.Dimension{{Name: metric.DimCategory, Value: "user-pool-api"}, {Name: metric.DimOperation, Value: op}}
		keys[op] = keyOf(metric.Events, dims)
		x.dims[keys[op]], x.name[keys[op]] = dims, metric.Events
	}
	got := e.read(slices.Collect(maps.Values(keys)), x)
	out := map[string]float64{}
	for op, k := range keys {
		out[op] = got[k]
	}
	return out
}

// TestSeriesBudgetSharedByEnvironments: with the ledger table, two
// execution environments (two handlers) share a month's budget: a file in
// the second finds the first's operation admitted and the month full. With
// idempotency off, each environment has its own (the documented bound per
// environment).
func TestSeriesBudgetSharedByEnvironments(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ledger bool
		want   map[string]float64
	}{
		{"ledger table", true, map[string]float64{"ListUsers": 3, "DescribeUserPool": 0, "ListGroups": 0, "other": 4}},
		{"in memory", false, map[string]float64{"ListUsers": 2, "DescribeUserPool": 3, "ListGroups": 0, "other": 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.cfg.MaxSeriesPerDimension = 1
			if !tc.ledger {
				e.cfg.IdempotencyTable = ""
			}
			a, b := e.handler(), e.handler()
			handle(t, a, e.opsFile("one", "ListUsers", "ListUsers", "ListGroups"))
			handle(t, b, e.opsFile("two", "DescribeUserPool", "DescribeUserPool", "DescribeUserPool", "ListUsers"))
			if got := e.operationSums("ListUsers", "DescribeUserPool", "ListGroups"); !maps.Equal(got, tc.want) {
				t.Errorf("Events by operation %v, want %v", got, tc.want)
			}
		})
	}
}

// TestResumedFileFoldedAsBefore: a file whose publishing fails after its
// first batch in one execution environment, with a warm budget, is resumed
// in a cold one. The second cuts the same batches: the batch it sends first
// is byte for byte the one the first environment failed to send, so
// nothing is doubled or lost. (With a budget per environment, the cold one
// would admit the file's own busiest values and cut other batches.)
func TestResumedFileFoldedAsBefore(t *testing.T) {
	e := newEnv(t)
	e.cfg.MaxSeriesPerDimension = 1
	faults := newFaultProxy(t, server.Endpoint)
	rec := newRecorder(t, faults.URL)
	e.endpoint = rec.URL
	a, b := e.handler(), e.handler()
	// The first environment's budget is spent on values of another file.
	handle(t, a, e.opsFile("warm", "AdminGetUser"))
	rec.take()

	body := bigFile(t)
	e.put(kSpace, body)
	if n := e.batches(kSpace); n != 3 {
		t.Fatalf("test file makes %d batches, want 3", n)
	}
	ev := sqsEvent(s3Event(s3Record(kSpace, e.etag(kSpace), len(body))))
	base := faults.count("PutMetricData")
	faults.setPlan(func(op string, n int) fault {
		if op == "PutMetricData" && n > base+1 {
			return err5xx
		}
		return pass
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := a.Handle(ctx, []byte(ev)); err != nil {
		t.Fatal(err)
	}
	first, _ := rec.take()
	if got := faults.count("PutMetricData") - base; got != 1 || len(first) < 2 {
		t.Fatalf("%d batches published, %d bodies sent by the first environment; want 1 published and a failed second", got, len(first))
	}
	faults.setPlan(nil)
	if _, err := b.Handle(ctx, []byte(ev)); err != nil {
		t.Fatal(err)
	}
	resumed, _ := rec.take()
	if !strings.Contains(e.logs.String(), `"resumedAtBatch":1`) {
		t.Fatal("the second environment did not resume")
	}
	if len(resumed) != 2 {
		t.Fatalf("the resumed attempt sent %d batches, want 2", len(resumed))
	}
	if !bytes.Equal(resumed[0], first[1]) {
		t.Errorf("the resumed second batch differs from the one cut first:\nfirst:   %.300s\nresumed: %.300s", first[1], resumed[0])
	}
	if !bytes.Contains(resumed[0], []byte(`"Value":"other"`)) && !bytes.Contains(resumed[1], []byte(`"Value":"other"`)) &&
		!bytes.Contains(first[0], []byte(`"Value":"other"`)) {
		t.Error("nothing was folded into other: the test does not exercise the budget")
	}
}

// TestSeriesBudgetRequests measures the budget's DynamoDB requests per file
// (the README's cost section quotes them): the first file of a month in an
// environment, the next file there, and a file in a second, cold,
// environment.
func TestSeriesBudgetRequests(t *testing.T) {
	e := newEnv(t)
	rec := newRecorder(t, server.Endpoint)
	e.endpoint = rec.URL
	a, b := e.handler(), e.handler()
	body := bigFile(t)
	e.put(kSpace, body)
	handle(t, a, s3Event(s3Record(kSpace, e.etag(kSpace), len(body))))
	_, first := rec.take()
	// Files of the same pools, clients, operations and errors: the steady
	// state of a month.
	next, cold := prefix+"123456789012_CloudTrail_us-east-1_20261121T1010Z_next.json.gz", prefix+"123456789012_CloudTrail_us-east-1_20261121T1015Z_cold.json.gz"
	e.put(next, body)
	e.put(cold, body)
	handle(t, a, s3Event(s3Record(next, e.etag(next), len(body))))
	_, warm := rec.take()
	handle(t, b, s3Event(s3Record(cold, e.etag(cold), len(body))))
	_, coldReqs := rec.take()
	t.Logf("budget requests: first file of the month %v, next file %v, cold environment %v", first, warm, coldReqs)
	// Five budgeted dimensions and the role calls' two, in one month (two
	// if the file straddles the first of a month).
	items := len(rec.items)
	if items != 7 && items != 14 {
		t.Fatalf("budget items %v, want the 7 budgets' of the file's month", slices.Sorted(maps.Keys(rec.items)))
	}
	if first["GetItem"] != items || first["UpdateItem"] != items {
		t.Errorf("first file of the month: %v, want a GetItem and an UpdateItem per budgeted dimension (%d)", first, items)
	}
	if len(warm) != 0 {
		t.Errorf("next file, values known: %v, want none", warm)
	}
	if coldReqs["UpdateItem"] != 0 || coldReqs["GetItem"] != items {
		t.Errorf("cold environment, values known: %v, want a GetItem per dimension (%d) and no write", coldReqs, items)
	}
}

// A bound the ledger item cannot hold stops the start with the table on,
// and is taken without it.
func TestMaxSeriesPerDimensionWithTheLedger(t *testing.T) {
	for _, tc := range []struct {
		table, max string
		ok         bool
	}{{"t", "5000", true}, {"t", "5001", false}, {"", "5001", true}} {
		_, err := ConfigFromEnv(func(k string) string {
			return map[string]string{EnvIdempotencyTable: tc.table, EnvMaxSeriesPerDim: tc.max}[k]
		})
		if (err == nil) != tc.ok {
			t.Errorf("table %q, %s: %v", tc.table, tc.max, err)
		}
	}
}

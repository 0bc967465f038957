package lambdaapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/processor"
)

// fault is what the proxy does with one request.
type fault int

const (
	pass         fault = iota
	throttle           // 400 Throttling, not forwarded
	err5xx             // 500, not forwarded
	drop               // connection closed, not forwarded
	cutBody            // forwarded; the response body is cut in half
	lostAnswer         // forwarded (applied), then the connection is closed
	invalidParam       // 400 InvalidParameterValue as CloudWatch's awsJson answers it, not forwarded
	noListBucket       // forwarded; a 404 becomes S3's 403 AccessDenied, as for a caller without s3:ListBucket
	checkDims          // PutMetricData (awsJson) with a dimension value CloudWatch refuses is answered as invalidParam; others forwarded
)

// faultProxy sits between the SDK clients and moto_server and injects
// faults by operation ("PutMetricData", "UpdateItem", "GetObject", ...) and
// by the number of times that operation was seen (1-based).
type faultProxy struct {
	*httptest.Server
	target string
	mu     sync.Mutex
	seen   map[string]int
	// forwarded counts requests that reached moto, by operation.
	forwarded map[string]int
	plan      func(op string, n int) fault
	// onForward, when set, is given each request moto applied (under the
	// proxy's lock).
	onForward func(op string, body []byte)
	// failPath, when set, answers 500 to every request whose path holds it.
	failPath string
	// crashOn, when set, is asked about each request; from the first it
	// answers true for, every request is dropped: the function died.
	crashOn func(op string, body []byte) bool
	dead    bool
	// loseOnce, when set, is asked about each request; the first it
	// answers true for is forwarded and its answer lost (lostAnswer).
	loseOnce func(op string, body []byte) bool
}

func newFaultProxy(t *testing.T, target string) *faultProxy {
	p := &faultProxy{target: target, seen: map[string]int{}, forwarded: map[string]int{}}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

// newProxiedEnv is newEnv with the handler's requests sent through a
// fault proxy in front of moto_server.
func newProxiedEnv(t *testing.T) (*env, *faultProxy) {
	t.Helper()
	e := newEnv(t)
	p := newFaultProxy(t, server.Endpoint)
	e.endpoint = p.URL
	return e, p
}

// onNth is a plan that answers f to the nth request of op and passes the rest.
func onNth(op string, nth int, f fault) func(string, int) fault {
	return func(o string, n int) fault {
		if o == op && n == nth {
			return f
		}
		return pass
	}
}

// onEvery is a plan that answers f to every request of op and passes the rest.
func onEvery(op string, f fault) func(string, int) fault {
	return func(o string, _ int) fault {
		if o == op {
			return f
		}
		return pass
	}
}

// crashWhen kills the function at the first request crash answers true for.
func (p *faultProxy) crashWhen(crash func(op string, body []byte) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.crashOn = crash
}

// revive brings the function back to life; the test fails if it never died.
func (p *faultProxy) revive(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	dead := p.dead
	p.crashOn, p.dead = nil, false
	p.mu.Unlock()
	if !dead {
		t.Fatal("the function never reached the crash point")
	}
}

func (p *faultProxy) setPlan(plan func(op string, n int) fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.plan = plan
}

func (p *faultProxy) count(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.forwarded[op]
}

// sent counts the requests of an operation the proxy received, faults
// included.
func (p *faultProxy) sent(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[op]
}

func operation(r *http.Request, body []byte) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return t[strings.LastIndexByte(t, '.')+1:]
	}
	if r.Method == http.MethodGet && strings.Count(r.URL.Path, "/") >= 2 {
		return "GetObject"
	}
	if i := bytes.Index(body, []byte("Action=")); i >= 0 {
		a := body[i+len("Action="):]
		if j := bytes.IndexByte(a, '&'); j >= 0 {
			a = a[:j]
		}
		return string(a)
	}
	return r.Method + " " + r.URL.Path
}

func (p *faultProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	op := operation(r, body)
	p.mu.Lock()
	p.seen[op]++
	f := pass
	if p.plan != nil {
		f = p.plan(op, p.seen[op])
	}
	if p.failPath != "" && strings.Contains(r.URL.Path, p.failPath) {
		f = err5xx
	}
	if p.crashOn != nil && !p.dead && p.crashOn(op, body) {
		p.dead = true
	}
	if p.dead {
		f = drop
	}
	if f == pass && p.loseOnce != nil && p.loseOnce(op, body) {
		p.loseOnce, f = nil, lostAnswer
	}
	p.mu.Unlock()
	if f == checkDims {
		f = pass
		if op == "PutMetricData" && !dimensionsAcceptable(body) {
			f = invalidParam
		}
	}
	switch f {
	case throttle:
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("X-Amzn-Query-Error", "Throttling;Sender")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"Throttling","message":"Rate exceeded"}`)
		return
	case invalidParam:
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("X-Amzn-Query-Error", "InvalidParameterValue;Sender")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"com.amazonaws.cloudwatch#InvalidParameterValueException",`+
			`"message":"The value Init\ufffd\ufffdAuth for parameter MetricData.member.7.Dimensions.member.2.Value is invalid."}`)
		return
	case err5xx:
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"__type":"InternalServiceError","message":"injected"}`)
		return
	case drop:
		hijackClose(w)
		return
	}
	req, _ := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	req.Header = r.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	respBody, _ := io.ReadAll(resp.Body)
	p.mu.Lock()
	p.forwarded[op]++
	if p.onForward != nil && resp.StatusCode < 300 {
		p.onForward(op, body)
	}
	p.mu.Unlock()
	if f == noListBucket && resp.StatusCode == http.StatusNotFound {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
			`<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>4442587FB7D0A2F9</RequestId><HostId>injected</HostId></Error>`)
		return
	}
	switch f {
	case lostAnswer:
		hijackClose(w)
		return
	case cutBody:
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(respBody[:len(respBody)/2])
		w.(http.Flusher).Flush()
		hijackClose(w)
		return
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(respBody)
}

// dimensionsAcceptable checks an awsJson PutMetricData body against
// CloudWatch's documented constraint on dimension values: 1 to 1024
// characters, printable ASCII, not blank. moto_server does not check it.
func dimensionsAcceptable(body []byte) bool {
	var in struct {
		MetricData []struct {
			Dimensions []struct{ Name, Value string }
		}
	}
	if json.Unmarshal(body, &in) != nil {
		return false
	}
	for _, d := range in.MetricData {
		for _, dim := range d.Dimensions {
			v := dim.Value
			if len(v) == 0 || len(v) > 1024 || strings.Trim(v, " ") == "" ||
				strings.IndexFunc(v, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
				return false
			}
		}
	}
	return true
}

func hijackClose(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

// bigFile is a trail file whose records span enough minutes to make more
// than 2000 datums: three PutMetricData batches.
func bigFile(t *testing.T) []byte {
	return trailFile(t, 420, time.Now().Add(-10*time.Hour).Truncate(time.Minute), 61*time.Second)
}

func (e *env) batches(key string) int {
	return (len(e.expected[key]) + 999) / 1000
}

// TestFaultsAreRetriedExactly: throttling, 5xx and dropped connections on
// PutMetricData, DynamoDB and S3, all within the SDK's retries: every
// batch is applied exactly once, in exactly ceil(datums/1000) requests.
func TestFaultsAreRetriedExactly(t *testing.T) {
	e, p := newProxiedEnv(t)
	body := bigFile(t)
	e.put(kSpace, body)
	if n := e.batches(kSpace); n != 3 {
		t.Fatalf("test file makes %d batches (%d datums), want 3", n, len(e.expected[kSpace]))
	}
	p.setPlan(func(op string, n int) fault {
		switch op {
		case "PutMetricData":
			// Batch 1: throttled, then passes. Batch 2: a 500, a dropped
			// connection, then passes. Batch 3: throttled twice.
			return map[int]fault{1: throttle, 3: err5xx, 4: drop, 6: throttle, 7: throttle}[n]
		case "UpdateItem":
			return map[int]fault{1: err5xx, 3: drop}[n]
		case "GetObject":
			return map[int]fault{1: err5xx}[n]
		}
		return pass
	})
	if _, err := e.invoke(s3Event(s3Record(kSpace, e.etag(kSpace), len(body)))); err != nil {
		t.Fatal(err)
	}
	if got := p.count("PutMetricData"); got != 3 {
		t.Errorf("%d PutMetricData requests reached CloudWatch, want 3", got)
	}
	e.check(e.expect([]string{kSpace}, nil))
}

// TestResumeAfterPersistentFailure: CloudWatch fails the second batch
// beyond the SDK's retries. The handler fails (SQS: the message is
// reported), the ledger keeps "1 batch published", and the redelivery sends
// only batches 2 and 3.
func TestResumeAfterPersistentFailure(t *testing.T) {
	e, p := newProxiedEnv(t)
	body := bigFile(t)
	e.put(kSpace, body)
	ev := sqsEvent(s3Event(s3Record(kSpace, e.etag(kSpace), len(body))))
	p.setPlan(func(op string, n int) fault {
		if op == "PutMetricData" && n >= 2 {
			return err5xx
		}
		return pass
	})
	if f := e.sqsFailures(ev); len(f) != 1 {
		t.Fatalf("batchItemFailures %+v, want the message", f)
	}
	if got := p.count("PutMetricData"); got != 1 {
		t.Fatalf("%d batches published before the failure, want 1", got)
	}
	for _, msg := range []string{processor.NotableMsg, processor.FindingMsg} {
		if n := strings.Count(e.logs.String(), `"message":"`+msg+`"`); n != 0 {
			t.Errorf("the failed attempt wrote %d %s lines, want none", n, msg)
		}
	}
	p.setPlan(nil)
	if f := e.sqsFailures(ev); len(f) != 0 {
		t.Fatalf("retry failed: %+v", f)
	}
	if got := p.count("PutMetricData"); got != 3 {
		t.Errorf("%d PutMetricData requests in all, want 3 (the retry resumed at batch 2)", got)
	}
	if !strings.Contains(e.logs.String(), `"resumedAtBatch":1`) {
		t.Error("no log of the resumption")
	}
	notable, findings := e.eventLines()
	if notable == 0 || findings == 0 || !strings.Contains(e.logs.String(), fmt.Sprintf(`"eventLines":%d`, notable+findings)) {
		t.Errorf("%d cognito_event and %d finding lines after the retry; want one set of each, as its object line counts", notable, findings)
	}
	// A duplicate delivery is skipped whole: no line again.
	if _, err := e.invoke(ev); err != nil {
		t.Fatal(err)
	}
	if ev, fi := e.eventLines(); ev+fi != notable+findings {
		t.Errorf("%d event lines after a duplicate delivery, want %d", ev+fi, notable+findings)
	}
	e.check(e.expect([]string{kSpace}, map[string]float64{"FilesSkipped": 1}))
}

// TestS3BodyCutMidway: the object's body stops half-way (connection lost):
// a transient failure, nothing published, and the retry counts it once.
func TestS3BodyCutMidway(t *testing.T) {
	e, p := newProxiedEnv(t)
	body := bigFile(t)
	e.put(kSpace, body)
	ev := s3Event(s3Record(kSpace, e.etag(kSpace), len(body)))
	p.setPlan(onNth("GetObject", 1, cutBody))
	if _, err := e.invoke(ev); err == nil {
		t.Fatal("a cut body was not reported as an error")
	}
	if got := p.count("PutMetricData"); got != 0 {
		t.Fatalf("%d batches published from a partial read", got)
	}
	if _, err := e.invoke(ev); err != nil {
		t.Fatal(err)
	}
	e.check(e.expect([]string{kSpace}, nil))
}

// TestDeadline: too little time left to read and publish fails cleanly
// (nothing published, claim released), and the retry succeeds at once.
func TestDeadline(t *testing.T) {
	e := newEnv(t)
	body := bigFile(t)
	e.put(kSpace, body)
	ev := json.RawMessage(s3Event(s3Record(kSpace, e.etag(kSpace), len(body))))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second) // under the 10 s publish margin
	defer cancel()
	_, err := e.handler().Handle(ctx, ev)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "before the invocation deadline") {
		t.Fatalf("error %v, want a clean deadline failure", err)
	}
	if got := e.statSum(metric.RecordsRead); got != 0 {
		t.Fatalf("RecordsRead %v published after a deadline failure", got)
	}
	if _, err := e.invoke(string(ev)); err != nil {
		t.Fatalf("retry: %v (claim not released?)", err)
	}
	e.check(e.expect([]string{kSpace}, nil))
}

// TestLostResponseIsTheOneWindow documents the limit of exactly-once with
// PutMetricData: a request CloudWatch applied whose response is lost is
// retried by the SDK and applied twice. No client can tell it apart from a
// request that never arrived; the window is one batch.
func TestLostResponseIsTheOneWindow(t *testing.T) {
	e, p := newProxiedEnv(t)
	body := trailFile(t, 30, time.Now().Add(-time.Hour), 13*time.Second)
	e.put(kSpace, body)
	p.setPlan(onNth("PutMetricData", 1, lostAnswer))
	if _, err := e.invoke(s3Event(s3Record(kSpace, e.etag(kSpace), len(body)))); err != nil {
		t.Fatal(err)
	}
	x := e.expect([]string{kSpace}, nil)
	if got, want := e.statSum(metric.RecordsRead), x.sums[keyOf(metric.RecordsRead, nil)]; got != 2*want {
		t.Fatalf("RecordsRead %v; expected the single batch applied twice (%v)", got, 2*want)
	}
}

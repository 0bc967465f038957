package processor

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/smithy-go"

	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/sink"
)

// rejectingSink refuses every batch as CloudWatch refuses an invalid one.
type rejectingSink struct{ requests int }

func (s *rejectingSink) Batches(d iter.Seq[metric.Datum]) iter.Seq[[]metric.Datum] {
	return sink.Batches(d, 1000, 1<<30, func(*metric.Datum) int { return 1 })
}

func (s *rejectingSink) Publish(_ context.Context, b []metric.Datum) (sink.Stats, error) {
	s.requests++
	return sink.Stats{Requests: 1, Rejected: len(b)}, fmt.Errorf("%w: InvalidParameterValue", sink.ErrRejected)
}

func bufferedFiles(t *testing.T, n int) (bucketS3, []string) {
	t.Helper()
	f := bucketS3{bodies: map[string][]byte{}, errs: map[string]error{}}
	var keys []string
	for i := range n {
		k := fmt.Sprintf("AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/e%02d.json.gz", i)
		f.bodies[k] = genFile(t, uint64(i))
		keys = append(keys, k)
	}
	return f, keys
}

// logLines returns the JSON log lines whose msg is msg.
func logLines(t *testing.T, logs, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// TestBufferedRejectedBatchPassedOver: a batch CloudWatch refuses as
// invalid is permanent in buffered mode as in direct mode: no message is
// retried, and the refusal is logged (on the batch's line) with its count.
func TestBufferedRejectedBatchPassedOver(t *testing.T) {
	f, keys := bufferedFiles(t, 3)
	var logs bytes.Buffer
	sk := &rejectingSink{}
	h := New(f, sk, nil, &Options{Buffered: true, MaxDatumAge: -1, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	resp, err := h.Handle(context.Background(), sqsOf(keys...))
	if err != nil {
		t.Fatal(err)
	}
	if r := resp.(events.SQSEventResponse); len(r.BatchItemFailures) != 0 {
		t.Errorf("refused batch retried: %v", r.BatchItemFailures)
	}
	if sk.requests != 1 {
		t.Errorf("%d publishes, want 1", sk.requests)
	}
	b := logLines(t, logs.String(), "batch")
	if len(b) != 1 || b[0]["datumsRejected"] == nil || !strings.Contains(fmt.Sprint(b[0]["rejectedError"]), "InvalidParameterValue") || b[0]["level"] != "WARN" {
		t.Errorf("batch lines %v", b)
	}
	if o := logLines(t, logs.String(), "object"); len(o) != 3 || o[0]["outcome"] != "processed" {
		t.Errorf("object lines %v", o)
	}
}

// TestBufferedAccessDeniedRetriesItsMessage: S3's 403 is transient in
// buffered mode as in direct mode: only its message is retried, the other
// files are published.
func TestBufferedAccessDeniedRetriesItsMessage(t *testing.T) {
	f, keys := bufferedFiles(t, 3)
	f.errs[keys[1]] = &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}
	sk := &recordingSink{}
	h := New(f, sk, nil, &Options{Buffered: true, MaxDatumAge: -1, Logger: slog.New(slog.DiscardHandler)})
	resp, err := h.Handle(context.Background(), sqsOf(keys...))
	if err != nil {
		t.Fatal(err)
	}
	want := []events.SQSBatchItemFailure{{ItemIdentifier: "m-1"}}
	if got := resp.(events.SQSEventResponse).BatchItemFailures; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("batchItemFailures %v, want %v", got, want)
	}
	if sk.sum(metric.FilesProcessed) != 2 || sk.sum(metric.FilesFailed) != 0 {
		t.Errorf("files processed %v, failed %v; want 2, 0", sk.sum(metric.FilesProcessed), sk.sum(metric.FilesFailed))
	}
}

// TestBufferedAPICallThroughSQS: an EventBridge "AWS API Call via
// CloudTrail" event that reaches the buffer queue is evaluated and notified
// as in direct mode, and counts nothing.
func TestBufferedAPICallThroughSQS(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join("..", "..", "events", "eventbridge-cognito-api-call.json"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(string(sample))
	ev := json.RawMessage(`{"Records":[{"messageId":"m-0","receiptHandle":"rh","body":` + string(body) +
		`,"eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-1:123456789012:q","awsRegion":"us-east-1"}]}`)
	for _, buffered := range []bool{false, true} {
		sk, nt := &recordingSink{}, &countingNotifier{}
		h := New(bucketS3{}, sk, nil, &Options{Buffered: buffered, Notifier: nt, Logger: slog.New(slog.DiscardHandler)})
		resp, err := h.Handle(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if r := resp.(events.SQSEventResponse); len(r.BatchItemFailures) != 0 || nt.n != 1 || sk.requests != 0 {
			t.Errorf("buffered %v: failures %v, notified %d, publishes %d; want none, 1, 0", buffered, r.BatchItemFailures, nt.n, sk.requests)
		}
	}
}

// TestBufferedObjectLineCountsTooOld: the records older than CloudWatch
// accepts are counted on each object's line (recordsTooOld, once per
// object) in buffered mode as in direct mode, not only on the batch's.
func TestBufferedObjectLineCountsTooOld(t *testing.T) {
	f, keys := bufferedFiles(t, 2)
	tooOld := map[bool]map[any]any{}
	for _, buffered := range []bool{false, true} {
		var logs bytes.Buffer
		h := New(f, &recordingSink{}, nil, &Options{Buffered: buffered,
			Now:    func() time.Time { return time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC) }, // the files are a month old
			Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
		if _, err := h.Handle(context.Background(), sqsOf(keys...)); err != nil {
			t.Fatal(err)
		}
		o := logLines(t, logs.String(), "object")
		if len(o) != 2 {
			t.Fatalf("buffered %v: object lines %v", buffered, o)
		}
		tooOld[buffered] = map[any]any{}
		for _, l := range o {
			// Every record, and nothing else (issue 17: 44 for a 36-record
			// file, findings and the file's outcome counted too).
			recs, _ := l["records"].(float64)
			inv, _ := l["invalidRecords"].(float64)
			if n, _ := l["recordsTooOld"].(float64); n != recs+inv || n < 60 || l["level"] != "WARN" {
				t.Errorf("buffered %v: recordsTooOld %v (level %v), want the file's %v records", buffered, l["recordsTooOld"], l["level"], recs+inv)
			}
			tooOld[buffered][l["key"]] = l["recordsTooOld"]
		}
	}
	if fmt.Sprint(tooOld[true]) != fmt.Sprint(tooOld[false]) {
		t.Errorf("recordsTooOld buffered %v, direct %v", tooOld[true], tooOld[false])
	}
}

// poolSink keeps the UserPoolId values published.
type poolSink struct {
	recordingSink
	pools map[string]bool
}

func (s *poolSink) Publish(ctx context.Context, b []metric.Datum) (sink.Stats, error) {
	for _, d := range b {
		for _, dim := range d.Dimensions {
			if dim.Name == "UserPoolId" {
				s.pools[dim.Value] = true
			}
		}
	}
	return s.recordingSink.Publish(ctx, b)
}

// TestBufferedMaxPoolsPerBatch: the README's word that MAX_POOLS caps the
// pools per file, per batch in buffered mode (its files are aggregated as
// one): two files of one pool each get both pools' series in direct mode,
// only the busier pool's in buffered mode, with MaxPools 1.
func TestBufferedMaxPoolsPerBatch(t *testing.T) {
	f, keys := bufferedFiles(t, 2)
	other := func(gz []byte) []byte {
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(bytes.ReplaceAll(raw, []byte("us-east-1_EXAMPLE1"), []byte("us-east-1_EXAMPLE2")))
		zw.Close()
		return buf.Bytes()
	}
	f.bodies[keys[1]] = other(f.bodies[keys[1]])
	for buffered, want := range map[bool]int{false: 2, true: 1} {
		sk := &poolSink{pools: map[string]bool{}}
		h := New(f, sk, nil, &Options{Buffered: buffered, MaxDatumAge: -1, MaxPools: 1, Level: metric.Standard,
			Logger: slog.New(slog.DiscardHandler)})
		if _, err := h.Handle(context.Background(), sqsOf(keys...)); err != nil {
			t.Fatal(err)
		}
		if len(sk.pools) != want {
			t.Errorf("buffered %v: pools with series %v, want %d", buffered, sk.pools, want)
		}
	}
}

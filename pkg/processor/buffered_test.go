package processor

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cognitrail/cognitrail/internal/trailgen"
	"github.com/cognitrail/cognitrail/pkg/alert"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/metric"
)

// bucketS3 serves objects by key; a key it has no body for answers with
// its error, or NoSuchKey.
type bucketS3 struct {
	bodies map[string][]byte
	errs   map[string]error
}

func (f bucketS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	k := aws.ToString(in.Key)
	if err := f.errs[k]; err != nil {
		return nil, err
	}
	b, ok := f.bodies[k]
	if !ok {
		return nil, &types.NoSuchKey{}
	}
	return &s3.GetObjectOutput{
		Body: io.NopCloser(bytes.NewReader(b)), ETag: aws.String(`"` + k + `"`),
		LastModified: aws.Time(time.Date(2026, 11, 20, 10, 20, 0, 0, time.UTC)), ContentLength: aws.Int64(int64(len(b))),
	}, nil
}

type countingNotifier struct{ n int }

func (c *countingNotifier) Notify(_ context.Context, fs []finding.Finding, _ time.Time) (alert.Stats, error) {
	c.n += len(fs)
	return alert.Stats{Sent: len(fs)}, nil
}

func genFile(t *testing.T, seed uint64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := trailgen.Write(zw, trailgen.Options{Records: 60, Seed: seed, CognitoShare: 0.6, ConfigShare: 0.1}); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

func sqsOf(keys ...string) json.RawMessage {
	var recs []string
	for i, k := range keys {
		body := fmt.Sprintf(`{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",`+
			`"eventTime":"2026-11-20T10:20:00Z","eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0",`+
			`"bucket":{"name":"trail","arn":"arn:aws:s3:::trail"},"object":{"key":%q,"size":100,"eTag":%q,"sequencer":"00673DB5E2C4A1B3F1"}}}]}`, k, k)
		b, _ := json.Marshal(body)
		recs = append(recs, fmt.Sprintf(`{"messageId":"m-%d","receiptHandle":"rh","body":%s,"eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-1:123456789012:q","awsRegion":"us-east-1"}`, i, b))
	}
	return json.RawMessage(`{"Records":[` + strings.Join(recs, ",") + `]}`)
}

// TestBufferedPublishesOncePerEvent: the files of an SQS event are counted
// as direct mode counts them (same sums, same event lines, same
// notifications, the findings of one file judged after those before it),
// in one publish instead of one per file; a corrupt and a missing file are
// counted failed and their messages succeed; a throttled read fails only its
// message.
func TestBufferedPublishesOncePerEvent(t *testing.T) {
	f := bucketS3{bodies: map[string][]byte{}, errs: map[string]error{}}
	var keys []string
	for i := range 12 {
		k := fmt.Sprintf("AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/f%02d.json.gz", i)
		f.bodies[k] = genFile(t, uint64(i%6)) // files 6..11 repeat the settings of 0..5
		keys = append(keys, k)
	}
	corrupt, gone, throttled := keys[0]+".corrupt.json.gz", keys[0]+".gone.json.gz", keys[0]+".slow.json.gz"
	f.bodies[corrupt] = []byte("\x1f\x8b not gzip at all")
	f.errs[throttled] = errors.New("api error SlowDown: Please reduce your request rate")
	keys = append(keys, corrupt, gone, throttled)
	ev := sqsOf(keys...)

	run := func(buffered bool) (*recordingSink, events.SQSEventResponse, string, int) {
		var logs bytes.Buffer
		sk, nt := &recordingSink{}, &countingNotifier{}
		h := New(f, sk, nil, &Options{Buffered: buffered, MaxDatumAge: -1, Notifier: nt,
			Now:    func() time.Time { return time.Date(2026, 11, 20, 11, 0, 0, 0, time.UTC) },
			Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
		resp, err := h.Handle(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		return sk, resp.(events.SQSEventResponse), logs.String(), nt.n
	}
	direct, dresp, dlogs, dnotified := run(false)
	buf, bresp, blogs, bnotified := run(true)

	if buf.requests != 1 {
		t.Errorf("buffered mode made %d publishes, want 1", buf.requests)
	}
	if direct.requests < 14 {
		t.Errorf("direct mode made %d publishes, want one per file at least", direct.requests)
	}
	for _, name := range []string{metric.RecordsRead, metric.FilesProcessed, metric.FilesFailed, metric.Findings, "Events", "Errors"} {
		if buf.sum(name) != direct.sum(name) || buf.sum(name) == 0 {
			t.Errorf("%s: buffered %v, direct %v", name, buf.sum(name), direct.sum(name))
		}
	}
	if buf.sum(metric.FilesFailed) != 2 || buf.sum(metric.FilesProcessed) != 12 {
		t.Errorf("files processed %v, failed %v; want 12 and 2 (corrupt, gone)", buf.sum(metric.FilesProcessed), buf.sum(metric.FilesFailed))
	}
	want := []events.SQSBatchItemFailure{{ItemIdentifier: "m-14"}}
	if fmt.Sprint(bresp.BatchItemFailures) != fmt.Sprint(want) || fmt.Sprint(dresp.BatchItemFailures) != fmt.Sprint(want) {
		t.Errorf("batchItemFailures buffered %v, direct %v; want only the throttled file's message", bresp.BatchItemFailures, dresp.BatchItemFailures)
	}
	for _, msg := range []string{NotableMsg, FindingMsg} {
		d, b := strings.Count(dlogs, `"msg":"`+msg+`"`), strings.Count(blogs, `"msg":"`+msg+`"`)
		if d == 0 || d != b {
			t.Errorf("%s lines: direct %d, buffered %d", msg, d, b)
		}
	}
	if dnotified == 0 || dnotified != bnotified {
		t.Errorf("findings notified: direct %d, buffered %d", dnotified, bnotified)
	}
	if !strings.Contains(blogs, `"msg":"batch"`) || !strings.Contains(blogs, `"objects":14`) {
		t.Errorf("no batch line for the 14 objects:\n%s", blogs)
	}
}

// TestBufferedSkipsOtherShapes: buffered mode changes only SQS events.
func TestBufferedSkipsOtherShapes(t *testing.T) {
	body := sampleBody(t)
	sk := &recordingSink{}
	h := New(fakeS3{body}, sk, nil, &Options{Buffered: true, MaxDatumAge: -1, Logger: slog.New(slog.DiscardHandler)})
	out, err := h.Handle(context.Background(), s3EventFor(sampleKey, len(body)))
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := out.(Summary); !ok || s.Processed != 1 {
		t.Fatalf("S3 event in buffered mode: %#v", out)
	}
}

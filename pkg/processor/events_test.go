package processor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/scan"
	"github.com/cognitrail/cognitrail/pkg/sink"

	"github.com/cognitrail/cognitrail/internal/docs"
)

// sampleKey is a sample trail file with notable records and findings.
const sampleKey = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/123456789012_CloudTrail_us-east-1_20261120T1015Z_vwrOpUW46asiuiOt.json.gz"

// fakeS3 serves one object body for any key.
type fakeS3 struct{ body []byte }

func (f fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return &s3.GetObjectOutput{
		Body: io.NopCloser(bytes.NewReader(f.body)), ETag: aws.String(`"abc"`),
		LastModified: aws.Time(time.Date(2026, 11, 20, 10, 20, 0, 0, time.UTC)), ContentLength: aws.Int64(int64(len(f.body))),
	}, nil
}

// flakySink fails its first fail publishes, as CloudWatch beyond the SDK's
// retries would.
type flakySink struct {
	mu        sync.Mutex
	fail      int
	published int
}

func (s *flakySink) Batches(d iter.Seq[metric.Datum]) iter.Seq[[]metric.Datum] {
	return func(yield func([]metric.Datum) bool) { yield(slices.Collect(d)) }
}

func (s *flakySink) Publish(_ context.Context, b []metric.Datum) (sink.Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		return sink.Stats{}, errors.New("cloudwatch: 503 Service Unavailable")
	}
	s.published++
	return sink.Stats{Requests: 1}, nil
}

func sampleBody(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "trails", filepath.FromSlash(sampleKey)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func s3EventFor(key string, size int) json.RawMessage {
	return json.RawMessage(`{"Records":[` + s3RecordFor(key, size) + `]}`)
}

// s3RecordFor is one record of an S3 event.
func s3RecordFor(key string, size int) string {
	return fmt.Sprintf(`{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",`+
		`"eventTime":"2026-11-20T10:20:00Z","eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0",`+
		`"bucket":{"name":"trail","arn":"arn:aws:s3:::trail"},"object":{"key":%q,"size":%d,"eTag":"abc","sequencer":"00673DB5E2C4A1B3F1"}}}`, key, size)
}

// expectedLines counts, independently of the handler, the cognito_event and
// finding lines one processing of body must write.
func expectedLines(t *testing.T, body []byte) (notable int, findings []string) {
	t.Helper()
	_, err := scan.File(context.Background(), bytes.NewReader(body), aggregate.New(nil), &scan.Options{
		Findings: finding.New(nil),
		OnRecord: func(ev *scan.Event) {
			if notableReason(ev.Class) != "" {
				notable++
			}
			for _, f := range ev.Findings {
				findings = append(findings, f.Name+" "+f.EventID)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return notable, findings
}

// countLines counts the log lines by message.
func countLines(t *testing.T, logs string) map[string]int {
	t.Helper()
	n := map[string]int{}
	for line := range strings.Lines(logs) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		msg, _ := m[slog.MessageKey].(string)
		n[msg]++
	}
	return n
}

// A publish that fails writes no event line; its retry writes each once
// (issue 7: 43 + 43 cognito_event lines for one file, while the metrics
// counted once).
func TestEventLinesWrittenOnceAfterPublish(t *testing.T) {
	body := sampleBody(t)
	wantNotable, wantFindings := expectedLines(t, body)
	if wantNotable == 0 || len(wantFindings) == 0 {
		t.Fatal("the sample file has no notable record or no finding")
	}
	var logs bytes.Buffer
	sk := &flakySink{fail: 1}
	h := New(fakeS3{body}, sk, nil, &Options{Now: samplesNow, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	ev := s3EventFor(sampleKey, len(body))
	if _, err := h.Handle(context.Background(), ev); err == nil {
		t.Fatal("the first attempt succeeded; want the transient publish error")
	}
	for _, msg := range []string{NotableMsg, FindingMsg} {
		if n := countLines(t, logs.String())[msg]; n != 0 {
			t.Errorf("the failed attempt wrote %d %s lines, want none", n, msg)
		}
	}
	if _, err := h.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if n := countLines(t, logs.String())[NotableMsg]; n != wantNotable {
		t.Errorf("%d %s lines across the two attempts, want %d (one set)", n, NotableMsg, wantNotable)
	}
	var got []string
	for line := range strings.Lines(logs.String()) {
		var m map[string]any
		_ = json.Unmarshal([]byte(line), &m)
		if m[slog.MessageKey] != FindingMsg {
			continue
		}
		got = append(got, fmt.Sprint(m["finding"], " ", m["eventID"]))
		for _, k := range []string{"eventTime", "severity", "finding", "account", "region", "operation", "actor", "sourceIPAddress", "eventID"} {
			if _, ok := m[k]; !ok {
				t.Errorf("finding line without %s: %s", k, line)
			}
		}
	}
	slices.Sort(got)
	slices.Sort(wantFindings)
	if !slices.Equal(got, wantFindings) {
		t.Errorf("finding lines across the two attempts:\n%q\nwant one per finding:\n%q", got, wantFindings)
	}
	if sk.published != 1 {
		t.Errorf("%d batches published, want 1", sk.published)
	}
}

// Past MaxEventLines an object's lines are counted, not kept, and the
// object line says how many.
func TestEventLinesBounded(t *testing.T) {
	body := sampleBody(t)
	wantNotable, wantFindings := expectedLines(t, body)
	if wantNotable < 3 {
		t.Fatalf("the sample file has %d notable records, want at least 3", wantNotable)
	}
	var logs bytes.Buffer
	h := New(fakeS3{body}, &flakySink{}, nil, &Options{Now: samplesNow, Logger: slog.New(slog.NewJSONHandler(&logs, nil)), MaxEventLines: 2})
	if _, err := h.Handle(context.Background(), s3EventFor(sampleKey, len(body))); err != nil {
		t.Fatal(err)
	}
	if n := countLines(t, logs.String()); n[NotableMsg]+n[FindingMsg] != 2 {
		t.Errorf("%d %s and %d %s lines, want 2 in all", n[NotableMsg], NotableMsg, n[FindingMsg], FindingMsg)
	}
	want := fmt.Sprintf(`"eventLinesDropped":%d`, wantNotable+len(wantFindings)-2)
	if !strings.Contains(logs.String(), want) || !strings.Contains(logs.String(), `"level":"WARN","msg":"object"`) {
		t.Errorf("object line without %s at WARN:\n%s", want, logs.String())
	}
}

// The event lines are written whatever the logger's level; every other line
// follows it (issue 7: LOG_LEVEL=warn or error removed them, and every
// query, rule and widget built on them).
func TestEventLinesAtAnyLevel(t *testing.T) {
	body := sampleBody(t)
	wantNotable, wantFindings := expectedLines(t, body)
	var logs bytes.Buffer
	h := New(fakeS3{body}, &flakySink{}, nil, &Options{Now: samplesNow, Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelError}))})
	if _, err := h.Handle(context.Background(), s3EventFor(sampleKey, len(body))); err != nil {
		t.Fatal(err)
	}
	n := countLines(t, logs.String())
	if n[NotableMsg] != wantNotable || n[FindingMsg] != len(wantFindings) {
		t.Errorf("at level ERROR: %d %s and %d %s lines, want %d and %d", n[NotableMsg], NotableMsg, n[FindingMsg], FindingMsg, wantNotable, len(wantFindings))
	}
	if n["object"] != 0 {
		t.Errorf("at level ERROR the info object line was written:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `"level":"INFO","msg":"cognito_event"`) {
		t.Error("the event lines are not at level INFO")
	}
}

// The memory bound the README and DefaultMaxEventLines state.
func TestEventLineSize(t *testing.T) {
	if got := unsafe.Sizeof(notableLine{}); got != 176 {
		t.Errorf("a kept cognito_event line takes %d bytes; the README and DefaultMaxEventLines say 176", got)
	}
	if DefaultMaxEventLines*176 > 18_000_000 {
		t.Errorf("DefaultMaxEventLines %d lines take more than the 18 MB the README states", DefaultMaxEventLines)
	}
	b, err := docs.Read(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("at most %s of these lines", commas(DefaultMaxEventLines)); !strings.Contains(b, want) {
		t.Errorf("README does not say %q", want)
	}
}

func commas(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// samplesNow is the clock of the tests on the sample trails: shortly after
// their records, so none is older than CloudWatch takes whatever the day
// the tests run.
func samplesNow() time.Time { return time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC) }

// A cognito_event line carries only NotableFields, in their order, and the
// sample file's notable records between them fill every one: the template
// check reads the same list, so a field renamed here is renamed for the
// queries' check too.
func TestNotableLineFields(t *testing.T) {
	body := sampleBody(t)
	var logs bytes.Buffer
	h := New(fakeS3{body}, &flakySink{}, nil, &Options{Now: samplesNow, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if _, err := h.Handle(context.Background(), s3EventFor(sampleKey, len(body))); err != nil {
		t.Fatal(err)
	}
	fields := NotableFields()
	seen := map[string]bool{}
	lines := 0
	for line := range strings.Lines(logs.String()) {
		dec := json.NewDecoder(strings.NewReader(line))
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil || m[slog.MessageKey] != NotableMsg {
			continue
		}
		lines++
		// The keys in the order written: json.Decoder's tokens keep it.
		var keys []string
		_, _ = dec.Token()
		for dec.More() {
			k, _ := dec.Token()
			var v any
			_ = dec.Decode(&v)
			if s := k.(string); s != slog.TimeKey && s != slog.LevelKey && s != slog.MessageKey {
				keys = append(keys, s)
			}
		}
		at := 0
		for _, k := range keys {
			i := slices.Index(fields[at:], k)
			if i < 0 {
				t.Fatalf("cognito_event line has %q out of NotableFields' order or not in it %v: %s", k, fields, line)
			}
			at += i + 1
			seen[k] = true
		}
	}
	if lines == 0 {
		t.Fatal("the sample file wrote no cognito_event line")
	}
	for _, f := range fields {
		if !seen[f] {
			t.Errorf("no cognito_event line of the sample file has %q", f)
		}
	}
}

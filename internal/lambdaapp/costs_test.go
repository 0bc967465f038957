package lambdaapp

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognitrail/cognitrail/internal/trailgen"
	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/ledger"
	"github.com/cognitrail/cognitrail/pkg/scan"
	"github.com/cognitrail/cognitrail/pkg/trailfile"
)

// requestCounts are the AWS requests one mode made for the files.
type requestCounts struct {
	Invocations, PutMetricData, DynamoDB, S3 int
}

// publishedSums sums the datums of awsJson PutMetricData bodies by series.
type publishedSums map[seriesKey]float64

func (s publishedSums) add(body []byte) error {
	var in struct {
		MetricData []struct {
			MetricName string
			Dimensions []struct{ Name, Value string }
			Values     []float64
			Counts     []float64
		}
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return err
	}
	for _, d := range in.MetricData {
		var b strings.Builder
		b.WriteString(d.MetricName)
		for _, dim := range d.Dimensions {
			fmt.Fprintf(&b, "|%s=%s", dim.Name, dim.Value)
		}
		for i, v := range d.Values {
			s[seriesKey(b.String())] += v * d.Counts[i]
		}
	}
	return nil
}

// costFiles is the number of files the counting test delivers, and
// costBatch the SQS batch size of buffered mode.
const (
	costFiles = 200
	costBatch = 100
)

// TestBufferedRequestCounts: the same 1,000 small trail files through
// direct mode (one S3 event, one invocation, per file) and buffered mode
// (SQS events of 100 messages): the requests each mode makes, counted by a
// proxy in front of moto_server. Buffered mode makes at least 20 times
// fewer PutMetricData requests, and both publish exactly the same sums,
// those of an independent scan of the files. The counts are README's
// (What it costs per month), which this test holds to them.
func TestBufferedRequestCounts(t *testing.T) {
	e := newEnv(t)
	keys := e.costFiles()
	counts := map[string]requestCounts{}
	sums := map[string]publishedSums{}
	for _, mode := range []string{DeliveryDirect, DeliveryBuffered} {
		var evs []string
		p := newFaultProxy(t, server.Endpoint)
		sum := publishedSums{}
		var bad error
		p.onForward = func(op string, body []byte) {
			if op == "PutMetricData" {
				if err := sum.add(body); err != nil {
					bad = err
				}
			}
		}
		me := *e
		me.endpoint = p.URL
		me.cfg.Delivery = mode
		me.cfg.IdempotencyTable = e.cfg.IdempotencyTable + "-" + mode
		if err := ledger.CreateTable(context.Background(), dynamodb.NewFromConfig(server.AWSConfig()), me.cfg.IdempotencyTable); err != nil {
			t.Fatal(err)
		}
		if mode == DeliveryDirect {
			for _, k := range keys {
				evs = append(evs, s3Event(s3Record(k, e.etags[k], 100)))
			}
		} else {
			for i := 0; i < len(keys); i += costBatch {
				var bodies []string
				for _, k := range keys[i:min(i+costBatch, len(keys))] {
					bodies = append(bodies, s3Event(s3Record(k, e.etags[k], 100)))
				}
				evs = append(evs, sqsEvent(bodies...))
			}
		}
		start := time.Now()
		me.invokeAll(evs)
		if bad != nil {
			t.Fatal(bad)
		}
		c := requestCounts{Invocations: len(evs), PutMetricData: p.sent("PutMetricData"),
			DynamoDB: p.sent("UpdateItem") + p.sent("GetItem") + p.sent("PutItem"), S3: p.sent("GetObject")}
		t.Logf("%s: %+v (%d series, %.1fs) %v", mode, c, len(sum), time.Since(start).Seconds(), p.took)
		counts[mode], sums[mode] = c, sum
	}
	d, b := counts[DeliveryDirect], counts[DeliveryBuffered]
	if b.PutMetricData*20 > d.PutMetricData {
		t.Errorf("buffered: %d PutMetricData requests, direct %d: want at least 20 times fewer", b.PutMetricData, d.PutMetricData)
	}
	want := e.costExpectation(keys)
	for mode, got := range sums {
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s published %v, the files hold %v", mode, k, got[k], v)
			}
		}
		for k, v := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: %s published %v, the files hold none", mode, k, v)
			}
		}
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range []string{
		fmt.Sprintf("| Lambda invocations | %s | %s |", thousands(d.Invocations), thousands(b.Invocations)),
		fmt.Sprintf("| PutMetricData requests (`cloudwatch` sink) | %s | %s |", thousands(d.PutMetricData), thousands(b.PutMetricData)),
		fmt.Sprintf("| DynamoDB requests | %s | %s |", thousands(d.DynamoDB), thousands(b.DynamoDB)),
		fmt.Sprintf("| S3 GET requests | %s | %s |", thousands(d.S3), thousands(b.S3)),
	} {
		if !strings.Contains(string(readme), row) {
			t.Errorf("README's cost section lacks the measured row\n%s", row)
		}
	}
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// costFiles uploads the counting test's files: small (20 records, a
// quarter Cognito), in the last hours, each announced by its ETag.
func (e *env) costFiles() []string {
	e.t.Helper()
	e.bodies, e.modified, e.etags = map[string][]byte{}, map[string]time.Time{}, map[string]string{}
	keys := make([]string, costFiles)
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Hour)
	for i := range keys {
		keys[i] = fmt.Sprintf("AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/123456789012_CloudTrail_us-east-1_%04d.json.gz", i)
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := trailgen.Write(zw, trailgen.Options{Records: 20, CognitoShare: 0.25, Seed: uint64(i),
			Start: start.Add(time.Duration(i%12) * 5 * time.Minute), Span: 5 * time.Minute}); err != nil {
			e.t.Fatal(err)
		}
		zw.Close()
		e.bodies[keys[i]] = buf.Bytes()
	}
	var mu sync.Mutex
	parallel(e.t, keys, func(k string) error {
		ctx := context.Background()
		if _, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: bytes.NewReader(e.bodies[k])}); err != nil {
			return err
		}
		head, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
		if err != nil {
			return err
		}
		mu.Lock()
		e.modified[k], e.etags[k] = aws.ToTime(head.LastModified), strings.Trim(aws.ToString(head.ETag), `"`)
		mu.Unlock()
		return nil
	})
	return keys
}

// costExpectation sums, by series, what an independent scan of each file
// (pkg/scan, with the object's LastModified) counts.
func (e *env) costExpectation(keys []string) publishedSums {
	out := publishedSums{}
	for _, k := range keys {
		agg := aggregate.New(&aggregate.Options{Level: e.cfg.Level})
		if _, err := scan.File(context.Background(), bytes.NewReader(e.bodies[k]), agg, &scan.Options{
			Reader: trailfile.Options{Name: k}, DeliveredAt: e.modified[k],
			Findings: finding.New(&finding.Options{State: forgetful{}}),
		}); err != nil {
			e.t.Fatal(err)
		}
		for _, d := range agg.Datums() {
			out[keyOf(d.Name, d.Dimensions)] += d.Sum()
		}
	}
	return out
}

// invokeAll runs the events on four concurrent handlers, as Lambda's
// concurrent execution environments would; every one must succeed whole.
func (e *env) invokeAll(evs []string) {
	e.t.Helper()
	handlers := make(chan *env, 4)
	for range cap(handlers) {
		handlers <- e
	}
	parallel(e.t, evs, func(ev string) error {
		me := <-handlers
		defer func() { handlers <- me }()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := me.handler().Handle(ctx, json.RawMessage(ev))
		if err != nil {
			return err
		}
		if r, ok := out.(events.SQSEventResponse); ok && len(r.BatchItemFailures) > 0 {
			return fmt.Errorf("batch item failures %v", r.BatchItemFailures)
		}
		return nil
	})
}

// parallel runs fn over items on four goroutines and fails on the first
// error.
func parallel[T any](t *testing.T, items []T, fn func(T) error) {
	t.Helper()
	ch := make(chan T)
	errs := make(chan error, len(items))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for it := range ch {
				if err := fn(it); err != nil {
					errs <- err
				}
			}
		})
	}
	for _, it := range items {
		ch <- it
	}
	close(ch)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

package lambdaapp

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognitrail/cognitrail/internal/ledgertable"
	"github.com/cognitrail/cognitrail/internal/trailgen"
	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/ledger"
	"github.com/cognitrail/cognitrail/pkg/ledger/item"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/processor"
	"github.com/cognitrail/cognitrail/pkg/scan"
	"github.com/cognitrail/cognitrail/pkg/trailfile"

	"github.com/cognitrail/cognitrail/internal/docs"
)

// requestCounts are the AWS requests one mode made for the files.
type requestCounts struct {
	Invocations, PutMetricData, DynamoDB, S3 int
	// WriteUnits are DynamoDB's write units: per write, one per KB of the
	// item (the larger of before and after; estimated here from the item's
	// final size).
	WriteUnits int
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

// costBatch is the SQS batch size of buffered mode in the counting test.
const costBatch = 100

// costFiles is the number of files the counting test delivers: every
// batch of 100 is alike (the same contents under other keys), so the
// counts scale exactly to 1,000 files, which README gives and
// `-costfiles=1000` measures whole (about 80 s on moto_server).
var costFiles = flag.Int("costfiles", 2*costBatch, "files the request-counting test delivers (a multiple of 100 dividing 1000 or of 1000)")

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
		writes := map[string]int{}
		// perEnv counts the app client cache's writes: one per pair and
		// execution environment, not per file (README counts them apart,
		// as the series budget's).
		perEnv := 0
		var bad error
		p.onForward = func(op string, body []byte) {
			switch op {
			case "PutMetricData":
				if err := sum.add(body); err != nil {
					bad = err
				}
			case "UpdateItem", "PutItem":
				var in struct{ Key, Item map[string]map[string]string }
				if err := json.Unmarshal(body, &in); err != nil {
					bad = err
				}
				k := in.Key[ledger.AttrKey]["S"]
				if op == "PutItem" {
					k = in.Item[ledger.AttrKey]["S"]
				}
				if strings.HasPrefix(k, item.ClientPrefix) {
					perEnv++
					return
				}
				writes[k]++
			}
		}
		me := *e
		me.endpoint = p.URL
		me.cfg.Delivery = mode
		// The series budget's requests are per month and execution
		// environment, not per file (README counts them apart).
		me.cfg.MaxSeriesPerDimension = -1
		me.cfg.IdempotencyTable = e.cfg.IdempotencyTable + "-" + mode
		if err := ledgertable.Create(context.Background(), dynamodb.NewFromConfig(server.AWSConfig()), me.cfg.IdempotencyTable); err != nil {
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
			DynamoDB: p.sent("UpdateItem") + p.sent("GetItem") + p.sent("PutItem") - perEnv, S3: p.sent("GetObject"),
			WriteUnits: me.writeUnits(writes)}
		t.Logf("%s, %d files: %+v (%d series, %.1fs)", mode, len(keys), c, len(sum), time.Since(start).Seconds())
		counts[mode], sums[mode] = c, sum
	}
	d, b := counts[DeliveryDirect].per1000(t, len(keys)), counts[DeliveryBuffered].per1000(t, len(keys))
	t.Logf("per 1,000 files: direct %+v, buffered %+v\n%s", d, b, strings.Join(costRows(d, b), "\n"))
	if b.PutMetricData*20 > d.PutMetricData {
		t.Errorf("buffered: %d PutMetricData requests, direct %d: want at least 20 times fewer", b.PutMetricData, d.PutMetricData)
	}
	// Findings and peaks (DistinctFailingSources) are left out: the test's
	// finding state forgets (each file judged alone, as the independent
	// scan judges it), while a buffered batch judges its files one after
	// the other, as direct mode does with the function's real state.
	want := e.costExpectation(keys)
	for mode, got := range sums {
		for k, v := range want {
			if got[k] != v && !judged(k) {
				t.Errorf("%s: %s published %v, the files hold %v", mode, k, got[k], v)
			}
		}
		for k, v := range got {
			if _, ok := want[k]; !ok && !judged(k) {
				t.Errorf("%s: %s published %v, the files hold none", mode, k, v)
			}
		}
	}
	readme, err := docs.Read(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range costRows(d, b) {
		if !strings.Contains(string(readme), row) {
			t.Errorf("README's cost section lacks the measured row\n%s", row)
		}
	}
}

// List prices (us-east-1) that README's cost section cites.
const (
	priceLambdaRequest = 0.20 / 1e6
	pricePutMetricData = 0.01 / 1e3
	priceWriteUnit     = 0.625 / 1e6
	priceS3Get         = 0.0004 / 1e3
	priceSQSRequest    = 0.40 / 1e6
	// sqsPerFile is not measured: S3's SendMessage per file, and the
	// event source mapping's ReceiveMessage and DeleteMessageBatch per ten.
	sqsPerFile = 1.2
)

// costRows are README's rows: the requests per 1,000 files measured, and
// what they cost per million files.
func costRows(d, b requestCounts) []string {
	usd := func(perThousand int, price float64) string {
		return fmt.Sprintf("$%.2f", float64(perThousand)*1000*price)
	}
	total := func(c requestCounts, sqs, pmd bool) string {
		v := float64(c.Invocations)*priceLambdaRequest + float64(c.WriteUnits)*priceWriteUnit + float64(c.S3)*priceS3Get
		if pmd {
			v += float64(c.PutMetricData) * pricePutMetricData
		}
		if sqs {
			v += sqsPerFile * 1000 * priceSQSRequest
		}
		return fmt.Sprintf("$%.2f", v*1000)
	}
	return []string{
		fmt.Sprintf("| Lambda invocations | %s | %s |", thousands(d.Invocations), thousands(b.Invocations)),
		fmt.Sprintf("| PutMetricData requests (`cloudwatch` sink) | %s | %s |", thousands(d.PutMetricData), thousands(b.PutMetricData)),
		fmt.Sprintf("| DynamoDB requests | %s | %s |", thousands(d.DynamoDB), thousands(b.DynamoDB)),
		fmt.Sprintf("| DynamoDB write units | %s | %s |", thousands(d.WriteUnits), thousands(b.WriteUnits)),
		fmt.Sprintf("| S3 GET requests | %s | %s |", thousands(d.S3), thousands(b.S3)),
		fmt.Sprintf("| Lambda requests, $0.20 per million | %s | %s |", usd(d.Invocations, priceLambdaRequest), usd(b.Invocations, priceLambdaRequest)),
		fmt.Sprintf("| PutMetricData, $0.01 per 1,000 (`emf` sink: none) | %s | %s |", usd(d.PutMetricData, pricePutMetricData), usd(b.PutMetricData, pricePutMetricData)),
		fmt.Sprintf("| DynamoDB on-demand writes, $0.625 per million write units | %s | %s |", usd(d.WriteUnits, priceWriteUnit), usd(b.WriteUnits, priceWriteUnit)),
		fmt.Sprintf("| S3 GET, $0.0004 per 1,000 | %s | %s |", usd(d.S3, priceS3Get), usd(b.S3, priceS3Get)),
		fmt.Sprintf("| **Total, `cloudwatch` sink** | **%s** | **%s** |", total(d, false, true), total(b, true, true)),
		fmt.Sprintf("| **Total, `emf` sink** | **%s** | **%s** |", total(d, false, false), total(b, true, false)),
	}
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// writeUnits estimates the write units of the writes counted by item key,
// from each item's size in the ledger table now (DynamoDB's rule: the
// lengths of the attribute names and values, a number about one byte per
// two digits).
func (e *env) writeUnits(writes map[string]int) int {
	e.t.Helper()
	db := dynamodb.NewFromConfig(server.AWSConfig())
	sizes := map[string]int{}
	var start map[string]ddbtypes.AttributeValue
	for {
		out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(e.cfg.IdempotencyTable), ExclusiveStartKey: start})
		if err != nil {
			e.t.Fatal(err)
		}
		for _, it := range out.Items {
			n := 0
			for name, v := range it {
				n += len(name)
				switch v := v.(type) {
				case *ddbtypes.AttributeValueMemberS:
					n += len(v.Value)
				case *ddbtypes.AttributeValueMemberN:
					n += (len(v.Value)+1)/2 + 1
				case *ddbtypes.AttributeValueMemberB:
					n += len(v.Value)
				}
			}
			sizes[it[ledger.AttrKey].(*ddbtypes.AttributeValueMemberS).Value] = n
		}
		if start = out.LastEvaluatedKey; len(start) == 0 {
			break
		}
	}
	wru := 0
	for k, n := range writes {
		wru += n * ((max(sizes[k], 1) + 1023) / 1024)
	}
	return wru
}

// costFiles uploads the counting test's files: small (20 records, a
// quarter Cognito), in the last hours, each announced by its ETag.
func (e *env) costFiles() []string {
	e.t.Helper()
	e.bodies, e.modified, e.etags = map[string][]byte{}, map[string]time.Time{}, map[string]string{}
	keys := make([]string, *costFiles)
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Hour)
	for i := range keys {
		keys[i] = fmt.Sprintf("AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/123456789012_CloudTrail_us-east-1_%04d.json.gz", i)
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		j := i % costBatch
		if _, err := trailgen.Write(zw, trailgen.Options{Records: 20, CognitoShare: 0.25, Seed: uint64(j),
			Start: start.Add(time.Duration(j%12) * 5 * time.Minute), Span: 5 * time.Minute}); err != nil {
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
		for _, d := range slices.Collect(agg.All()) {
			out[keyOf(d.Name, d.Dimensions)] += d.Sum()
		}
	}
	return out
}

// invokeAll runs the events on four concurrent handlers, as Lambda's
// concurrent execution environments would; every one must succeed whole.
func (e *env) invokeAll(evs []string) {
	e.t.Helper()
	awsCfg := server.AWSConfig()
	awsCfg.BaseEndpoint = aws.String(e.endpoint)
	w := &lockedWriter{w: &e.logs}
	handlers := make(chan *processor.Handler, 4)
	for range cap(handlers) {
		h, err := New(e.cfg, awsCfg, w, NewLogger(e.cfg, w), e.options()...)
		if err != nil {
			e.t.Fatal(err)
		}
		handlers <- h
	}
	parallel(e.t, evs, func(ev string) error {
		h := <-handlers
		defer func() { handlers <- h }()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := h.Handle(ctx, json.RawMessage(ev))
		if err != nil {
			return err
		}
		if r, ok := out.(events.SQSEventResponse); ok && len(r.BatchItemFailures) > 0 {
			return fmt.Errorf("batch item failures %v", r.BatchItemFailures)
		}
		return nil
	})
}

// lockedWriter serialises the log lines of concurrent handlers.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
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

// per1000 scales counts made for n files to 1,000 files; the batches are
// alike, so the division is exact.
func (c requestCounts) per1000(t *testing.T, n int) requestCounts {
	t.Helper()
	scale := func(v int) int {
		if v*1000%n != 0 {
			t.Fatalf("%d requests for %d files do not scale to 1,000 files exactly", v, n)
		}
		return v * 1000 / n
	}
	return requestCounts{scale(c.Invocations), scale(c.PutMetricData), scale(c.DynamoDB), scale(c.S3), scale(c.WriteUnits)}
}

// judged reports a series whose datums depend on the files judged before:
// Findings and the peaks.
func judged(k seriesKey) bool {
	name, _, _ := strings.Cut(string(k), "|")
	return name == metric.Findings || peak(name)
}

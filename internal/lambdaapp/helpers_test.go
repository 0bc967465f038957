package lambdaapp

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognitrail/cognitrail/internal/ledgertable"
	"github.com/cognitrail/cognitrail/internal/motoserver"
	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/processor"
	"github.com/cognitrail/cognitrail/pkg/scan"
	"github.com/cognitrail/cognitrail/pkg/trailfile"
)

var (
	server    *motoserver.Server
	serverErr error
)

func TestMain(m *testing.M) {
	motoserver.Main(m, func(s *motoserver.Server, err error) { server, serverErr = s, err })
}

const bucket = "cognitrail-it-trail"

var envSeq atomic.Int32

// env is one test's world on the shared moto_server: a bucket, a ledger
// table, a namespace, and what the engine expects for each uploaded file.
type env struct {
	t        *testing.T
	endpoint string // where the handler's SDK clients send requests
	cfg      Config
	// state is the handler's finding state: forgetful unless a test
	// sets it, nil for the function's own (the ledger table's).
	state     finding.State
	s3        *s3.Client
	cw        *cw.Client
	expected  map[string][]metric.Datum // per key
	logs      bytes.Buffer
	namespace string
	// clients resolves app clients in the expectations put computes.
	clients aggregate.Resolver
	// bodies and modified keep the files bufferedFiles uploads.
	bodies   map[string][]byte
	modified map[string]time.Time
	etags    map[string]string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	motoserver.Require(t)
	if serverErr != nil {
		t.Fatal(serverErr)
	}
	// GetMetricData in moto ignores the namespace of queries with
	// dimensions: start every test from an empty server.
	if err := server.Reset(); err != nil {
		t.Fatal(err)
	}
	n := envSeq.Add(1)
	e := &env{
		t:         t,
		endpoint:  server.Endpoint,
		expected:  map[string][]metric.Datum{},
		namespace: fmt.Sprintf("CognitrailIT%d", n),
	}
	e.state = forgetful{}
	e.cfg = Config{
		Namespace:          e.namespace,
		Sink:               SinkCloudWatch,
		Level:              metric.Standard,
		IdempotencyTable:   fmt.Sprintf("cognitrail-ledger-%d", n),
		CloudWatchProtocol: ProtocolJSON,
		S3UsePathStyle:     true,
	}
	awsCfg := server.AWSConfig()
	e.s3 = s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = true })
	e.cw = cw.NewFromConfig(awsCfg, func(o *cw.Options) {
		o.Protocol = jsonProtocol()
		o.DisableRequestCompression = true
	})
	ctx := context.Background()
	if _, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if err := ledgertable.Create(ctx, dynamodb.NewFromConfig(awsCfg), e.cfg.IdempotencyTable); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("handler logs:\n%s", e.logs.String())
		}
	})
	return e
}

// options are what the tests set beside the configuration: quick retries
// and the finding state.
func (e *env) options() []Option {
	return []Option{WithRetry(5, 20*time.Millisecond), WithFindingState(e.state)}
}

// handler builds the handler as main does, against e.endpoint.
func (e *env) handler() *processor.Handler {
	e.t.Helper()
	awsCfg := server.AWSConfig()
	awsCfg.BaseEndpoint = aws.String(e.endpoint)
	// The function's own logger, so the tests read the lines users query.
	log := NewLogger(e.cfg, &e.logs)
	h, err := New(e.cfg, awsCfg, &e.logs, log, e.options()...)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

// invoke runs the handler on an event, as Lambda would.
func (e *env) invoke(event string) (any, error) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return e.handler().Handle(ctx, json.RawMessage(event))
}

// deliver uploads a trail file and invokes the handler on its S3
// notification.
func (e *env) deliver(key string, body []byte) {
	e.t.Helper()
	e.put(key, body)
	if _, err := e.invoke(s3Event(s3Record(key, e.etag(key), len(body)))); err != nil {
		e.t.Fatal(err)
	}
}

// eventLines counts the cognito_event and the finding lines logged.
func (e *env) eventLines() (events, findings int) {
	return strings.Count(e.logs.String(), `"message":"cognito_event"`), strings.Count(e.logs.String(), `"message":"finding"`)
}

// put uploads a trail file and records what the engine makes of it,
// computed with pkg/scan on the local bytes and the object's LastModified,
// exactly as the handler will.
func (e *env) put(key string, body []byte) {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		e.t.Fatal(err)
	}
	head, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		e.t.Fatal(err)
	}
	agg := aggregate.New(&aggregate.Options{Level: e.cfg.Level})
	if _, err := scan.File(ctx, bytes.NewReader(body), agg, &scan.Options{
		Reader:      trailfile.Options{Name: key},
		DeliveredAt: aws.ToTime(head.LastModified),
		Clients:     e.clients,
		Findings:    finding.New(&finding.Options{State: forgetful{}}),
	}); err != nil {
		e.t.Fatal(err)
	}
	e.expected[key] = slices.Collect(agg.All())
}

// forgetful is a finding state that never remembers: each file's findings
// are then the same whatever the order and batching of the invocations, so
// the expected Findings counts can be computed file by file. The transition
// rules themselves are tested in pkg/finding.
type forgetful struct{}

func (forgetful) Get(context.Context, string) ([]finding.Entry, error)  { return nil, nil }
func (forgetful) Put(context.Context, map[string][]finding.Entry) error { return nil }

// etag returns an object's ETag, for events that carry it.
func (e *env) etag(key string) string {
	e.t.Helper()
	head, err := e.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		e.t.Fatal(err)
	}
	return strings.Trim(aws.ToString(head.ETag), `"`)
}

// seriesKey names a series: metric name and its dimensions.
type seriesKey string

func keyOf(name string, dims []metric.Dimension) seriesKey {
	var b strings.Builder
	b.WriteString(name)
	for _, d := range dims {
		fmt.Fprintf(&b, "|%s=%s", d.Name, d.Value)
	}
	return seriesKey(b.String())
}

type expectation struct {
	// ignore are metric names not checked.
	ignore map[string]bool
	sums   map[seriesKey]float64
	dims   map[seriesKey][]metric.Dimension
	name   map[seriesKey]string
}

// expect sums the datums of the given files, plus extra counts (FilesSkipped
// from notifications), the way moto answers queries: a query with
// dimensions matches exactly those dimensions; a query without dimensions
// matches the metric with any dimensions (real CloudWatch would match only
// the dimensionless series; for the metrics that have only that series the
// two agree).
func (e *env) expect(keys []string, extra map[string]float64) expectation {
	x := expectation{sums: map[seriesKey]float64{}, dims: map[seriesKey][]metric.Dimension{}, name: map[seriesKey]string{}}
	add := func(name string, dims []metric.Dimension, v float64) {
		k := keyOf(name, dims)
		x.sums[k] += v
		x.dims[k], x.name[k] = dims, name
		if len(dims) > 0 {
			k0 := keyOf(name, nil)
			x.sums[k0] += v
			x.name[k0] = name
		}
	}
	for _, k := range keys {
		ds, ok := e.expected[k]
		if !ok {
			e.t.Fatalf("no expectation for %q", k)
		}
		for _, d := range ds {
			add(d.Name, d.Dimensions, d.Sum())
		}
	}
	for name, v := range extra {
		add(name, nil, v)
	}
	return x
}

// check reads every expected series back with GetMetricData and compares
// the sums exactly; it also checks that no other metric has data. Peaks
// (DistinctFailingSources) are not sums: what a file publishes depends on
// the files judged before it (TestAttackAcrossFilesAndColdStarts reads
// them back by their Maximum).
func (e *env) check(x expectation) {
	e.t.Helper()
	keys := make([]seriesKey, 0, len(x.sums))
	for k := range x.sums {
		if !x.ignore[x.name[k]] && !peak(x.name[k]) {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	got := e.read(keys, x)
	for _, k := range keys {
		if got[k] != x.sums[k] {
			e.t.Errorf("%s: CloudWatch has %v, engine computed %v", k, got[k], x.sums[k])
		}
	}
	// Metrics expected to have no data at all.
	var absent []seriesKey
	for _, s := range metric.Catalog {
		k := keyOf(s.Name, nil)
		if _, ok := x.sums[k]; !ok && !x.ignore[s.Name] && !peak(s.Name) {
			absent = append(absent, k)
			x.name[k] = s.Name
		}
	}
	for k, v := range e.read(absent, x) {
		if v != 0 {
			e.t.Errorf("%s: CloudWatch has %v, want nothing", k, v)
		}
	}
}

func (e *env) read(keys []seriesKey, x expectation) map[seriesKey]float64 {
	e.t.Helper()
	end := time.Now().Add(3 * time.Hour).Truncate(time.Hour)
	start := end.Add(-15 * 24 * time.Hour)
	got := map[seriesKey]float64{}
	for chunk := range slices.Chunk(keys, 400) {
		in := &cw.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(end)}
		ids := map[string]seriesKey{}
		for i, k := range chunk {
			id := fmt.Sprintf("q%d", i)
			ids[id] = k
			m := &cwtypes.Metric{Namespace: aws.String(e.namespace), MetricName: aws.String(x.name[k])}
			for _, d := range x.dims[k] {
				m.Dimensions = append(m.Dimensions, cwtypes.Dimension{Name: aws.String(d.Name), Value: aws.String(d.Value)})
			}
			in.MetricDataQueries = append(in.MetricDataQueries, cwtypes.MetricDataQuery{
				Id:         aws.String(id),
				MetricStat: &cwtypes.MetricStat{Metric: m, Period: aws.Int32(int32(end.Sub(start).Seconds())), Stat: aws.String("Sum")},
			})
		}
		out, err := e.cw.GetMetricData(context.Background(), in)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, r := range out.MetricDataResults {
			for _, v := range r.Values {
				got[ids[aws.ToString(r.Id)]] += v
			}
		}
	}
	return got
}

// statSum reads one metric's Sum with GetMetricStatistics (all dimensions).
func (e *env) statSum(name string) float64 {
	e.t.Helper()
	end := time.Now().Add(3 * time.Hour).Truncate(time.Hour)
	out, err := e.cw.GetMetricStatistics(context.Background(), &cw.GetMetricStatisticsInput{
		Namespace: aws.String(e.namespace), MetricName: aws.String(name),
		StartTime: aws.Time(end.Add(-15 * 24 * time.Hour)), EndTime: aws.Time(end),
		Period: aws.Int32(86400), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	var s float64
	for _, d := range out.Datapoints {
		s += aws.ToFloat64(d.Sum)
	}
	return s
}

// envWith is a getenv in which only name is set, to value.
func envWith(name, value string) func(string) string {
	return func(k string) string {
		if k == name {
			return value
		}
		return ""
	}
}

// --- trail files -----------------------------------------------------------

// templates are real-shaped records from the classifier's golden inputs.
func templates(t testing.TB) []map[string]any {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "pkg", "class", "testdata", "aws", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no record templates: %v", err)
	}
	var out []map[string]any
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "insight-") {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rec map[string]any
		if err := json.Unmarshal(raw, &rec); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, rec)
	}
	return out
}

// trailFile builds a gzipped trail file of n records cycling through the
// templates, one every step starting at start.
func trailFile(t testing.TB, n int, start time.Time, step time.Duration) []byte {
	t.Helper()
	tmpl := templates(t)
	recs := make([]map[string]any, n)
	for i := range recs {
		r := map[string]any{}
		for k, v := range tmpl[i%len(tmpl)] {
			r[k] = v
		}
		r["eventTime"] = start.Add(time.Duration(i) * step).UTC().Format(time.RFC3339)
		r["eventID"] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		recs[i] = r
	}
	raw, err := json.Marshal(map[string]any{"Records": recs})
	if err != nil {
		t.Fatal(err)
	}
	return gz(raw)
}

func gz(raw []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(raw)
	zw.Close()
	return buf.Bytes()
}

// --- events ------------------------------------------------------------------

// encodeKey encodes a key as S3 does in notifications ('+' for space,
// percent-escapes, '/' kept).
func encodeKey(k string) string { return strings.ReplaceAll(url.QueryEscape(k), "%2F", "/") }

func s3Record(key, etag string, size int) string {
	return fmt.Sprintf(`{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":%q,"eventName":"ObjectCreated:Put",`+
		`"s3":{"s3SchemaVersion":"1.0","bucket":{"name":%q,"arn":"arn:aws:s3:::%s"},"object":{"key":%q,"size":%d,"eTag":%q,"sequencer":"00673DB5E2C4A1B3F1"}}}`,
		time.Now().UTC().Format(time.RFC3339), bucket, bucket, encodeKey(key), size, etag)
}

func s3Event(recs ...string) string { return `{"Records":[` + strings.Join(recs, ",") + `]}` }

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

func sqsEvent(bodies ...string) string {
	var recs []string
	for i, b := range bodies {
		recs = append(recs, fmt.Sprintf(`{"messageId":"msg-%d","receiptHandle":"rh","body":%s,"eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-1:123456789012:q","awsRegion":"us-east-1"}`, i, quote(b)))
	}
	return `{"Records":[` + strings.Join(recs, ",") + `]}`
}

func snsEnvelope(msg string) string {
	return fmt.Sprintf(`{"Type":"Notification","MessageId":"m","TopicArn":"arn:aws:sns:us-east-1:123456789012:t","Message":%s,"Timestamp":%q}`,
		quote(msg), time.Now().UTC().Format(time.RFC3339))
}

func snsEvent(msg string) string {
	return `{"Records":[{"EventSource":"aws:sns","EventVersion":"1.0","Sns":` + snsEnvelope(msg) + `}]}`
}

func cloudTrailMessage(keys ...string) string {
	b, _ := json.Marshal(map[string]any{"s3Bucket": bucket, "s3ObjectKey": keys})
	return string(b)
}

func eventBridgeEvent(key, etag string, size int) string {
	return fmt.Sprintf(`{"version":"0","id":"1","detail-type":"Object Created","source":"aws.s3","account":"123456789012","time":%q,"region":"us-east-1",`+
		`"resources":["arn:aws:s3:::%s"],"detail":{"version":"0","bucket":{"name":%q},"object":{"key":%q,"size":%d,"etag":%q,"sequencer":"00673D"},"reason":"PutObject"}}`,
		time.Now().UTC().Format(time.RFC3339), bucket, bucket, encodeKey(key), size, etag)
}

const testEvent = `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-20T09:58:01.123Z","Bucket":"cognitrail-it-trail","RequestId":"r","HostId":"h"}`

// peak reports a metric read by its Maximum.
func peak(name string) bool { return metric.StatOf(name) == metric.StatMaximum }

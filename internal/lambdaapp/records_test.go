package lambdaapp

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognitrail/cognitrail/pkg/metric"
)

// MAX_RECORD_BYTES reaches the reader: a record over it is counted in
// RecordsInvalid, the object log line counts it, and the records after it
// are read.
func TestMaxRecordBytesReachesTheReader(t *testing.T) {
	e := newEnv(t)
	c, err := ConfigFromEnv(envWith(EnvMaxRecordBytes, "4KiB"))
	if err != nil {
		t.Fatal(err)
	}
	e.cfg.MaxRecordBytes = c.MaxRecordBytes
	at := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	rec := func(i int, params string) string {
		return fmt.Sprintf(`{"eventVersion":"1.08","eventTime":%q,"eventSource":"s3.amazonaws.com","eventName":"GetObject","eventID":"id-%d","requestParameters":{"key":%q}}`, at, i, params)
	}
	body := []byte(`{"Records":[` + rec(0, "a") + `,` + rec(1, strings.Repeat("x", 10<<10)) + `,` + rec(2, "b") + `]}`)
	key := "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/123456789012_CloudTrail_us-east-1_20261120T1005Z_big.json"
	if _, err := e.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.invoke(s3Event(s3Record(key, e.etag(key), len(body)))); err != nil {
		t.Fatal(err)
	}
	if read, invalid := e.statSum(metric.RecordsRead), e.statSum(metric.RecordsInvalid); read != 2 || invalid != 1 {
		t.Errorf("RecordsRead %v, RecordsInvalid %v; want 2 and 1", read, invalid)
	}
	if logs := e.logs.String(); !strings.Contains(logs, `"invalidRecords":1`) || !strings.Contains(logs, "record 1 (byte ") {
		t.Errorf("the object line does not count and name the record over the limit:\n%s", logs)
	}
}

func TestMaxRecordBytesConfig(t *testing.T) {
	for v, want := range map[string]int{"": 0, "1048576": 1 << 20, "16MiB": 16 << 20, "1GiB": 1 << 30, "0": -1, "-5": -1, "lots": -1, "2GiB": -1} {
		c, err := ConfigFromEnv(envWith(EnvMaxRecordBytes, v))
		switch {
		case want < 0 && err == nil:
			t.Errorf("%s=%q accepted", EnvMaxRecordBytes, v)
		case want >= 0 && (err != nil || c.MaxRecordBytes != want):
			t.Errorf("%s=%q: %d, %v; want %d", EnvMaxRecordBytes, v, c.MaxRecordBytes, err, want)
		}
	}
}

// Records older than CloudWatch accepts are not aggregated: the object line
// counts them once (recordsTooOld), the recent ones are published, and
// nothing is dropped at the sink (datumsDroppedTooOld absent).
func TestRecordsTooOldNotAggregated(t *testing.T) {
	e := newEnv(t)
	rec := func(i int, at time.Time) string {
		return fmt.Sprintf(`{"eventVersion":"1.08","eventTime":%q,"eventSource":"s3.amazonaws.com","eventName":"GetObject","eventID":"id-%d"}`, at.UTC().Format(time.RFC3339), i)
	}
	now := time.Now()
	var recs []string
	for i := range 5 {
		recs = append(recs, rec(i, now.Add(-20*24*time.Hour).Add(time.Duration(i)*time.Hour)))
	}
	recs = append(recs, rec(5, now.Add(-time.Hour)), rec(6, now.Add(-2*time.Hour)))
	body := []byte(`{"Records":[` + strings.Join(recs, ",") + `]}`)
	key := "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/123456789012_CloudTrail_us-east-1_20261120T1005Z_old.json"
	if _, err := e.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.invoke(s3Event(s3Record(key, e.etag(key), len(body)))); err != nil {
		t.Fatal(err)
	}
	if read := e.statSum(metric.RecordsRead); read != 2 {
		t.Errorf("RecordsRead %v, want 2", read)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, `"recordsTooOld":5`) || !strings.Contains(logs, `"records":7`) {
		t.Errorf("the object line does not count the 5 records too old of 7:\n%s", logs)
	}
	if strings.Contains(logs, "datumsDroppedTooOld") {
		t.Errorf("old datums reached the sink:\n%s", logs)
	}
}

// MAX_SERIES_PER_DIMENSION reaches the handler, and its budget outlives one
// file: with a budget of one operation a month, the busiest operation of the
// first file keeps its series, and every other operation, in that file or
// the next, is counted under "other".
func TestSeriesBudgetAcrossFiles(t *testing.T) {
	e := newEnv(t)
	c, err := ConfigFromEnv(envWith(EnvMaxSeriesPerDim, "1"))
	if err != nil {
		t.Fatal(err)
	}
	e.cfg.MaxSeriesPerDimension = c.MaxSeriesPerDimension
	h := e.handler()
	handle(t, h, e.opsFile("one", "ListUsers", "ListUsers", "ListGroups"))
	handle(t, h, e.opsFile("two", "DescribeUserPool", "DescribeUserPool", "DescribeUserPool", "ListUsers"))

	x := expectation{sums: map[seriesKey]float64{}, dims: map[seriesKey][]metric.Dimension{}, name: map[seriesKey]string{}}
	want := map[string]float64{"ListUsers": 3, "other": 4, "ListGroups": 0, "DescribeUserPool": 0}
	keys := map[string]seriesKey{}
	for op := range want {
		dims := []metric.Dimension{{Name: metric.DimCategory, Value: "user-pool-api"}, {Name: metric.DimOperation, Value: op}}
		keys[op] = keyOf(metric.Events, dims)
		x.dims[keys[op]], x.name[keys[op]] = dims, metric.Events
	}
	got := e.read(slices.Collect(maps.Values(keys)), x)
	for op, n := range want {
		if got[keys[op]] != n {
			t.Errorf("Events for operation %s: %v, want %v", op, got[keys[op]], n)
		}
	}
}

func TestMaxSeriesPerDimensionConfig(t *testing.T) {
	for v, want := range map[string]int{"": 0, "off": -1, "OFF": -1, "50": 50, "0": -2, "-3": -2, "many": -2} {
		c, err := ConfigFromEnv(envWith(EnvMaxSeriesPerDim, v))
		switch {
		case want == -2 && err == nil:
			t.Errorf("%q accepted", v)
		case want != -2 && (err != nil || c.MaxSeriesPerDimension != want):
			t.Errorf("%q: %d, %v; want %d", v, c.MaxSeriesPerDimension, err, want)
		}
	}
}

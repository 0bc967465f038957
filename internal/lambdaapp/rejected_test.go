package lambdaapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"

	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/sink"
	"github.com/cognitrail/cognitrail/pkg/sink/cloudwatch"
)

// TestRejectedBatchIsPassedOver: CloudWatch refuses the second of three
// batches with 400 InvalidParameterValue. The handler publishes the first
// and the third, marks the file done (a redelivery is a duplicate), returns
// no error (nothing for Lambda to retry into the DLQ) and logs the rejected
// datums once, on the object's line, with CloudWatch's message and the key.
func TestRejectedBatchIsPassedOver(t *testing.T) {
	e, p := newProxiedEnv(t)
	body := bigFile(t)
	e.put(kSpace, body)
	batches := slices.Collect(cloudwatch.New(nil, nil).Batches(slices.Values(e.expected[kSpace])))
	if len(batches) != 3 {
		t.Fatalf("test file makes %d batches, want 3", len(batches))
	}
	p.setPlan(onNth("PutMetricData", 2, invalidParam))
	ev := sqsEvent(s3Event(s3Record(kSpace, e.etag(kSpace), len(body))))
	if f := e.sqsFailures(ev); len(f) != 0 {
		t.Fatalf("batchItemFailures %+v: a rejected batch made the message retry", f)
	}
	if got := p.count("PutMetricData"); got != 2 {
		t.Errorf("%d PutMetricData requests reached CloudWatch, want 2 (batches 1 and 3)", got)
	}
	if got := p.sent("PutMetricData"); got != 3 {
		t.Errorf("%d PutMetricData requests sent, want 3 (the rejected one not retried)", got)
	}
	line := objectLine(t, e.logs.String(), kSpace)
	if line["outcome"] != "processed" || line["level"] != "WARN" || line["datumsRejected"] != float64(len(batches[1])) ||
		!strings.Contains(line["rejectedError"].(string), "InvalidParameterValue") ||
		!strings.Contains(line["rejectedError"].(string), kSpace) || !strings.Contains(line["rejectedError"].(string), "batch 2:") {
		t.Errorf("object line %v", line)
	}
	if n := strings.Count(e.logs.String(), "InvalidParameterValue"); n != 1 {
		t.Errorf("the rejection is logged %d times, want once", n)
	}
	// Done: a redelivery is a duplicate: it sends its FilesSkipped count
	// and nothing of the file.
	if _, err := e.invoke(ev); err != nil {
		t.Fatal(err)
	}
	if got := p.sent("PutMetricData"); got != 4 {
		t.Errorf("the redelivery sent %d requests, want 1 (its skip count)", got-3)
	}
	e.expected["published"] = append(append([]metric.Datum{}, batches[0]...), batches[2]...)
	e.check(e.expect([]string{"published"}, map[string]float64{metric.FilesSkipped: 1}))
}

// TestCloudWatchValidationErrorIsRecognised: the answer a real server gives
// to an invalid request (moto_server validates Values and Counts of equal
// length), in each wire protocol the function can use against it, is
// recognised as a rejection; the classification does not rest on the
// injected answer alone.
func TestCloudWatchValidationErrorIsRecognised(t *testing.T) {
	newEnv(t)
	for name, proto := range map[string]func(*cw.Options){
		ProtocolJSON: func(o *cw.Options) { o.Protocol = jsonProtocol(); o.DisableRequestCompression = true },
		ProtocolQuery: func(o *cw.Options) {
			o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801)
		},
	} {
		client := cw.NewFromConfig(server.AWSConfig(), proto)
		pub := cloudwatch.New(client, &cloudwatch.Options{Namespace: "RejectIT", Age: sink.AgeFilter{MaxAge: -1}})
		d := metric.Datum{Name: metric.RecordsRead, Timestamp: time.Now().Truncate(time.Minute), Unit: metric.Count,
			Values: []float64{1, 2}, Counts: []float64{1}}
		st, err := pub.Publish(context.Background(), []metric.Datum{d})
		if !errors.Is(err, sink.ErrRejected) || st.Rejected != 1 {
			t.Errorf("%s: stats %+v, error %v; want a rejection", name, st, err)
		}
		d.Counts = []float64{1, 1}
		if _, err := pub.Publish(context.Background(), []metric.Datum{d}); err != nil {
			t.Errorf("%s: the valid datum: %v", name, err)
		}
	}
}

// objectLine returns the "object" log line of key.
func objectLine(t *testing.T, logs, key string) map[string]any {
	t.Helper()
	for l := range strings.Lines(logs) {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m[MessageKey] == "object" && m["key"] == key {
			return m
		}
	}
	t.Fatalf("no object line for %s in\n%s", key, logs)
	return nil
}

// TestUnpublishableValuesArePublished is the case of issue 7: a record whose
// eventName is not valid UTF-8. Against a CloudWatch that checks dimension
// values as documented (the proxy; moto does not), every batch is accepted
// and the record is counted under its sanitised Operation.
func TestUnpublishableValuesArePublished(t *testing.T) {
	e, p := newProxiedEnv(t)
	p.setPlan(func(string, int) fault { return checkDims })
	tmpl := templates(t)
	var recs []map[string]any
	at := time.Now().Add(-time.Hour).Truncate(time.Minute)
	for i, r := range tmpl {
		r["eventTime"] = at.Add(time.Duration(i) * time.Second).UTC().Format(time.RFC3339)
		if r["eventSource"] == "cognito-idp.amazonaws.com" && r["eventName"] == "AdminInitiateAuth" {
			bad := maps.Clone(r)
			bad["eventName"] = "Init@@BAD@@Auth"
			bad["errorCode"] = "Bad@@CTL@@Code"
			recs = append(recs, bad)
		}
		recs = append(recs, r)
	}
	raw, err := json.Marshal(map[string]any{"Records": recs})
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.ReplaceAll(raw, []byte("@@BAD@@"), []byte("\xff\xfe"))
	raw = bytes.ReplaceAll(raw, []byte("@@CTL@@"), []byte(`\t`))
	body := gz(raw)
	e.deliver(kSpace, body)
	if strings.Contains(e.logs.String(), "datumsRejected") {
		t.Fatalf("CloudWatch refused a batch:\n%s", e.logs.String())
	}
	var found bool
	for _, d := range e.expected[kSpace] {
		for _, dim := range d.Dimensions {
			found = found || dim.Value == "Init__Auth"
		}
	}
	if !found {
		t.Fatal("no datum has Operation Init__Auth: the test file lost its bad record")
	}
	e.check(e.expect([]string{kSpace}, nil))
}

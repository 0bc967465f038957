package notification

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	logKey   = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/123456789012_CloudTrail_us-east-1_20261120T1005Z_8JAzOHLe8aWvIpQn.json.gz"
	orgKey   = "AWSLogs/o-a1b2c3d4e5/123456789012/CloudTrail/eu-west-1/2026/11/20/123456789012_CloudTrail_eu-west-1_20261120T1005Z_x.json.gz"
	digest   = "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/20/123456789012_CloudTrail-Digest_us-east-1_trail_us-east-1_20261120T101743Z.json.gz"
	insight  = "AWSLogs/123456789012/CloudTrail-Insight/us-east-1/2026/11/20/123456789012_CloudTrail-Insight_us-east-1_20261120T1015Z_x.json.gz"
	elbKey   = "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2026/11/20/x.log.gz"
	testJSON = `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-20T09:58:01.123Z","Bucket":"b","RequestId":"r","HostId":"h"}`
)

func s3Rec(key string, size int, extra string) string {
	return `{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2026-11-20T10:10:12.000Z","eventName":"ObjectCreated:Put",` +
		`"s3":{"bucket":{"name":"trail-bucket"},"object":{"key":` + quote(key) + `,"size":` + itoa(size) + `,"eTag":"0123abcd","sequencer":"00673DB5E2C4A1B3F1"` + extra + `}}}`
}

func s3Event(recs ...string) string { return `{"Records":[` + strings.Join(recs, ",") + `]}` }

func sqsEvent(bodies ...string) string {
	var recs []string
	for i, b := range bodies {
		recs = append(recs, `{"messageId":"m`+itoa(i)+`","receiptHandle":"x","body":`+quote(b)+`,"eventSource":"aws:sqs","awsRegion":"us-east-1"}`)
	}
	return `{"Records":[` + strings.Join(recs, ",") + `]}`
}

func snsEnvelope(msg string) string {
	return `{"Type":"Notification","MessageId":"1","TopicArn":"arn:aws:sns:us-east-1:123456789012:t","Message":` + quote(msg) + `,"Timestamp":"2026-11-20T10:20:03.512Z"}`
}

func snsEvent(msg string) string {
	return `{"Records":[{"EventSource":"aws:sns","EventVersion":"1.0","Sns":` + snsEnvelope(msg) + `}]}`
}

func ebJSON(detailType, key string, size int) string {
	return `{"version":"0","id":"1","detail-type":"` + detailType + `","source":"aws.s3","account":"123456789012","time":"2026-11-20T10:10:12Z","region":"us-east-1",` +
		`"detail":{"version":"0","bucket":{"name":"trail-bucket"},"object":{"key":` + quote(key) + `,"size":` + itoa(size) + `,"etag":"0123abcd","version-id":"v1","sequencer":"00673D"}}}`
}

func batchV1(tasks ...string) string {
	return `{"invocationSchemaVersion":"1.0","invocationId":"inv1","job":{"id":"job1"},"tasks":[` + strings.Join(tasks, ",") + `]}`
}

func batchV2(tasks ...string) string {
	return `{"invocationSchemaVersion":"2.0","invocationId":"inv2","job":{"id":"job2","userArguments":{"k":"v"}},"tasks":[` + strings.Join(tasks, ",") + `]}`
}

func taskV1(id, key string) string {
	return `{"taskId":` + quote(id) + `,"s3Key":` + quote(key) + `,"s3VersionId":null,"s3BucketArn":"arn:aws:s3:::trail-bucket"}`
}

func taskV2(id, key, version string) string {
	return `{"taskId":` + quote(id) + `,"s3Key":` + quote(key) + `,"s3VersionId":` + quote(version) + `,"s3Bucket":"trail-bucket"}`
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }
func itoa(i int) string     { b, _ := json.Marshal(i); return string(b) }

// want is what a case expects: the keys read, the skip reasons, per message.
type want struct {
	shape   Shape
	keys    [][]string // per message
	skips   [][]Reason
	msgErrs []bool // per message
	err     bool   // Parse fails
}

var cases = []struct {
	name  string
	event string
	want  want
}{
	{"s3 put", s3Event(s3Rec(logKey, 100, "")), want{shape: ShapeS3, keys: [][]string{{logKey}}}},
	{"s3 several records", s3Event(s3Rec(logKey, 100, ""), s3Rec(orgKey, 5, `,"versionId":"3HL4kqtJlcpXroDTDmJ"`)),
		want{shape: ShapeS3, keys: [][]string{{logKey, orgKey}}}},
	{"s3 key with space and plus", s3Event(s3Rec("AWSLogs/123456789012/CloudTrail/us-east-1/my+file%2B1.json.gz", 1, "")),
		want{shape: ShapeS3, keys: [][]string{{"AWSLogs/123456789012/CloudTrail/us-east-1/my file+1.json.gz"}}}},
	{"s3 key with encoded utf8", s3Event(s3Rec("trails/caf%C3%A9.json.gz", 1, "")), want{shape: ShapeS3, keys: [][]string{{"trails/café.json.gz"}}}},
	{"s3 undecodable key", s3Event(s3Rec("trails/bad%zz.json.gz", 1, "")), want{shape: ShapeS3, keys: [][]string{nil}, skips: [][]Reason{{ReasonUndecodable}}}},
	{"s3 skips", s3Event(s3Rec(digest, 10, ""), s3Rec(insight, 10, ""), s3Rec("AWSLogs/123456789012/CloudTrail/", 0, ""),
		s3Rec(logKey, 0, ""), s3Rec(elbKey, 10, "")),
		want{shape: ShapeS3, keys: [][]string{nil}, skips: [][]Reason{{ReasonDigest, ReasonInsight, ReasonFolder, ReasonEmpty, ReasonOtherService}}}},
	{"s3 object removed", strings.Replace(s3Event(s3Rec(logKey, 10, "")), "ObjectCreated:Put", "ObjectRemoved:Delete", 1),
		want{shape: ShapeS3, keys: [][]string{nil}, skips: [][]Reason{{ReasonNotCreated}}}},
	{"s3 test event", testJSON, want{shape: ShapeTestEvent, keys: [][]string{nil}, skips: [][]Reason{{ReasonTestEvent}}}},
	{"sqs s3", sqsEvent(s3Event(s3Rec(logKey, 100, "")), testJSON),
		want{shape: ShapeSQS, keys: [][]string{{logKey}, nil}, skips: [][]Reason{nil, {ReasonTestEvent}}}},
	{"sqs sns s3", sqsEvent(snsEnvelope(s3Event(s3Rec(logKey, 100, "")))), want{shape: ShapeSQS, keys: [][]string{{logKey}}}},
	{"sqs bad body does not hide the good message", sqsEvent("not json", s3Event(s3Rec(orgKey, 100, "")), `{"hello":1}`),
		want{shape: ShapeSQS, keys: [][]string{nil, {orgKey}, nil}, msgErrs: []bool{true, false, true}}},
	{"sqs eventbridge", sqsEvent(ebJSON("Object Created", logKey, 10)), want{shape: ShapeSQS, keys: [][]string{{logKey}}}},
	{"sqs cloudtrail", sqsEvent(`{"s3Bucket":"trail-bucket","s3ObjectKey":["` + logKey + `"]}`), want{shape: ShapeSQS, keys: [][]string{{logKey}}}},
	{"sns s3", snsEvent(s3Event(s3Rec(logKey, 100, ""))), want{shape: ShapeSNS, keys: [][]string{{logKey}}}},
	{"sns cloudtrail keys are verbatim", snsEvent(`{"s3Bucket":"trail-bucket","s3ObjectKey":["` + logKey + `","a/my+file.json.gz","` + digest + `"]}`),
		want{shape: ShapeSNS, keys: [][]string{{logKey, "a/my+file.json.gz"}}, skips: [][]Reason{{ReasonDigest}}}},
	{"sns test event", snsEvent(testJSON), want{shape: ShapeSNS, keys: [][]string{nil}, skips: [][]Reason{{ReasonTestEvent}}}},
	{"sns bad message", snsEvent("nope"), want{err: true}},
	{"eventbridge", ebJSON("Object Created", "AWSLogs/o-a1b2c3d4e5/123456789012/CloudTrail/eu-west-1/a+b.json.gz", 10),
		want{shape: ShapeEventBridge, keys: [][]string{{"AWSLogs/o-a1b2c3d4e5/123456789012/CloudTrail/eu-west-1/a b.json.gz"}}}},
	{"eventbridge other type", ebJSON("Object Deleted", logKey, 10), want{shape: ShapeEventBridge, keys: [][]string{nil}, skips: [][]Reason{{ReasonNotCreated}}}},
	{"eventbridge empty object", ebJSON("Object Created", logKey, 0), want{shape: ShapeEventBridge, keys: [][]string{nil}, skips: [][]Reason{{ReasonEmpty}}}},
	{"s3 batch 1.0", batchV1(taskV1("t1", logKey)), want{shape: ShapeS3Batch, keys: [][]string{{logKey}}}},
	{"s3 batch 1.0 keys are decoded", batchV1(taskV1("t1", "AWSLogs/123456789012/CloudTrail/us-east-1/my+file%2B1.json.gz")),
		want{shape: ShapeS3Batch, keys: [][]string{{"AWSLogs/123456789012/CloudTrail/us-east-1/my file+1.json.gz"}}}},
	{"s3 batch 2.0 several tasks", batchV2(taskV2("t1", orgKey, "v1"), taskV2("t2", digest, ""), taskV2("t3", "", "")),
		want{shape: ShapeS3Batch, keys: [][]string{{orgKey}, nil, nil}, skips: [][]Reason{nil, {ReasonDigest}, nil}, msgErrs: []bool{false, false, true}}},
	{"s3 batch bucket ARN not S3", batchV1(strings.Replace(taskV1("t1", logKey), "arn:aws:s3:::", "arn:aws:sqs:us-east-1:1:", 1)),
		want{shape: ShapeS3Batch, keys: [][]string{nil}, msgErrs: []bool{true}}},
	{"s3 batch unknown schema", strings.Replace(batchV1(taskV1("t1", logKey)), `"1.0"`, `"3.0"`, 1), want{err: true}},
	{"s3 batch task without id", batchV1(taskV1("", logKey)), want{err: true}},
	{"unknown shape", `{"foo":"bar"}`, want{err: true}},
	{"not an object", `[1,2]`, want{err: true}},
	{"s3 record without key", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{}}}]}`, want{err: true}},
}

func TestParse(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev, err := Parse([]byte(c.event))
			if c.want.err {
				if err == nil {
					t.Fatalf("Parse succeeded, want an error: %+v", ev)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.Shape != c.want.shape {
				t.Errorf("shape %q, want %q", ev.Shape, c.want.shape)
			}
			if len(ev.Messages) != len(c.want.keys) {
				t.Fatalf("%d messages, want %d", len(ev.Messages), len(c.want.keys))
			}
			for i, m := range ev.Messages {
				var keys []string
				for _, o := range m.Objects {
					keys = append(keys, o.Key)
					if o.Bucket == "" {
						t.Errorf("message %d: object %q without bucket", i, o.Key)
					}
				}
				if !slices.Equal(keys, c.want.keys[i]) {
					t.Errorf("message %d: keys %q, want %q", i, keys, c.want.keys[i])
				}
				var reasons []Reason
				for _, s := range m.Skipped {
					reasons = append(reasons, s.Reason)
				}
				var wantSkips []Reason
				if i < len(c.want.skips) {
					wantSkips = c.want.skips[i]
				}
				if !slices.Equal(reasons, wantSkips) {
					t.Errorf("message %d: skips %q, want %q", i, reasons, wantSkips)
				}
				wantErr := i < len(c.want.msgErrs) && c.want.msgErrs[i]
				if (m.Err != nil) != wantErr {
					t.Errorf("message %d: err %v, want error %v", i, m.Err, wantErr)
				}
				if (ev.Shape == ShapeSQS || ev.Shape == ShapeS3Batch) && m.ID == "" {
					t.Errorf("message %d: no SQS message or task id", i)
				}
			}
			if (ev.Batch != nil) != (ev.Shape == ShapeS3Batch) {
				t.Errorf("shape %s with Batch %+v", ev.Shape, ev.Batch)
			}
		})
	}
}

func TestObjectFields(t *testing.T) {
	ev, err := Parse([]byte(s3Event(s3Rec(orgKey, 1234, `,"versionId":"3HL4kqtJlcpXroDTDmJ"`))))
	if err != nil {
		t.Fatal(err)
	}
	o := ev.Messages[0].Objects[0]
	if o.Bucket != "trail-bucket" || o.Size != 1234 || o.ETag != "0123abcd" || o.VersionID != "3HL4kqtJlcpXroDTDmJ" ||
		o.Sequencer != "00673DB5E2C4A1B3F1" || o.EventTime.IsZero() {
		t.Errorf("object %+v", o)
	}
	if got := o.Identity(); got != "v:3HL4kqtJlcpXroDTDmJ" {
		t.Errorf("identity %q", got)
	}
	o.VersionID = ""
	if got := o.Identity(); got != "e:0123abcd" {
		t.Errorf("identity without version %q", got)
	}
	if got := (Object{Sequencer: "00a"}).Identity(); got != "s:00a" {
		t.Errorf("identity from sequencer %q", got)
	}
	ev, err = Parse([]byte(snsEvent(`{"s3Bucket":"b","s3ObjectKey":["k.json.gz"]}`)))
	if err != nil {
		t.Fatal(err)
	}
	if o := ev.Messages[0].Objects[0]; o.Size != -1 || o.Identity() != "" || o.EventTime.IsZero() {
		t.Errorf("CloudTrail SNS object %+v", o)
	}
}

// TestBatchJob: the job fields the handler echoes, and the bucket taken
// from an ARN (1.0) or a name (2.0), with the version id.
func TestBatchJob(t *testing.T) {
	ev, err := Parse([]byte(batchV2(taskV2("t1", logKey, "3HL4kqtJlcpXroDTDmJ"))))
	if err != nil {
		t.Fatal(err)
	}
	if b := ev.Batch; b.SchemaVersion != "2.0" || b.InvocationID != "inv2" || b.JobID != "job2" || b.UserArguments["k"] != "v" {
		t.Errorf("job %+v", b)
	}
	if o := ev.Messages[0].Objects[0]; o.Bucket != "trail-bucket" || o.VersionID != "3HL4kqtJlcpXroDTDmJ" || o.Identity() != "v:3HL4kqtJlcpXroDTDmJ" {
		t.Errorf("object %+v", o)
	}
	ev, err = Parse([]byte(batchV1(taskV1("t1", logKey))))
	if err != nil {
		t.Fatal(err)
	}
	// No version in the manifest: no identity, so the handler claims by
	// what S3 returns, as for CloudTrail's SNS message.
	if o := ev.Messages[0].Objects[0]; o.Bucket != "trail-bucket" || o.Identity() != "" || ev.Messages[0].ID != "t1" {
		t.Errorf("object %+v", o)
	}
	for arn, want := range map[string]string{
		"arn:aws:s3:::b":                       "b",
		"arn:aws-cn:s3:::b.c":                  "b.c",
		"arn:aws:s3:us-east-1:0123456788:b":    "b",
		"b":                                    "",
		"arn:aws:sqs:us-east-1:123456789012:q": "",
	} {
		if got := bucketFromARN(arn); got != want {
			t.Errorf("bucketFromARN(%q) = %q, want %q", arn, got, want)
		}
	}
}

func TestParseKey(t *testing.T) {
	for _, c := range []struct {
		key  string
		want KeyInfo
	}{
		{logKey, KeyInfo{Kind: KindLog, Account: "123456789012", Region: "us-east-1"}},
		{orgKey, KeyInfo{Kind: KindLog, Org: "o-a1b2c3d4e5", Account: "123456789012", Region: "eu-west-1"}},
		{"custom/prefix/" + logKey, KeyInfo{Kind: KindLog, Account: "123456789012", Region: "us-east-1"}},
		{digest, KeyInfo{Kind: KindDigest, Account: "123456789012", Region: "us-east-1"}},
		{insight, KeyInfo{Kind: KindInsight, Account: "123456789012", Region: "us-east-1"}},
		{elbKey, KeyInfo{Kind: KindOtherService, Account: "123456789012", Region: "us-east-1"}},
		{"MyAWSLogs/123456789012/CloudTrail/us-east-1/x", KeyInfo{}},
		{"somewhere/else.json.gz", KeyInfo{}},
		{"AWSLogs/notanaccount/CloudTrail/us-east-1/x", KeyInfo{}},
	} {
		if got := ParseKey(c.key); got != c.want {
			t.Errorf("ParseKey(%q) = %+v, want %+v", c.key, got, c.want)
		}
	}
}

// SkipReason is the one rule set the handler applies to announced objects
// and the CLI to files on disk.
func TestObjectSkipReason(t *testing.T) {
	for _, c := range []struct {
		o    Object
		want Reason
	}{
		{Object{Key: logKey, Size: 100}, ""},
		{Object{Key: logKey, Size: -1}, ""},
		{Object{Key: logKey, Size: 0}, ReasonEmpty},
		{Object{Key: "AWSLogs/123456789012/CloudTrail/", Size: 0}, ReasonFolder},
		{Object{Key: digest, Size: 100}, ReasonDigest},
		{Object{Key: insight, Size: 100}, ReasonInsight},
		{Object{Key: elbKey, Size: 100}, ReasonOtherService},
		{Object{Key: "/home/me/trails/" + insight, Size: 100}, ReasonInsight},
		{Object{Key: "/home/me/trails/" + elbKey, Size: 100}, ReasonOtherService},
		{Object{Key: "somewhere/else.json.gz", Size: 100}, ""},
	} {
		if got := c.o.SkipReason(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.o, got, c.want)
		}
	}
}

// TestSampleEvents parses the sample events in events/, which sam local
// invoke and the integration tests use.
func TestSampleEvents(t *testing.T) {
	want := map[string]struct {
		shape    Shape
		objects  int
		skips    int
		apiCalls int
	}{
		"eventbridge-cognito-api-call.json": {ShapeAPICall, 0, 0, 1},
		"s3-put.json":                       {ShapeS3, 2, 1, 0},
		"s3-test-event.json":                {ShapeTestEvent, 0, 1, 0},
		"sqs-s3.json":                       {ShapeSQS, 1, 1, 0},
		"sqs-sns-s3.json":                   {ShapeSQS, 1, 0, 0},
		"sns-s3.json":                       {ShapeSNS, 1, 0, 0},
		"sns-cloudtrail.json":               {ShapeSNS, 1, 0, 0},
		"eventbridge-object-created.json":   {ShapeEventBridge, 1, 0, 0},
		"s3-batch-v1.json":                  {ShapeS3Batch, 1, 0, 0},
		"s3-batch-v2.json":                  {ShapeS3Batch, 1, 0, 0},
	}
	for name, w := range want {
		raw, err := os.ReadFile(filepath.Join("..", "..", "events", name))
		if err != nil {
			t.Fatal(err)
		}
		ev, err := Parse(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var objects, skips, calls int
		for _, m := range ev.Messages {
			calls += len(m.APICalls)
			if m.Err != nil {
				t.Errorf("%s: %v", name, m.Err)
			}
			objects += len(m.Objects)
			skips += len(m.Skipped)
			for _, o := range m.Objects {
				if _, err := os.Stat(filepath.Join("..", "..", "events", "trails", o.Key)); err != nil {
					t.Errorf("%s: %q is not a sample trail file: %v", name, o.Key, err)
				}
			}
		}
		if ev.Shape != w.shape || objects != w.objects || skips != w.skips || calls != w.apiCalls {
			t.Errorf("%s: shape %s, %d objects, %d skips, %d API calls; want %s, %d, %d, %d",
				name, ev.Shape, objects, skips, calls, w.shape, w.objects, w.skips, w.apiCalls)
		}
	}
}

// TestAPICall: the CloudTrail record of a Cognito "AWS API Call via
// CloudTrail" event is kept whole, directly or through SQS; another
// service's call is skipped; an event without a record is an error.
func TestAPICall(t *testing.T) {
	rec := `{"eventVersion":"1.08","eventSource":"cognito-idp.amazonaws.com","eventName":"UpdateUserPool","eventID":"e1","requestParameters":{"userPoolId":"us-east-1_EXAMPLE1","mfaConfiguration":"OFF"}}`
	ev := func(source, detail string) string {
		return `{"version":"0","id":"1","detail-type":"AWS API Call via CloudTrail","source":"` + source + `","account":"123456789012","time":"2026-11-20T10:10:12Z","region":"us-east-1","resources":[],"detail":` + detail + `}`
	}
	for _, src := range APICallSources {
		e, err := Parse([]byte(ev(src, rec)))
		if err != nil || e.Shape != ShapeAPICall || len(e.Messages) != 1 || len(e.Messages[0].APICalls) != 1 {
			t.Fatalf("%s: %+v, %v", src, e, err)
		}
		if string(e.Messages[0].APICalls[0]) != rec {
			t.Errorf("record %s, want %s", e.Messages[0].APICalls[0], rec)
		}
	}
	e, err := Parse([]byte(sqsEvent(ev("aws.cognito-idp", rec), ev("aws.s3", rec))))
	if err != nil || e.Shape != ShapeSQS || len(e.Messages[0].APICalls) != 1 || len(e.Messages[1].APICalls) != 0 ||
		len(e.Messages[1].Skipped) != 1 || e.Messages[1].Skipped[0].Reason != ReasonUnknownSource {
		t.Fatalf("through SQS: %+v, %v", e, err)
	}
	for _, bad := range []string{`null`, `"x"`, `{"eventName":"UpdateUserPool"}`} {
		if _, err := Parse([]byte(ev("aws.cognito-idp", bad))); err == nil {
			t.Errorf("detail %s accepted", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, c := range cases {
		f.Add([]byte(c.event))
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "events", "*.json"))
	for _, name := range files {
		if raw, err := os.ReadFile(name); err == nil {
			f.Add(raw)
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := Parse(raw)
		if err != nil {
			if ev != nil {
				t.Fatal("event returned with an error")
			}
			return
		}
		for _, m := range ev.Messages {
			if m.Err != nil && (len(m.Objects) > 0 || len(m.Skipped) > 0) {
				t.Fatal("a failed message still announces objects")
			}
			if (ev.Shape == ShapeSQS || ev.Shape == ShapeS3Batch) && m.ID == "" {
				t.Fatal("SQS message or batch task without id")
			}
			for _, o := range m.Objects {
				if o.Bucket == "" || o.Key == "" || strings.HasSuffix(o.Key, "/") || o.Size == 0 {
					t.Fatalf("object that should have been skipped or rejected: %+v", o)
				}
				if k := ParseKey(o.Key).Kind; k == KindDigest || k == KindInsight || k == KindOtherService {
					t.Fatalf("object of kind %d not skipped: %q", k, o.Key)
				}
			}
		}
		if errors.Is(err, ErrUnknownShape) {
			t.Fatal("unreachable")
		}
	})
}

package notification

// Tests that pin down behaviours the other tests of this package left open
// (issue 19: each was a mutant of the code that no test noticed).

import (
	"strings"
	"testing"
	"time"
)

func keysOf(m Message) []string {
	var keys []string
	for _, o := range m.Objects {
		keys = append(keys, o.Key)
	}
	return keys
}

// TestEnvelopeNesting: SNS envelopes inside envelopes are read down to
// maxDepth documents (SQS > SNS > SNS > S3), one more is refused.
func TestEnvelopeNesting(t *testing.T) {
	wrap := func(doc string, n int) string {
		for range n {
			doc = snsEnvelope(doc)
		}
		return doc
	}
	s3 := s3Event(s3Rec(logKey, 100, ""))
	for _, tc := range []struct {
		name  string
		event string
		ok    bool
	}{
		{"sqs, two envelopes", sqsEvent(wrap(s3, 2)), true},
		{"sqs, three envelopes", sqsEvent(wrap(s3, 3)), false},
		{"sns, two envelopes", snsEvent(wrap(s3, 2)), true},
		{"sns, three envelopes", snsEvent(wrap(s3, 3)), false},
		{"direct, three envelopes", wrap(s3, 3), true},
		{"direct, four envelopes", wrap(s3, 4), false},
	} {
		ev, err := Parse([]byte(tc.event))
		var m Message
		if err == nil {
			m = ev.Messages[0]
		}
		switch {
		case tc.ok && (err != nil || m.Err != nil || len(m.Objects) != 1 || m.Objects[0].Key != logKey):
			t.Errorf("%s: %+v, %v", tc.name, ev, err)
		case !tc.ok && err == nil && m.Err == nil:
			t.Errorf("%s: accepted: %+v", tc.name, m)
		case !tc.ok && err == nil && !strings.Contains(m.Err.Error(), "nested too deeply"):
			t.Errorf("%s: %v", tc.name, m.Err)
		case !tc.ok && err != nil && !strings.Contains(err.Error(), "nested too deeply"):
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// TestEmptyRecords: an event whose Records array is empty announces
// nothing (and does not look at a first record it does not have).
func TestEmptyRecords(t *testing.T) {
	for _, in := range []string{`{"Records":[]}`, sqsEvent(`{"Records":[]}`), snsEvent(`{"Records":[]}`)} {
		ev, err := Parse([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		for _, m := range ev.Messages {
			if len(m.Objects)+len(m.Skipped) != 0 || m.Err != nil {
				t.Errorf("%s: %+v", in, m)
			}
		}
	}
	if ev, err := Parse([]byte(`{"Records":[]}`)); err != nil || ev.Shape != ShapeS3 || len(ev.Messages) != 1 {
		t.Errorf("empty Records: %+v, %v", ev, err)
	}
	for _, bad := range []string{`{"Records":{}}`, `{"Records":[1]}`, `{"Records":"x"}`} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// TestBadBatchTaskDoesNotStopTheOthers: a task with no key fails alone;
// the tasks after it are read.
func TestBadBatchTaskDoesNotStopTheOthers(t *testing.T) {
	ev, err := Parse([]byte(batchV2(taskV2("t1", "", ""), taskV2("t2", logKey, ""), taskV2("t3", orgKey, ""))))
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Messages) != 3 {
		t.Fatalf("%d messages, want 3", len(ev.Messages))
	}
	if m := ev.Messages[0]; m.ID != "t1" || m.Err == nil || len(m.Objects) != 0 {
		t.Errorf("task 1: %+v", m)
	}
	for i, key := range []string{logKey, orgKey} {
		m := ev.Messages[i+1]
		if m.Err != nil || len(m.Objects) != 1 || m.Objects[0].Key != key || m.Objects[0].Size != -1 {
			t.Errorf("task %d: %+v", i+2, m)
		}
	}
	// A missing invocationId or tasks list.
	for _, bad := range []string{
		strings.Replace(batchV1(taskV1("t1", logKey)), `"invocationId":"inv1",`, "", 1),
		`{"invocationSchemaVersion":"1.0","invocationId":"i","tasks":{}}`,
	} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	// Without tasks it is not a batch event at all.
	if _, err := Parse([]byte(`{"invocationSchemaVersion":"1.0","invocationId":"i"}`)); err == nil {
		t.Error("a batch event without tasks accepted")
	}
}

// TestSQSRecords: each record must come from SQS and carry a message id;
// a body that fails part way through announces nothing.
func TestSQSRecords(t *testing.T) {
	good := `{"messageId":"m1","body":` + quote(s3Event(s3Rec(logKey, 1, ""))) + `,"eventSource":"aws:sqs"}`
	for _, bad := range []string{
		`{"Records":[` + good + `,{"messageId":"m2","body":"{}","eventSource":"aws:kinesis"}]}`,
		`{"Records":[` + good + `,{"body":"{}","eventSource":"aws:sqs"}]}`,
	} {
		if ev, err := Parse([]byte(bad)); err == nil {
			t.Errorf("%s accepted: %+v", bad, ev)
		}
	}
	// The first S3 record is good, the second is not: the whole body fails.
	body := s3Event(s3Rec(logKey, 1, ""), strings.Replace(s3Rec(orgKey, 1, ""), `"aws:s3"`, `"aws:sqs"`, 1))
	ev, err := Parse([]byte(sqsEvent(body, s3Event(s3Rec(orgKey, 1, "")))))
	if err != nil {
		t.Fatal(err)
	}
	if m := ev.Messages[0]; m.Err == nil || len(m.Objects) != 0 || len(m.Skipped) != 0 || m.ID != "m0" {
		t.Errorf("failed body: %+v", m)
	}
	if m := ev.Messages[1]; m.Err != nil || len(m.Objects) != 1 || m.ID != "m1" {
		t.Errorf("good body after it: %+v", m)
	}
	// A body whose skip came before its failure announces no skip either.
	body = s3Event(s3Rec(digest, 1, ""), `{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":""},"object":{"key":"k"}}}`)
	ev, err = Parse([]byte(sqsEvent(body)))
	if err != nil || ev.Messages[0].Err == nil || len(ev.Messages[0].Skipped) != 0 {
		t.Errorf("failed body with a skip: %+v, %v", ev, err)
	}
}

// TestSNSRecords: the records of one SNS event are one message; a record
// that is not an SNS notification fails the event.
func TestSNSRecords(t *testing.T) {
	rec := func(msg string) string {
		return `{"EventSource":"aws:sns","Sns":` + snsEnvelope(msg) + `}`
	}
	ev, err := Parse([]byte(`{"Records":[` + rec(s3Event(s3Rec(logKey, 1, ""))) + `,` + rec(s3Event(s3Rec(orgKey, 1, ""))) + `]}`))
	if err != nil || ev.Shape != ShapeSNS || len(ev.Messages) != 1 {
		t.Fatalf("%+v, %v", ev, err)
	}
	if got := keysOf(ev.Messages[0]); len(got) != 2 || got[0] != logKey || got[1] != orgKey {
		t.Errorf("keys %q", got)
	}
	for _, bad := range []string{
		`{"Records":[` + rec(s3Event(s3Rec(logKey, 1, ""))) + `,{"EventSource":"aws:sns"}]}`,
		`{"Records":[` + rec(s3Event(s3Rec(logKey, 1, ""))) + `,{"EventSource":"aws:sns","Sns":{"Type":"Other","Message":"{}"}}]}`,
		`{"Records":[` + rec(`{"Records":[{"eventSource":"aws:s3"}]}`) + `]}`,
	} {
		if ev, err := Parse([]byte(bad)); err == nil {
			t.Errorf("%s accepted: %+v", bad, ev)
		}
	}
	for _, typ := range []string{"SubscriptionConfirmation", "UnsubscribeConfirmation"} {
		ev, err := Parse([]byte(`{"Records":[{"EventSource":"aws:sns","Sns":{"Type":"` + typ + `","Message":"x"}}]}`))
		if err != nil || len(ev.Messages[0].Skipped) != 1 || ev.Messages[0].Skipped[0].Reason != ReasonSubscription {
			t.Errorf("%s: %+v, %v", typ, ev, err)
		}
	}
}

// TestCloudTrailMessage: the SNS timestamp becomes the objects' event time;
// a message without a bucket, with a key that is not a string or is
// empty, fails.
func TestCloudTrailMessage(t *testing.T) {
	ev, err := Parse([]byte(snsEvent(`{"s3Bucket":"trail-bucket","s3ObjectKey":["` + logKey + `"]}`)))
	if err != nil {
		t.Fatal(err)
	}
	if o := ev.Messages[0].Objects[0]; !o.EventTime.Equal(time.Date(2026, 11, 20, 10, 20, 3, 512e6, time.UTC)) || o.Bucket != "trail-bucket" {
		t.Errorf("object %+v", o)
	}
	ev, err = Parse([]byte(`{"s3Bucket":"trail-bucket","s3ObjectKey":["a.json.gz","b.json.gz"]}`))
	if err != nil || ev.Shape != ShapeCloudTrail || len(ev.Messages[0].Objects) != 2 || !ev.Messages[0].Objects[0].EventTime.IsZero() {
		t.Errorf("direct: %+v, %v", ev, err)
	}
	for _, bad := range []string{
		`{"s3Bucket":"","s3ObjectKey":["k"]}`,
		`{"s3Bucket":"b","s3ObjectKey":"k"}`,
		`{"s3Bucket":"b","s3ObjectKey":["k",""]}`,
		`{"s3Bucket":"b","s3ObjectKey":[1]}`,
	} {
		if ev, err := Parse([]byte(bad)); err == nil {
			t.Errorf("%s accepted: %+v", bad, ev)
		}
	}
}

func TestEventBridgeEvents(t *testing.T) {
	other := strings.Replace(ebJSON("Object Created", logKey, 1), `"source":"aws.s3"`, `"source":"aws.ec2"`, 1)
	ev, err := Parse([]byte(other))
	if err != nil || len(ev.Messages[0].Skipped) != 1 || ev.Messages[0].Skipped[0].Reason != ReasonUnknownSource ||
		ev.Messages[0].Skipped[0].Object.EventTime.IsZero() || len(ev.Messages[0].Objects) != 0 {
		t.Errorf("another source: %+v, %v", ev, err)
	}
	if _, err := Parse([]byte(ebJSON("Object Created", "", 1))); err == nil {
		t.Error("Object Created without a key accepted")
	}
	ev, err = Parse([]byte(ebJSON("Object Deleted", "", 1)))
	if err != nil || len(ev.Messages[0].Skipped) != 1 || ev.Messages[0].Skipped[0].Reason != ReasonNotCreated {
		t.Errorf("Object Deleted without a key: %+v, %v", ev, err)
	}
	ev, err = Parse([]byte(ebJSON("Object Created", logKey, 77)))
	if err != nil {
		t.Fatal(err)
	}
	if o := ev.Messages[0].Objects[0]; o.Size != 77 || o.VersionID != "v1" || o.ETag != "0123abcd" || o.Sequencer != "00673D" ||
		!o.EventTime.Equal(time.Date(2026, 11, 20, 10, 10, 12, 0, time.UTC)) {
		t.Errorf("object %+v", o)
	}
	if _, err := Parse([]byte(`{"detail-type":"Object Created","source":"aws.s3","time":"x"}`)); err == nil {
		t.Error("a bad time accepted")
	}
	at := time.Date(2026, 11, 20, 10, 10, 12, 0, time.UTC)
	apiCall := `{"detail-type":"AWS API Call via CloudTrail","source":"aws.sts","time":"2026-11-20T10:10:12Z","detail":{}}`
	ev, err = Parse([]byte(apiCall))
	if err != nil || ev.Shape != ShapeAPICall || len(ev.Messages[0].Skipped) != 1 || !ev.Messages[0].Skipped[0].Object.EventTime.Equal(at) {
		t.Errorf("API call of another service: %+v, %v", ev, err)
	}
	for _, rec := range []string{`{"eventID":"e"}`, `{"eventName":"n"}`} {
		if _, err := Parse([]byte(`{"detail-type":"AWS API Call via CloudTrail","source":"aws.cognito-identity","detail":` + rec + `}`)); err == nil {
			t.Errorf("detail %s accepted", rec)
		}
	}
}

func TestSize(t *testing.T) {
	for _, tc := range []struct {
		size string
		want int64
	}{{"", -1}, {"0", 0}, {"1", 1}, {"-1", -1}, {"-5", -1}, {"1.5", -1}, {"9223372036854775807", 1<<63 - 1}, {"9223372036854775808", -1}} {
		ev, err := Parse([]byte(strings.Replace(s3Event(s3Rec(logKey, 1, "")), `"size":1`, `"size":`+tc.size, 1)))
		if tc.size == "" {
			ev, err = Parse([]byte(strings.Replace(s3Event(s3Rec(logKey, 1, "")), `"size":1,`, ``, 1)))
		}
		if err != nil {
			t.Fatalf("size %q: %v", tc.size, err)
		}
		m := ev.Messages[0]
		var got int64
		switch {
		case len(m.Objects) == 1:
			got = m.Objects[0].Size
		case len(m.Skipped) == 1 && m.Skipped[0].Reason == ReasonEmpty:
			got = m.Skipped[0].Object.Size
		default:
			t.Fatalf("size %q: %+v", tc.size, m)
		}
		if got != tc.want {
			t.Errorf("size %q: %d, want %d", tc.size, got, tc.want)
		}
	}
}

func TestParseKeyEdges(t *testing.T) {
	for _, c := range []struct {
		key  string
		want KeyInfo
	}{
		{"AWSLogs/123456789012/CloudTrail", KeyInfo{}},
		{"AWSLogs/123456789012/CloudTrail/us-east-1", KeyInfo{Kind: KindLog, Account: "123456789012", Region: "us-east-1"}},
		{"AWSLogs/12345678901/CloudTrail/us-east-1/x", KeyInfo{}},
		{"AWSLogs/1234567890123/CloudTrail/us-east-1/x", KeyInfo{}},
		{"AWSLogs/12345678901:/CloudTrail/us-east-1/x", KeyInfo{}},
		{"AWSLogs/12345678901./CloudTrail/us-east-1/x", KeyInfo{}},
		{"AWSLogs/o-a1b2c3d4e5/CloudTrail/us-east-1/x", KeyInfo{Org: "o-a1b2c3d4e5"}},
		{"x/AWSLogs/123456789012/CloudTrail-Digest/us-east-1/x", KeyInfo{Kind: KindDigest, Account: "123456789012", Region: "us-east-1"}},
		{"AWSLogs/123456789012/CloudTrail-Insight/us-east-1/x", KeyInfo{Kind: KindInsight, Account: "123456789012", Region: "us-east-1"}},
		{"a/CloudTrail-Digest/b", KeyInfo{Kind: KindDigest}},
		{"a/CloudTrail-Insight/b", KeyInfo{Kind: KindInsight}},
		{"AWSLogs/123456789012/CloudTrail-Digest", KeyInfo{}},
	} {
		if got := ParseKey(c.key); got != c.want {
			t.Errorf("ParseKey(%q) = %+v, want %+v", c.key, got, c.want)
		}
	}
}

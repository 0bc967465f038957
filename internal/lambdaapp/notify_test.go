package lambdaapp

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognitrail/cognitrail/pkg/notification"
	"github.com/cognitrail/cognitrail/pkg/processor"
)

// topic is an SNS topic on moto_server with two SQS queues subscribed: one
// with raw delivery (the message body as published), one with SNS's JSON
// envelope (which carries the subject).
type topic struct {
	arn       string
	raw, wrap string // queue URLs
	sqs       *sqs.Client
}

func (e *env) topic(name string) *topic {
	e.t.Helper()
	ctx := context.Background()
	awsCfg := server.AWSConfig()
	sn := sns.NewFromConfig(awsCfg)
	out, err := sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		e.t.Fatal(err)
	}
	tp := &topic{arn: aws.ToString(out.TopicArn), sqs: sqs.NewFromConfig(awsCfg)}
	for _, q := range []struct {
		url *string
		raw bool
	}{{&tp.raw, true}, {&tp.wrap, false}} {
		qo, err := tp.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(fmt.Sprintf("%s-raw-%v", name, q.raw))})
		if err != nil {
			e.t.Fatal(err)
		}
		*q.url = aws.ToString(qo.QueueUrl)
		attrs, err := tp.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: qo.QueueUrl,
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
		if err != nil {
			e.t.Fatal(err)
		}
		if _, err := sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: out.TopicArn, Protocol: aws.String("sqs"),
			Endpoint:   aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]),
			Attributes: map[string]string{"RawMessageDelivery": fmt.Sprint(q.raw)}}); err != nil {
			e.t.Fatal(err)
		}
	}
	return tp
}

// drain returns every message body in the queue.
func (tp *topic) drain(t *testing.T, url string) []string {
	t.Helper()
	var bodies []string
	for {
		out, err := tp.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return bodies
		}
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
			if _, err := tp.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestFindingNotifiedOnce: two trail files hold the same record (a
// duplicate delivery under another key, or a backfill over it), each
// processed by its own invocation. With the ledger the guest-access finding
// reaches the topic once; without it, once per file (at least once per
// delivery, as README says). The classic-flow finding is medium, below
// NOTIFY_SEVERITY's default, and never sent.
func TestFindingNotifiedOnce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ledger bool
		want   int
	}{{"ledger", true, 1}, {"no-ledger", false, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tp := e.topic("findings-" + tc.name)
			e.cfg.FindingsTopicARN = tp.arn
			if !tc.ledger {
				e.cfg.IdempotencyTable = ""
			}
			rec := guestAccessRecord("f1d47f93-c708-495b-bff1-cb935a6064b2", time.Now().Add(-time.Hour))
			rec["requestParameters"].(map[string]any)["allowClassicFlow"] = true
			for i := range 2 {
				key := fmt.Sprintf("%s123456789012_CloudTrail_us-east-1_20261122T11%02dZ_dup.json.gz", findingsPrefix, i)
				body := recordsFile(t, rec)
				e.deliver(key, body)
			}
			raw := tp.drain(t, tp.raw)
			if len(raw) != tc.want {
				t.Fatalf("%d messages, want %d: %q", len(raw), tc.want, raw)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(raw[0]), &m); err != nil {
				t.Fatalf("body %q: %v", raw[0], err)
			}
			if m["finding"] != "identity-pool-guest-access-enabled" || m["eventID"] != "f1d47f93-c708-495b-bff1-cb935a6064b2" ||
				m["pool"] != "us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE" || m["actor"] != "arn:aws:iam::123456789012:user/Alice" {
				t.Errorf("body %v", m)
			}
			if strings.Contains(raw[0], "AKIAIOSFODNN7EXAMPLE") || strings.Contains(raw[0], `"userName"`) {
				t.Errorf("body leaks the access key or user name: %s", raw[0])
			}
			wrapped := tp.drain(t, tp.wrap)
			if len(wrapped) != tc.want {
				t.Fatalf("%d enveloped messages, want %d", len(wrapped), tc.want)
			}
			var env struct{ Subject, Message string }
			if err := json.Unmarshal([]byte(wrapped[0]), &env); err != nil {
				t.Fatal(err)
			}
			if want := "HIGH identity-pool-guest-access-enabled us-east-1:1cf667... by arn:aws:iam::123456789012:user/Alice"; env.Subject != want {
				t.Errorf("subject %q, want %q", env.Subject, want)
			}
		})
	}
}

// TestRealtimeThenTrailFile: the sample "AWS API Call via CloudTrail" event
// (AWS's published CreateIdentityPool record, guest access on) is notified
// at once and counts nothing; the trail file holding the same record,
// processed later, counts the finding and, with the ledger, sends nothing
// more. Without the ledger both passes send it.
func TestRealtimeThenTrailFile(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join("..", "..", "events", "eventbridge-cognito-api-call.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Detail map[string]any `json:"detail"`
	}
	if err := json.Unmarshal(sample, &ev); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		ledger bool
		want   int
	}{{"ledger", true, 1}, {"no-ledger", false, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.state = nil
			tp := e.topic("realtime-" + tc.name)
			e.cfg.FindingsTopicARN = tp.arn
			if !tc.ledger {
				e.cfg.IdempotencyTable = ""
			}
			resp, err := e.invoke(string(sample))
			if err != nil {
				t.Fatal(err)
			}
			if s := resp.(processor.Summary); s.Shape != notification.ShapeAPICall || s.APICalls != 1 || s.Objects != 0 {
				t.Fatalf("summary %+v", s)
			}
			if got := tp.drain(t, tp.raw); len(got) != 1 || !strings.Contains(got[0], `"eventID":"f1d47f93-c708-495b-bff1-cb935a6064b2"`) {
				t.Fatalf("realtime messages %q", got)
			}
			// Counting is the trail files' job.
			e.check(e.expect(nil, nil))

			key := findingsPrefix + "123456789012_CloudTrail_us-east-1_20261122T1200Z_realtime.json.gz"
			// The published record is from 2021: CloudWatch takes two weeks back.
			ev.Detail["eventTime"] = time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
			body := recordsFile(t, ev.Detail)
			e.deliver(key, body)
			if got := tp.drain(t, tp.raw); len(got) != tc.want-1 {
				t.Fatalf("trail pass sent %d messages, want %d", len(got), tc.want-1)
			}
			if got := e.highFindings(); got != 1 {
				t.Errorf("Findings{Severity=high} = %v, want 1 (the trail file's)", got)
			}
		})
	}
}

// TestRealtimeLeavesStateToTrailFile: an UpdateIdentityPool restating guest
// access arrives first through EventBridge, then in its trail file. The
// realtime pass must not record the setting, or the trail pass would find
// it known and neither count nor raise the finding.
func TestRealtimeLeavesStateToTrailFile(t *testing.T) {
	e := newEnv(t)
	e.state = nil // the ledger's
	rec := guestAccessRecord("bbbbbbbb-0000-4000-8000-000000000001", time.Now().Add(-time.Hour))
	detail, _ := json.Marshal(rec)
	event := `{"version":"0","id":"1","detail-type":"AWS API Call via CloudTrail","source":"aws.cognito-identity","account":"123456789012",` +
		`"time":"2026-11-22T12:00:00Z","region":"us-east-1","resources":[],"detail":` + string(detail) + `}`
	if _, err := e.invoke(event); err != nil {
		t.Fatal(err)
	}
	key := findingsPrefix + "123456789012_CloudTrail_us-east-1_20261122T1205Z_state.json.gz"
	body := recordsFile(t, rec)
	e.deliver(key, body)
	if got := e.highFindings(); got != 1 {
		t.Fatalf("Findings{Severity=high} = %v, want 1", got)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognitrail/cognitrail/internal/lambdaapp"
	"github.com/cognitrail/cognitrail/internal/motoserver"
)

func TestUnwrapDeadLetter(t *testing.T) {
	event := `{"detail-type":"Object Created","detail":{"bucket":{"name":"b"}}}`
	for _, tc := range []struct{ body, want, kind string }{
		{`{"version":"1.0","requestContext":{"condition":"RetriesExhausted"},"requestPayload":` + event + `}`, event, "lambda-failure-record"},
		{event, event, "event"},
		{`{"requestPayload":null,"Records":[]}`, `{"requestPayload":null,"Records":[]}`, "event"},
	} {
		got, kind, err := unwrapDeadLetter(tc.body)
		if err != nil || string(got) != tc.want || kind != tc.kind {
			t.Errorf("%s: %s %s %v, want %s %s", tc.body, got, kind, err, tc.want, tc.kind)
		}
	}
	if _, _, err := unwrapDeadLetter("not json"); !errors.Is(err, errNotAnEvent) {
		t.Errorf("not json: %v", err)
	}
}

// fakeQueue serves messages once each and records deletions.
type fakeQueue struct {
	msgs    []sqstypes.Message
	deleted []string
}

func (f *fakeQueue) ReceiveMessage(_ context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	n := min(int(in.MaxNumberOfMessages), len(f.msgs))
	out := f.msgs[:n]
	f.msgs = f.msgs[n:]
	return &sqs.ReceiveMessageOutput{Messages: out}, nil
}

func (f *fakeQueue) DeleteMessage(_ context.Context, in *sqs.DeleteMessageInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	f.deleted = append(f.deleted, aws.ToString(in.ReceiptHandle))
	return &sqs.DeleteMessageOutput{}, nil
}

// TestReplayDeletesOnlyAfterSuccess: a message whose event the handler
// fails on stays in the queue; the others are deleted; --max bounds the run.
func TestReplayDeletesOnlyAfterSuccess(t *testing.T) {
	msg := func(id, body string) sqstypes.Message {
		return sqstypes.Message{MessageId: aws.String(id), ReceiptHandle: aws.String("rh-" + id), Body: aws.String(body)}
	}
	q := &fakeQueue{msgs: []sqstypes.Message{msg("1", `{"ok":1}`), msg("2", `{"fail":1}`), msg("3", `{"requestPayload":{"ok":3}}`), msg("4", `{"ok":4}`)}}
	var handled []string
	handle := func(_ context.Context, ev json.RawMessage) error {
		handled = append(handled, string(ev))
		if strings.Contains(string(ev), "fail") {
			return errors.New("transient")
		}
		return nil
	}
	var out, errOut bytes.Buffer
	if code := replay(context.Background(), q, "url", 3, handle, &out, &errOut); code != exitFailed {
		t.Errorf("exit %d, want %d", code, exitFailed)
	}
	if got := strings.Join(q.deleted, ","); got != "rh-1,rh-3" {
		t.Errorf("deleted %s, want rh-1,rh-3", got)
	}
	if got := strings.Join(handled, ","); got != `{"ok":1},{"fail":1},{"ok":3}` {
		t.Errorf("handled %s", got)
	}
	if !strings.Contains(out.String(), "replayed 2, failed 1") || !strings.Contains(errOut.String(), "message 2: handler: transient (kept in the queue)") {
		t.Errorf("stdout %q stderr %q", out.String(), errOut.String())
	}
}

// TestReplayDeadLetterQueue runs `cognitrail replay` against moto_server's
// SQS: a Lambda failure record and a raw EventBridge event are replayed
// through the handler, counted once, and deleted; a message that is not an
// event stays.
func TestReplayDeadLetterQueue(t *testing.T) {
	srv := motoserver.StartT(t)
	ctx := context.Background()
	cfg := srv.AWSConfig()
	const bucket = "cognitrail-example-trail"
	s3c := newBucket(t, cfg, bucket, "replay-ledger", "oracle-ledger")
	uploadSamples(t, s3c, bucket, nil)
	pointAtMoto(t, srv.Endpoint)
	t.Setenv(lambdaapp.EnvCloudWatchProtocol, "json")
	t.Setenv(lambdaapp.EnvMaxDatumAge, "off")

	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	s3put, eb := read("s3-put.json"), read("eventbridge-object-created.json")

	// The oracle: the same two events through `cognitrail invoke`.
	t.Setenv(lambdaapp.EnvIdempotencyTable, "oracle-ledger")
	t.Setenv(lambdaapp.EnvNamespace, "CognitoTrailLocal")
	for _, ev := range []string{"s3-put.json", "eventbridge-object-created.json"} {
		var stderr bytes.Buffer
		if code := runInvoke(ctx, []string{filepath.Join("..", "..", "events", ev)}, &bytes.Buffer{}, &stderr); code != 0 {
			t.Fatalf("invoke %s: %d %s", ev, code, stderr.String())
		}
	}
	want := recordsRead(t, srv)
	if want == 0 {
		t.Fatal("the oracle counted nothing")
	}

	q := sqs.NewFromConfig(cfg)
	qo, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("cognitrail-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	url := aws.ToString(qo.QueueUrl)
	failureRecord := `{"version":"1.0","timestamp":"2026-11-20T10:20:00.000Z","requestContext":{"requestId":"r","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST","condition":"RetriesExhausted","approximateInvokeCount":3},"requestPayload":` + string(s3put) + `,"responseContext":{"statusCode":200,"functionError":"Unhandled"},"responsePayload":{"errorMessage":"throttled"}}`
	for _, body := range []string{failureRecord, string(eb), "not an event"} {
		if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}

	t.Setenv(lambdaapp.EnvIdempotencyTable, "replay-ledger")
	t.Setenv(lambdaapp.EnvNamespace, "CognitoTrailReplay")
	var stdout, stderr bytes.Buffer
	if code := runReplay(ctx, []string{url}, &stdout, &stderr); code != exitFailed {
		t.Fatalf("exit %d, want %d (one message is not an event)\n%s", code, exitFailed, stderr.String())
	}
	if !strings.Contains(stdout.String(), "replayed 2, failed 1") {
		t.Errorf("stdout %q", stdout.String())
	}
	if got := recordsReadIn(t, srv, "CognitoTrailReplay"); got != want {
		t.Errorf("RecordsRead after replay %v, invoke of the same events %v", got, want)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatal(err)
	}
	a := attrs.Attributes
	if a["ApproximateNumberOfMessages"] != "0" || a["ApproximateNumberOfMessagesNotVisible"] != "1" {
		t.Errorf("queue after replay: %v, want only the bad message left (in flight)", a)
	}
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cognitrail/cognitrail/internal/lambdaapp"
)

// replayVisibility hides a received message while it is replayed; a message
// whose replay fails reappears after it, for the next run.
const replayVisibility = 300

// queueAPI is the part of the SQS client replay uses.
type queueAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

// errNotAnEvent: a dead-letter message whose body is not JSON.
var errNotAnEvent = errors.New("message body is not a JSON event")

// unwrapDeadLetter returns the event a dead-letter message carries: Lambda's
// asynchronous failure record (on-failure destination) holds it in
// requestPayload; EventBridge's dead-letter queue receives the event itself.
func unwrapDeadLetter(body string) (json.RawMessage, string, error) {
	if !json.Valid([]byte(body)) {
		return nil, "", errNotAnEvent
	}
	var rec struct {
		RequestPayload json.RawMessage `json:"requestPayload"`
	}
	if err := json.Unmarshal([]byte(body), &rec); err == nil && len(rec.RequestPayload) > 0 && string(rec.RequestPayload) != "null" {
		return rec.RequestPayload, "lambda-failure-record", nil
	}
	return json.RawMessage(body), "event", nil
}

// runReplay runs `cognitrail replay QUEUE_URL`: every message of the
// dead-letter queue, unwrapped, through the function's handler in this
// process (same environment variables as the function, as invoke). A
// message is deleted only after its event was handled without error.
const replaySynopsis = `cognitrail replay [flags] QUEUE_URL
Runs the Lambda handler on each dead-letter message (a Lambda failure record's requestPayload,
or an EventBridge event) with the function's environment variables; deletes it on success.`

func newReplayFlags() (*flag.FlagSet, *int) {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	max := fs.Int("max", 0, "replay at most `n` messages (0: until the queue is empty)")
	return fs, max
}

func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, max := newReplayFlags()
	if code, ok := parseFlags(fs, replaySynopsis, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(stderr, fs, replaySynopsis, "want one QUEUE_URL, got %d", fs.NArg())
	}
	if *max < 0 {
		return usageError(stderr, fs, replaySynopsis, "--max must not be negative")
	}
	cfg, awsCfg, ok := loadConfig(ctx, "replay", stderr)
	if !ok {
		return exitUsage
	}
	log := lambdaapp.NewLogger(cfg, stderr)
	h, err := lambdaapp.NewCLI(cfg, awsCfg, stderr, log)
	if err != nil {
		fmt.Fprintln(stderr, "cognitrail replay:", err)
		return exitFailed
	}
	handle := func(ctx context.Context, ev json.RawMessage) error {
		resp, err := h.Handle(ctx, ev)
		if err != nil {
			return err
		}
		return responseFailure(resp)
	}
	return replay(ctx, sqs.NewFromConfig(awsCfg), fs.Arg(0), *max, handle, stdout, stderr)
}

// responseFailure reports a response that says some item failed (SQS
// batchItemFailures, S3 Batch Operations results other than Succeeded):
// the message must then stay in the queue.
func responseFailure(resp any) error {
	b, err := json.Marshal(resp)
	if err != nil || resp == nil {
		return err
	}
	var r struct {
		BatchItemFailures []json.RawMessage `json:"batchItemFailures"`
		Results           []struct {
			ResultCode string `json:"resultCode"`
		} `json:"results"`
	}
	if json.Unmarshal(b, &r) != nil {
		return nil
	}
	if len(r.BatchItemFailures) > 0 {
		return fmt.Errorf("%d batch item failures", len(r.BatchItemFailures))
	}
	for _, x := range r.Results {
		if x.ResultCode != "Succeeded" {
			return fmt.Errorf("task result %s", x.ResultCode)
		}
	}
	return nil
}

func replay(ctx context.Context, q queueAPI, url string, max int, handle func(context.Context, json.RawMessage) error, stdout, stderr io.Writer) int {
	var replayed, failed int
	seen := map[string]bool{}
	for max == 0 || replayed+failed < max {
		n := int32(10)
		if max > 0 {
			n = int32(min(10, max-replayed-failed))
		}
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: n, VisibilityTimeout: replayVisibility,
		})
		if err != nil {
			fmt.Fprintf(stderr, "cognitrail replay: receive from %s: %v\n", url, err)
			return exitFailed
		}
		fresh := 0
		for _, m := range out.Messages {
			id := aws.ToString(m.MessageId)
			if seen[id] {
				continue // a failed message that reappeared: tried in this run
			}
			seen[id] = true
			fresh++
			if err := replayOne(ctx, q, url, m, handle); err != nil {
				failed++
				fmt.Fprintf(stderr, "cognitrail replay: message %s: %v (kept in the queue)\n", id, err)
				continue
			}
			replayed++
		}
		if fresh == 0 {
			break
		}
	}
	fmt.Fprintf(stdout, "replayed %d, failed %d\n", replayed, failed)
	if failed > 0 {
		return exitFailed
	}
	return exitOK
}

func replayOne(ctx context.Context, q queueAPI, url string, m sqstypes.Message, handle func(context.Context, json.RawMessage) error) error {
	ev, _, err := unwrapDeadLetter(aws.ToString(m.Body))
	if err != nil {
		return err
	}
	if err := handle(ctx, ev); err != nil {
		return fmt.Errorf("handler: %w", err)
	}
	if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
		return fmt.Errorf("replayed, but not deleted (a later replay skips its files as duplicates): %w", err)
	}
	return nil
}

package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/cognitrail/cognitrail/internal/lambdaapp"
	"github.com/cognitrail/cognitrail/internal/motoserver"
	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/processor"
	"github.com/cognitrail/cognitrail/pkg/scan"
)

// TestInvokeSampleEvents is the README's moto_server walkthrough: the
// sample trail files uploaded to the bucket the sample events name, every
// sample event invoked through `cognitrail invoke`, twice.
func TestInvokeSampleEvents(t *testing.T) {
	srv := motoserver.StartT(t)
	ctx := context.Background()
	cfg := srv.AWSConfig()
	const bucket, table = "cognitrail-example-trail", "cognitrail-idempotency"
	s3c := newBucket(t, cfg, bucket, table)
	var wantRecords float64
	uploadSamples(t, s3c, bucket, func(key string, body []byte) error {
		if strings.Contains(key, "/CloudTrail/") {
			res, err := scan.File(ctx, bytes.NewReader(body), aggregate.New(nil), nil)
			if err != nil {
				return err
			}
			wantRecords += float64(res.Records)
		}
		return nil
	})

	pointAtMoto(t, srv.Endpoint)
	t.Setenv(lambdaapp.EnvIdempotencyTable, table)
	t.Setenv(lambdaapp.EnvCloudWatchProtocol, "json")
	t.Setenv(lambdaapp.EnvNamespace, "CognitoTrailLocal")
	// The samples are dated November 2026: keep them publishable whenever
	// the test runs.
	t.Setenv(lambdaapp.EnvMaxDatumAge, "off")

	events := []string{"s3-put.json", "sqs-s3.json", "sqs-sns-s3.json", "sns-s3.json", "sns-cloudtrail.json",
		"eventbridge-object-created.json", "s3-test-event.json", "s3-batch-v1.json", "s3-batch-v2.json",
		"eventbridge-cognito-api-call.json"}
	for round := range 2 {
		for _, ev := range events {
			var stdout, stderr bytes.Buffer
			code := runInvoke(ctx, []string{filepath.Join("..", "..", "events", ev)}, &stdout, &stderr)
			if code != 0 {
				t.Fatalf("round %d, %s: exit %d\n%s", round, ev, code, stderr.String())
			}
			if strings.HasPrefix(ev, "sqs") && !strings.Contains(stdout.String(), `"batchItemFailures": []`) {
				t.Errorf("%s: response %s", ev, stdout.String())
			}
			if strings.HasPrefix(ev, "s3-batch") && (!strings.Contains(stdout.String(), `"resultCode": "Succeeded"`) ||
				strings.Contains(stdout.String(), `"resultCode": "PermanentFailure"`) || strings.Contains(stdout.String(), `"resultCode": "TemporaryFailure"`)) {
				t.Errorf("%s: response %s", ev, stdout.String())
			}
			if strings.HasPrefix(ev, "eventbridge-cognito") && !strings.Contains(stdout.String(), `"apiCalls": 1`) {
				t.Errorf("%s: response %s", ev, stdout.String())
			}
		}
	}
	// Six log files, each counted once (the API call event counts nothing):
	// the EventBridge event and the S3
	// Batch Operations tasks announce files other events already did (same
	// ETag), and round 2 repeats all.
	got := recordsRead(t, srv)
	if got != wantRecords {
		t.Fatalf("RecordsRead %v, want %v", got, wantRecords)
	}

	// A message whose object cannot be read now (its bucket does not
	// exist: not the "object gone" case) is left for SQS to redeliver:
	// the command must not say all went well.
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "sqs-s3.json"))
	if err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "sqs-missing-bucket.json")
	if err := os.WriteFile(missing, bytes.ReplaceAll(raw, []byte(bucket), []byte("no-such-bucket")), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := runInvoke(ctx, []string{missing}, &out, &errb); code != exitFailed ||
		!strings.Contains(out.String(), `"itemIdentifier"`) || !strings.Contains(errb.String(), "batchItemFailures") {
		t.Errorf("batch item failures: exit %d, stdout %s, stderr %s", code, out.String(), errb.String())
	}

	var stderr bytes.Buffer
	if code := runInvoke(ctx, []string{"no-such-file.json"}, &bytes.Buffer{}, &stderr); code == 0 {
		t.Error("a missing event file succeeded")
	}
	if code := runInvoke(ctx, nil, &bytes.Buffer{}, &stderr); code != 2 {
		t.Errorf("no argument: exit %d, want 2", code)
	}
}

func recordsRead(t *testing.T, srv *motoserver.Server) float64 {
	t.Helper()
	return recordsReadIn(t, srv, "CognitoTrailLocal")
}

func recordsReadIn(t *testing.T, srv *motoserver.Server, namespace string) float64 {
	t.Helper()
	// moto does not speak the SDK's default protocol (CBOR).
	c := cw.NewFromConfig(srv.AWSConfig(), func(o *cw.Options) { setQuery(o) })
	end := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	out, err := c.GetMetricStatistics(context.Background(), &cw.GetMetricStatisticsInput{
		Namespace: aws.String(namespace), MetricName: aws.String("RecordsRead"),
		StartTime: aws.Time(end.Add(-48 * time.Hour)), EndTime: aws.Time(end.Add(48 * time.Hour)),
		Period: aws.Int32(86400), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum},
	})
	if err != nil {
		t.Fatal(err)
	}
	var s float64
	for _, d := range out.Datapoints {
		s += aws.ToFloat64(d.Sum)
	}
	return s
}

func TestInvokeExit(t *testing.T) {
	for _, tc := range []struct {
		name string
		resp any
		herr error
		want int
	}{
		{"summary", processor.Summary{Processed: 1}, nil, exitOK},
		{"no batch item failures", events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}, nil, exitOK},
		{"batch item failures", events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: "m1"}}}, nil, exitFailed},
		{"handler error", processor.Summary{Failed: 1}, errors.New("s3: throttled"), exitFailed},
	} {
		if got := invokeExit(tc.resp, tc.herr, io.Discard); got != tc.want {
			t.Errorf("%s: exit %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestInvokeRefusesReservedNamespace: NAMESPACE=AWS/... is a configuration
// error before anything is read or published.
func TestInvokeRefusesReservedNamespace(t *testing.T) {
	t.Setenv(lambdaapp.EnvNamespace, "AWS/Cognito")
	var stderr bytes.Buffer
	if code := runInvoke(context.Background(), []string{"../../events/s3-put.json"}, &bytes.Buffer{}, &stderr); code != exitUsage ||
		!strings.Contains(stderr.String(), "reserved for AWS services") {
		t.Errorf("exit %d, stderr %q; want %d and the reason", code, stderr.String(), exitUsage)
	}
}

// TestInvokeScheduledEvent: `cognitrail invoke` runs the deployed handler,
// so the sample scheduled event is a posture run with POSTURE=true (moto
// holds no pool and no trail: the two coverage rows), and refused without.
func TestInvokeScheduledEvent(t *testing.T) {
	srv := motoserver.StartT(t)
	pointAtMoto(t, srv.Endpoint)
	event := filepath.Join("..", "..", "events", "eventbridge-scheduled.json")
	var stdout, stderr bytes.Buffer
	if code := runInvoke(context.Background(), []string{event}, &stdout, &stderr); code == 0 || !strings.Contains(stderr.String(), "posture is off") {
		t.Errorf("without POSTURE: exit %d, stderr %s", code, stderr.String())
	}
	t.Setenv(lambdaapp.EnvPosture, "true")
	stdout.Reset()
	stderr.Reset()
	if code := runInvoke(context.Background(), []string{event}, &stdout, &stderr); code != 0 ||
		!strings.Contains(stdout.String(), `"region": "us-east-1"`) || !strings.Contains(stdout.String(), `"rows": 2`) {
		t.Errorf("with POSTURE=true: exit %d, stdout %s, stderr %s", code, stdout.String(), stderr.String())
	}
}

package lambdaapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/cognitrail/cognitrail/pkg/posture"
)

// recordingHandler stands for the processor: it keeps the events it got.
type recordingHandler struct{ got []string }

func (r *recordingHandler) Handle(_ context.Context, raw json.RawMessage) (any, error) {
	r.got = append(r.got, string(raw))
	return "processed", nil
}

// fakeTrails is one trail logging management events only; it counts the
// DescribeTrails calls.
type fakeTrails struct{ describes int }

func (f *fakeTrails) DescribeTrails(context.Context, *cloudtrail.DescribeTrailsInput, ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error) {
	f.describes++
	return &cloudtrail.DescribeTrailsOutput{TrailList: []cttypes.Trail{{Name: aws.String("org"), TrailARN: aws.String("arn:aws:cloudtrail:us-east-1:123456789012:trail/org"),
		IsMultiRegionTrail: aws.Bool(true), HomeRegion: aws.String("us-east-1")}}}, nil
}

func (f *fakeTrails) GetEventSelectors(context.Context, *cloudtrail.GetEventSelectorsInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error) {
	return &cloudtrail.GetEventSelectorsOutput{}, nil
}

func scheduledEvent(t *testing.T, id string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile("../../events/eventbridge-scheduled.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["id"] = id
	b, _ = json.Marshal(m)
	return b
}

// TestFunctionDispatch: a scheduled event runs posture and reaches not the
// processor; every other event (an EventBridge one included) goes to the
// processor; the trails' coverage is reported once per environment.
func TestFunctionDispatch(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	proc := &recordingHandler{}
	trails := &fakeTrails{}
	f := &Function{Processor: proc, Log: log, Posture: &posture.Scheduled{Trails: trails, Region: "us-east-1", Log: log, RequestsPerSecond: -1}}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{
		InvokedFunctionArn: "arn:aws:lambda:us-east-1:210987654321:function:cognitrail-processor"})

	resp, err := f.Handle(ctx, scheduledEvent(t, "run-1"))
	if err != nil {
		t.Fatal(err)
	}
	sum, ok := resp.(posture.RunSummary)
	if !ok || sum.Region != "us-east-1" || sum.Rows != 1 {
		t.Errorf("scheduled event: response %#v, want a posture run with the coverage row", resp)
	}
	for _, ev := range []string{
		mustRead(t, "../../events/s3-put.json"),
		mustRead(t, "../../events/eventbridge-object-created.json"),
		// A scheduled event's detail-type from another source is not one.
		strings.Replace(string(scheduledEvent(t, "x")), `"aws.events"`, `"my.app"`, 1),
	} {
		if resp, err := f.Handle(ctx, json.RawMessage(ev)); err != nil || resp != "processed" {
			t.Errorf("%.60s...: %v %v, want the processor's", ev, resp, err)
		}
	}
	if len(proc.got) != 3 {
		t.Errorf("the processor got %d events, want 3", len(proc.got))
	}
	if trails.describes != 2 {
		// Once for the cold start, once for the run.
		t.Errorf("DescribeTrails called %d times in 4 invocations, want 2", trails.describes)
	}
	out := logs.String()
	if strings.Count(out, `"msg":"posture_coverage"`) != 1 || !strings.Contains(out, `"managementEvents":"org"`) ||
		!strings.Contains(out, `"level":"WARN","msg":"posture","finding":"coverage-identity-pool-data-events-off"`) ||
		!strings.Contains(out, `"account":"210987654321"`) {
		t.Errorf("coverage lines:\n%s", out)
	}
	// The event's own account names the run's rows.
	if !strings.Contains(out, `"msg":"posture","finding":"coverage-identity-pool-data-events-off","severity":"medium","account":"123456789012"`) {
		t.Errorf("the run's rows do not carry the event's account:\n%s", out)
	}
}

// TestFunctionPostureOff: without posture a scheduled event is refused
// (the role cannot read Cognito), and nothing reads the trails.
func TestFunctionPostureOff(t *testing.T) {
	proc := &recordingHandler{}
	f := &Function{Processor: proc, Log: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))}
	if _, err := f.Handle(context.Background(), scheduledEvent(t, "r")); !errors.Is(err, ErrPostureOff) || len(proc.got) != 0 {
		t.Errorf("scheduled event with posture off: %v, processor got %d", err, len(proc.got))
	}
}

func TestConfigPosture(t *testing.T) {
	for v, want := range map[string]bool{"": false, "true": true, "false": false} {
		cfg, err := ConfigFromEnv(envWith(EnvPosture, v))
		if err != nil || cfg.Posture != want {
			t.Errorf("POSTURE=%q: %v %v", v, cfg.Posture, err)
		}
	}
	if _, err := ConfigFromEnv(envWith(EnvPosture, "daily")); err == nil || !strings.Contains(err.Error(), "POSTURE") {
		t.Errorf("POSTURE=daily accepted: %v", err)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// unreadableTrails refuses DescribeTrails, as a role without the grant.
type unreadableTrails struct{ fakeTrails }

func (*unreadableTrails) DescribeTrails(context.Context, *cloudtrail.DescribeTrailsInput, ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error) {
	return nil, errors.New("AccessDeniedException")
}

// TestCoverageErrorIsAWarning: trails that cannot be read are a warning at
// the cold start; the invocation's own work goes on.
func TestCoverageErrorIsAWarning(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	proc := &recordingHandler{}
	f := &Function{Processor: proc, Log: log, Posture: &posture.Scheduled{Trails: &unreadableTrails{}, Region: "us-east-1", Log: log}}
	if resp, err := f.Handle(context.Background(), json.RawMessage(mustRead(t, "../../events/s3-put.json"))); err != nil || resp != "processed" {
		t.Fatalf("%v %v", resp, err)
	}
	if !strings.Contains(logs.String(), `"level":"WARN","msg":"posture_coverage","region":"us-east-1","error":"posture: us-east-1: DescribeTrails: AccessDeniedException"`) {
		t.Errorf("logs:\n%s", logs.String())
	}
}

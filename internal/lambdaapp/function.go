package lambdaapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/cognitrail/cognitrail/pkg/posture"
)

// EventBridge's scheduled events (a rule's ScheduleExpression, with no
// input of its own): source and detail-type.
const (
	ScheduledSource     = "aws.events"
	ScheduledDetailType = "Scheduled Event"
)

// CoverageTimeout bounds the cold start's coverage report, which the
// first invocation waits for.
const CoverageTimeout = 10 * time.Second

// ErrPostureOff refuses a scheduled event in a function configured
// without posture (POSTURE): its role has no grant to read Cognito.
var ErrPostureOff = errors.New("a scheduled event, but posture is off (" + EnvPosture + "; the template's PostureSchedule sets it)")

// Function is the deployed handler: an EventBridge scheduled event runs
// posture (Posture), every other event goes to Processor. With Posture,
// the first invocation of each execution environment first reports the
// trails' coverage of the function's Region.
type Function struct {
	Processor EventHandler
	// Posture: nil means off.
	Posture *posture.Scheduled
	Log     *slog.Logger

	coverage sync.Once
}

// Handle dispatches one invocation event.
func (f *Function) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	if f.Posture != nil {
		f.coverage.Do(func() {
			cctx, cancel := context.WithTimeout(ctx, CoverageTimeout)
			defer cancel()
			f.Posture.ReportCoverage(cctx, invokedAccount(ctx))
		})
	}
	ev, ok := scheduled(raw)
	if !ok {
		return f.Processor.Handle(ctx, raw)
	}
	if f.Posture == nil {
		f.log().ErrorContext(ctx, "event", "outcome", "rejected", "error", ErrPostureOff.Error())
		return nil, ErrPostureOff
	}
	account := ev.AccountID
	if account == "" {
		account = invokedAccount(ctx)
	}
	runID := ev.ID
	if runID == "" {
		runID = ev.Time.UTC().Format("20060102T150405Z")
	}
	return f.Posture.Run(ctx, account, runID)
}

func (f *Function) log() *slog.Logger {
	if f.Log == nil {
		return slog.Default()
	}
	return f.Log
}

// scheduled decodes an EventBridge scheduled event; ok is false for any
// other event (which is not decoded past a byte search).
func scheduled(raw json.RawMessage) (events.CloudWatchEvent, bool) {
	var ev events.CloudWatchEvent
	if !bytes.Contains(raw, []byte(ScheduledDetailType)) {
		return ev, false
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		return ev, false
	}
	return ev, ev.Source == ScheduledSource && ev.DetailType == ScheduledDetailType
}

// invokedAccount is the account of the invoked function's ARN
// (arn:aws:lambda:REGION:ACCOUNT:function:NAME), or "".
func invokedAccount(ctx context.Context) string {
	lc, ok := lambdacontext.FromContext(ctx)
	if !ok {
		return ""
	}
	if parts := strings.Split(lc.InvokedFunctionArn, ":"); len(parts) > 4 {
		return parts[4]
	}
	return ""
}

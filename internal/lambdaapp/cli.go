package lambdaapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddle "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/cognitrail/cognitrail/pkg/ledger"
	"github.com/cognitrail/cognitrail/pkg/processor"
)

// Defaults of the command line's guard (CLIHandler).
const (
	// CLIDeadline bounds one event handled by the command line, as Lambda's
	// timeout bounds an invocation: the handler takes its ledger lease from
	// it (the deadline plus processor.DefaultLeaseGrace) and stops reading
	// PublishMargin before it, and the guard stops everything at it by the
	// wall clock, so nothing is published once the lease has run out.
	CLIDeadline = processor.DefaultLease
	// MaxClockSkew is the largest difference between the local clock and
	// AWS's (the SDK measures it from each response's Date) with which the
	// command line publishes: leases are judged by the claimers' clocks, so
	// a clock behind shortens this run's lease in real time and a clock
	// ahead ends other claimers' leases early.
	MaxClockSkew = 5 * time.Second
	// wallTick is how often the guard compares the wall clock with the
	// deadline.
	wallTick = time.Second
)

// ErrClockSkew is CLIHandler's refusal to handle an event (nothing claimed,
// nothing published) while the local clock is off by more than
// MaxClockSkew.
var ErrClockSkew = errors.New("the local clock differs from AWS's")

// ClockSkew keeps the clock skew the SDK measured on the latest response of
// the clients built from a configuration it was added to.
type ClockSkew struct {
	ns       atomic.Int64
	measured atomic.Bool
}

// AddTo makes every client built from cfg report the skew of its responses.
func (s *ClockSkew) AddTo(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(st *middleware.Stack) error {
		// Outermost in the deserialize step: each attempt's metadata then
		// holds what the SDK's RecordResponseTiming measured.
		return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc("cognitrailClockSkew",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
				middleware.DeserializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleDeserialize(ctx, in)
				if skew, ok := awsmiddle.GetAttemptSkew(md); ok {
					s.Set(skew)
				}
				return out, md, err
			}), middleware.Before)
	})
}

// Set records a measurement (server time minus local time).
func (s *ClockSkew) Set(d time.Duration) {
	s.ns.Store(int64(d))
	s.measured.Store(true)
}

// Get returns the latest measurement, if any.
func (s *ClockSkew) Get() (time.Duration, bool) {
	return time.Duration(s.ns.Load()), s.measured.Load()
}

// EventHandler handles one invocation event.
type EventHandler interface {
	Handle(ctx context.Context, raw json.RawMessage) (any, error)
}

// CLIHandler runs the function's handler from the command line (`backfill
// --publish`, `replay`, `invoke`), where nothing bounds an event as
// Lambda's timeout does, and the machine may sleep or keep a wrong clock.
// Each event gets a deadline (Deadline, CLIDeadline by default), from
// which the handler takes its claims' leases, enforced by the wall clock:
// a machine that slept past it publishes nothing more (a monotonic timer
// alone stops while it sleeps, the lease does not). And with the ledger it
// refuses an event while the SDK's measured clock skew exceeds MaxSkew.
type CLIHandler struct {
	Handler EventHandler
	// Skew is measured on the handler's clients (nil: not checked).
	Skew *ClockSkew
	// Probe, when set, is a request made to measure the skew before the
	// first event, whose claim would otherwise be judged by the local
	// clock unchecked.
	Probe    func(context.Context) error
	Deadline time.Duration
	MaxSkew  time.Duration
	// Now is the wall clock; nil means time.Now.
	Now func() time.Time
	// Tick is how often the deadline is checked; zero means a second.
	Tick time.Duration

	probed atomic.Bool
}

// NewCLI builds the handler as New does, guarded for the command line.
func NewCLI(cfg Config, awsCfg aws.Config, stdout io.Writer, log *slog.Logger, opts ...Option) (*CLIHandler, error) {
	skew := &ClockSkew{}
	skew.AddTo(&awsCfg)
	h, err := NewFunction(cfg, awsCfg, stdout, log, opts...)
	if err != nil {
		return nil, err
	}
	g := &CLIHandler{Handler: h}
	if cfg.IdempotencyTable != "" {
		// Only leases depend on the clock. The probe reads an item that
		// never exists, with the ledger's own GetItem permission.
		db := dynamodb.NewFromConfig(awsCfg)
		g.Skew = skew
		g.Probe = func(ctx context.Context) error {
			_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(cfg.IdempotencyTable),
				Key: map[string]ddbtypes.AttributeValue{ledger.AttrKey: &ddbtypes.AttributeValueMemberS{Value: "cognitrail#clock-probe"}}})
			return err
		}
	}
	return g, nil
}

// Handle checks the clock, then runs the handler under the event's
// deadline.
func (g *CLIHandler) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	if err := g.checkClock(ctx); err != nil {
		return nil, err
	}
	now := g.now()
	d := g.Deadline
	if d <= 0 {
		d = CLIDeadline
	}
	ctx, cancel := g.wallDeadline(ctx, now.Add(d))
	defer cancel(nil)
	resp, err := g.Handler.Handle(ctx, raw)
	if err != nil && errors.Is(context.Cause(ctx), errDeadline) {
		err = fmt.Errorf("%w: %w", errDeadline, err)
	}
	return resp, err
}

func (g *CLIHandler) checkClock(ctx context.Context) error {
	if g.Skew == nil {
		return nil
	}
	if _, ok := g.Skew.Get(); !ok && g.Probe != nil && !g.probed.Load() {
		if err := g.Probe(ctx); err != nil {
			return fmt.Errorf("measuring the clock skew: %w", err)
		}
		g.probed.Store(true)
	}
	skew, ok := g.Skew.Get()
	if !ok {
		// AWS's answers carry a Date; without one there is nothing to judge
		// by, and the handler's own responses will measure it.
		return nil
	}
	max := g.MaxSkew
	if max <= 0 {
		max = MaxClockSkew
	}
	if skew > max || skew < -max {
		return fmt.Errorf("%w by %v (more than %v): leases would be misjudged, so nothing is claimed or published; correct the clock (NTP) and run again",
			ErrClockSkew, skew.Round(time.Millisecond), max)
	}
	return nil
}

// errDeadline is the cause of a context the wall clock ended.
var errDeadline = errors.New("the event's deadline passed by the wall clock (did the machine sleep?): its lease may be another claimer's now")

// wallDeadline returns ctx with deadline at, which the handler reads, ended
// also when the wall clock passes at: Go's timers follow the monotonic
// clock, which stops while the machine sleeps.
func (g *CLIHandler) wallDeadline(ctx context.Context, at time.Time) (context.Context, context.CancelCauseFunc) {
	ctx, cancelDeadline := context.WithDeadline(ctx, at)
	ctx, cancel := context.WithCancelCause(ctx)
	tick := g.Tick
	if tick <= 0 {
		tick = wallTick
	}
	wall := at.Round(0)
	go func() {
		t := time.NewTicker(tick)
		defer t.Stop()
		defer cancelDeadline()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if !g.now().Round(0).Before(wall) {
					cancel(errDeadline)
					return
				}
			}
		}
	}()
	return ctx, cancel
}

func (g *CLIHandler) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

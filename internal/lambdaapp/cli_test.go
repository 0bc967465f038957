package lambdaapp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// handlerFunc is an EventHandler.
type handlerFunc func(context.Context, json.RawMessage) (any, error)

func (f handlerFunc) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	return f(ctx, raw)
}

func TestCLIRefusesASkewedClock(t *testing.T) {
	for _, c := range []struct {
		skew time.Duration
		ok   bool
	}{
		{0, true}, {2 * time.Second, true}, {-2 * time.Second, true},
		{10 * time.Second, false}, {-10 * time.Minute, false},
	} {
		called := false
		skew := &ClockSkew{}
		g := &CLIHandler{Skew: skew, Handler: handlerFunc(func(context.Context, json.RawMessage) (any, error) {
			called = true
			return nil, nil
		})}
		probes := 0
		g.Probe = func(context.Context) error { probes++; skew.Set(c.skew); return nil }
		_, err := g.Handle(context.Background(), json.RawMessage(`{}`))
		if c.ok != (err == nil) || c.ok != called || !c.ok && !errors.Is(err, ErrClockSkew) {
			t.Errorf("skew %v: handled %v, error %v", c.skew, called, err)
		}
		if _, err := g.Handle(context.Background(), json.RawMessage(`{}`)); c.ok != (err == nil) || probes != 1 {
			t.Errorf("skew %v, second event: error %v, %d probes (want one: the clients measure the rest)", c.skew, err, probes)
		}
	}
}

// The handler gets a deadline (its leases follow it) and loses its context
// once the wall clock passes it, whatever the monotonic clock says: here
// the wall clock jumps 20 minutes, as over a laptop's sleep.
func TestCLIDeadlineByTheWallClock(t *testing.T) {
	t0 := time.Now()
	var jumped atomic.Bool
	g := &CLIHandler{
		Now: func() time.Time {
			if jumped.Load() {
				return t0.Add(20 * time.Minute)
			}
			return t0
		},
		Tick: time.Millisecond,
	}
	var deadline time.Time
	g.Handler = handlerFunc(func(ctx context.Context, _ json.RawMessage) (any, error) {
		deadline, _ = ctx.Deadline()
		jumped.Store(true)
		<-ctx.Done() // the guard must end it: the monotonic deadline is 15 minutes away
		return nil, ctx.Err()
	})
	_, err := g.Handle(context.Background(), json.RawMessage(`{}`))
	if !deadline.Equal(t0.Add(CLIDeadline)) {
		t.Errorf("handler deadline %v, want %v", deadline, t0.Add(CLIDeadline))
	}
	if !errors.Is(err, errDeadline) || !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want the wall-clock deadline's", err)
	}
}

// dateShift is a proxy to moto_server that moves every response's Date by
// shift, as AWS's answers look to a machine whose clock is off by -shift.
func dateShift(t *testing.T, target string, shift time.Duration) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := httputil.NewSingleHostReverseProxy(u)
	p.ModifyResponse = func(r *http.Response) error {
		r.Header.Set("Date", time.Now().Add(shift).UTC().Format(http.TimeFormat))
		return nil
	}
	s := httptest.NewServer(p)
	t.Cleanup(s.Close)
	return s.URL
}

// TestCLIClockSkewAgainstMoto: the command line's handler measures the skew
// from AWS's answers (here moto's, through a proxy that moves their Date)
// before its first claim, and refuses to claim or publish with a clock an
// hour off; with the clock right it processes the same event.
func TestCLIClockSkewAgainstMoto(t *testing.T) {
	e := newEnv(t)
	body := trailFile(t, 20, time.Now().Add(-time.Hour), 7*time.Second)
	e.put(kSpace, body)
	ev := json.RawMessage(s3Event(s3Record(kSpace, e.etag(kSpace), len(body))))
	cli := func(endpoint string) *CLIHandler {
		awsCfg := server.AWSConfig()
		awsCfg.BaseEndpoint = aws.String(endpoint)
		g, err := NewCLI(e.cfg, awsCfg, &e.logs, NewLogger(e.cfg, &e.logs), e.options()...)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	ctx := context.Background()
	_, err := cli(dateShift(t, server.Endpoint, time.Hour)).Handle(ctx, ev)
	if !errors.Is(err, ErrClockSkew) {
		t.Fatalf("an hour's skew: %v, want ErrClockSkew", err)
	}
	items, err := dynamodb.NewFromConfig(server.AWSConfig()).Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(e.cfg.IdempotencyTable)})
	if err != nil {
		t.Fatal(err)
	}
	if len(items.Items) != 0 {
		t.Errorf("%d ledger items after the refusal, want none claimed", len(items.Items))
	}
	if _, err := cli(dateShift(t, server.Endpoint, 0)).Handle(ctx, ev); err != nil {
		t.Fatalf("no skew: %v", err)
	}
	e.check(e.expect([]string{kSpace}, nil))
	if _, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(kSpace)}); err != nil {
		t.Fatal(err)
	}
}

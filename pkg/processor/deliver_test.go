package processor

import (
	"bytes"
	"context"
	"errors"
	"iter"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/alert"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/notification"
	"github.com/cognitrail/cognitrail/pkg/sink"
)

// steps records the order of a delivery's steps and fails the one named
// failAt (finish fails after marking doneBefore objects).
type steps struct {
	seq        []string
	failAt     string
	doneBefore int
}

var errStep = errors.New("step failed")

func (s *steps) step(name string) error {
	s.seq = append(s.seq, name)
	if s.failAt == name {
		return errStep
	}
	return nil
}

// stepUnit is a unit whose every call is a step.
type stepUnit struct {
	s        *steps
	complete bool
}

func (u stepUnit) resume() (resumePoint, bool, error) {
	return resumePoint{}, u.complete, u.s.step("resume")
}
func (u stepUnit) advance(context.Context, int, metric.Key) error { return u.s.step("advance") }
func (u stepUnit) published(context.Context, int) error           { return u.s.step("published") }
func (u stepUnit) release(context.Context)                        { u.s.seq = append(u.s.seq, "release") }
func (u stepUnit) finish(context.Context, int) (int, error) {
	return u.s.doneBefore, u.s.step("finish")
}

type stepSink struct{ s *steps }

func (k stepSink) Batches(d iter.Seq[metric.Datum]) iter.Seq[[]metric.Datum] {
	return sink.Batches(d, 1, 1<<30, func(*metric.Datum) int { return 1 })
}

func (k stepSink) Publish(_ context.Context, b []metric.Datum) (sink.Stats, error) {
	return sink.Stats{Requests: 1, Sent: len(b)}, k.s.step("publish")
}

type stepNotifier struct{ s *steps }

func (n stepNotifier) Notify(_ context.Context, fs []finding.Finding, _ time.Time) (alert.Stats, error) {
	return alert.Stats{Sent: len(fs)}, n.s.step("notify")
}

// TestDeliverSteps holds the one delivery path to its order, whatever the
// unit: notify, publish with progress after each request, published,
// settings, marks, lines; a step that fails stops the ones after it,
// releases the claims of the objects not marked and writes the lines of
// those marked only. The exactly-once argument of doc.go rests on this
// order; the simulation (internal/sim) checks its outcome under every
// fault, this test the order itself, without a ledger.
func TestDeliverSteps(t *testing.T) {
	full := []string{"resume", "notify", "publish", "advance", "publish", "advance", "published", "commit", "finish"}
	cases := []struct {
		failAt     string
		doneBefore int
		complete   bool
		// processed, errored: the object lines written with each outcome.
		processed, errored int
	}{
		{failAt: "", processed: 2},
		{failAt: "resume", errored: 2},
		{failAt: "notify", errored: 2},
		{failAt: "publish", errored: 2},
		{failAt: "advance", errored: 2},
		{failAt: "published", errored: 2},
		{failAt: "commit", errored: 2},
		{failAt: "finish", doneBefore: 0, errored: 2},
		{failAt: "finish", doneBefore: 1, processed: 1, errored: 1},
		{failAt: "", complete: true, processed: 2},
	}
	for _, tc := range cases {
		name := tc.failAt
		if name == "" {
			name = "none"
		}
		if tc.complete {
			name += "-complete"
		}
		if tc.doneBefore > 0 {
			name += "-after-one"
		}
		t.Run(name, func(t *testing.T) {
			s := &steps{failAt: tc.failAt, doneBefore: tc.doneBefore}
			var logs bytes.Buffer
			h := New(nil, stepSink{s}, nil, &Options{
				Logger:   slog.New(slog.NewJSONHandler(&logs, nil)),
				Notifier: stepNotifier{s},
			})
			agg := aggregate.New(nil)
			t0 := time.Date(2026, 12, 1, 4, 20, 0, 0, time.UTC)
			agg.AddFile(aggregate.Processed, t0)
			agg.AddFile(aggregate.Processed, t0.Add(time.Minute))
			var ms []*member
			for _, k := range []string{"a.json.gz", "b.json.gz"} {
				ms = append(ms, &member{o: notification.Object{Bucket: "trail", Key: k}, ol: h.memberLog("", notification.Object{Bucket: "trail", Key: k})})
			}
			d := &delivery{where: "batch-1", agg: agg, batch: true, log: &objectRun{},
				found:  []finding.Finding{{Name: "guest-access-enabled"}},
				commit: func(context.Context) error { return s.step("commit") }}

			failed, err := h.deliver(context.Background(), stepUnit{s: s, complete: tc.complete}, ms, d)

			want := full
			if tc.complete {
				want = slices.DeleteFunc(slices.Clone(full), func(x string) bool {
					return x == "publish" || x == "advance" || x == "published"
				})
			}
			if tc.failAt != "" {
				want = append(slices.Clone(want[:slices.Index(want, tc.failAt)+1]), "release")
			}
			if !slices.Equal(s.seq, want) {
				t.Errorf("steps\n got %v\nwant %v", s.seq, want)
			}
			if (err != nil) != (tc.failAt != "") || (err != nil && !errors.Is(err, errStep)) {
				t.Errorf("error %v, failing step %q", err, tc.failAt)
			}
			if len(failed) != tc.errored {
				t.Errorf("%d members failed, want %d", len(failed), tc.errored)
			}
			out := logs.String()
			if got := strings.Count(out, `"msg":"object","outcome":"processed"`); got != tc.processed {
				t.Errorf("%d processed object lines, want %d:\n%s", got, tc.processed, out)
			}
			if got := strings.Count(out, `"msg":"object","outcome":"error"`); got != tc.errored {
				t.Errorf("%d error object lines, want %d:\n%s", got, tc.errored, out)
			}
			if got, want := strings.Count(out, `"msg":"batch"`), tc.processed/2; got != want {
				t.Errorf("%d batch lines, want %d", got, want)
			}
		})
	}
}

package scan_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/cognitrail/cognitrail/internal/trailgen"
	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/scan"
	"github.com/cognitrail/cognitrail/pkg/trailfile"
)

// TestOrderedOrderAndBound: done sees every result in order of i whatever
// order the reads end in, and no more than workers results exist at once
// (being read or waiting for done).
func TestOrderedOrderAndBound(t *testing.T) {
	for _, workers := range []int{1, 2, 5} {
		var live, peak atomic.Int64
		var got []int
		err := scan.Ordered(context.Background(), 40, workers, func(_ context.Context, i int) int {
			n := live.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			// Later files end first: done must wait for the earlier.
			time.Sleep(time.Duration((i*7)%5) * time.Millisecond)
			return i
		}, func(i, v int) error {
			if v != i {
				t.Errorf("done(%d) got the result of %d", i, v)
			}
			got = append(got, v)
			live.Add(-1)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 40 {
			t.Errorf("workers %d: done called %d times, want 40", workers, len(got))
		}
		if p := peak.Load(); p > int64(workers) || workers > 1 && p < 2 {
			t.Errorf("workers %d: %d results at once", workers, p)
		}
	}
}

// TestOrderedStopsOnError: an error of done is returned, and no read
// starts after it.
func TestOrderedStopsOnError(t *testing.T) {
	boom := errors.New("boom")
	var reads atomic.Int64
	err := scan.Ordered(context.Background(), 100, 3, func(context.Context, int) int {
		reads.Add(1)
		return 0
	}, func(i, _ int) error {
		if i == 10 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want done's", err)
	}
	if n := reads.Load(); n > 10+3 {
		t.Errorf("%d reads started, want at most 13 (10 done, 3 slots)", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := scan.Ordered(ctx, 5, 2, func(context.Context, int) int { return 0 }, func(int, int) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}

// deferredFiles are files whose findings depend on one another (the same
// pools' settings restated across files), with sign-in failures from one
// address, a damaged record, a setting of the wrong type, a truncated
// file and a digest.
func deferredFiles(t *testing.T) []string {
	var out []string
	for i := range 12 {
		var b strings.Builder
		trailgen.Write(&b, trailgen.Options{Records: 300, CognitoShare: 0.5, ConfigShare: 0.04, Seed: uint64(40 + i),
			Start: time.Date(2026, 11, 20, 10, i, 0, 0, time.UTC)})
		s := b.String()
		switch i {
		case 3:
			s = strings.Replace(s, `{"eventVersion":"`, `{"eventVersion":tru"`, 1)
		case 7:
			s = s[:len(s)*2/3]
		case 9:
			s = `{"awsAccountId":"1","digestStartTime":"x"}`
		case 5:
			// A setting of the wrong type: unusable, found at read time.
			end := strings.LastIndexByte(s, ']')
			s = s[:end] + `,{"eventVersion":"1.08","eventTime":"2026-11-20T10:05:30Z","eventSource":"cognito-idp.amazonaws.com","eventName":"SetUserPoolMfaConfig","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","requestParameters":{"userPoolId":"us-east-1_EXAMPLE1","mfaConfiguration":1},"eventID":"wrong-type","recipientAccountId":"123456789012"}` + s[end:]
		}
		out = append(out, s)
	}
	return out
}

type fileFinding struct {
	file, index int
	f           finding.Finding
}

// TestDeferredIsSequential: files read with Options.Deferred in parallel,
// judged and finished in order, give the datums and the findings (and their
// order) of File reading them one after the other into one aggregator with
// one Engine, at every concurrency.
func TestDeferredIsSequential(t *testing.T) {
	files := deferredFiles(t)
	at := time.Date(2026, 11, 20, 11, 0, 0, 0, time.UTC)
	engineOpts := &finding.Options{SignInThreshold: 3, EnumerationThreshold: 2}
	aggOpts := &aggregate.Options{Level: metric.Full}
	resolver := &mapResolver{pools: map[string]string{"1example23456789": "us-east-1_EXAMPLE9"}}

	want := aggregate.New(aggOpts)
	engine := finding.New(engineOpts)
	var wantFindings []fileFinding
	var wantResults []scan.Result
	for i, s := range files {
		from := len(wantFindings)
		res, err := scan.File(context.Background(), strings.NewReader(s), want, &scan.Options{
			Reader: trailfile.Options{Name: fmt.Sprint(i)}, Now: func() time.Time { return at },
			Findings: engine, Clients: resolver,
			OnRecord: func(ev *scan.Event) {
				for _, f := range ev.Findings {
					wantFindings = append(wantFindings, fileFinding{i, ev.Index, f})
				}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := engine.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
		// The windows across files, judged at the end of the file: in
		// record order, after a record's own.
		for _, f := range res.Findings {
			wantFindings = append(wantFindings, fileFinding{i, f.Index, f.Finding})
		}
		slices.SortStableFunc(wantFindings[from:], func(a, b fileFinding) int { return cmp.Compare(a.index, b.index) })
		wantResults = append(wantResults, res)
	}
	names := map[string]bool{}
	for _, f := range wantFindings {
		names[f.f.Name] = true
	}
	if !names[finding.SignInFailuresFromOneIP] || len(names) < 3 {
		t.Fatalf("the files raise too few kinds of findings to test: %v", names)
	}

	for _, workers := range []int{1, 2, 8} {
		got := aggregate.New(aggOpts)
		engine := finding.New(engineOpts)
		var gotFindings []fileFinding
		type read struct {
			res scan.Result
			err error
			agg *aggregate.Aggregator
		}
		err := scan.Ordered(context.Background(), len(files), workers, func(ctx context.Context, i int) read {
			agg := aggregate.New(aggOpts)
			res, err := scan.File(ctx, strings.NewReader(files[i]), agg, &scan.Options{
				Reader: trailfile.Options{Name: fmt.Sprint(i)}, Now: func() time.Time { return at },
				Findings: finding.New(engineOpts), Deferred: true,
				OnRecord: func(ev *scan.Event) {
					if ev.Findings != nil {
						t.Error("a deferred read handed findings to OnRecord")
					}
				},
			})
			return read{res, err, agg}
		}, func(i int, r read) error {
			r.res.Judge(context.Background(), engine, r.agg)
			if err := r.res.Finish(context.Background(), r.err, r.agg, got, resolver); err != nil {
				return err
			}
			for _, f := range r.res.Findings {
				gotFindings = append(gotFindings, fileFinding{i, f.Index, f.Finding})
			}
			if !reflect.DeepEqual(exported(r.res), exported(wantResults[i])) {
				t.Errorf("workers %d, file %d: result %+v, want %+v", workers, i, r.res, wantResults[i])
			}
			return engine.Commit(context.Background())
		})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(gotFindings, wantFindings) {
			t.Errorf("workers %d: %d findings, want the %d of a sequential run, in its order", workers, len(gotFindings), len(wantFindings))

		}
		if g, w := slices.Collect(got.All()), slices.Collect(want.All()); !reflect.DeepEqual(g, w) {
			t.Errorf("workers %d: %d datums differ from the %d of a sequential run", workers, len(g), len(w))
		}
	}
}

// TestDeferredReadErrorIsFiles: a read that fails (a retry may succeed) is
// finished as File leaves it: its partial counts merged, no outcome
// counted, the error returned.
func TestDeferredReadErrorIsFiles(t *testing.T) {
	var b strings.Builder
	trailgen.Write(&b, trailgen.Options{Records: 3000, ConfigShare: 0.05, Seed: 3})
	boom := errors.New("connection reset by peer")
	src := func() io.Reader {
		return io.MultiReader(strings.NewReader(b.String()[:150000]), iotest.ErrReader(boom))
	}
	want := aggregate.New(nil)
	if _, err := scan.File(context.Background(), src(), want, &scan.Options{Findings: finding.New(nil)}); !errors.Is(err, boom) {
		t.Fatalf("File: %v", err)
	}
	file, got := aggregate.New(nil), aggregate.New(nil)
	res, err := scan.File(context.Background(), src(), file, &scan.Options{Findings: finding.New(nil), Deferred: true})
	res.Judge(context.Background(), finding.New(nil), file)
	if err := res.Finish(context.Background(), err, file, got, nil); !errors.Is(err, boom) {
		t.Fatalf("Finish: %v", err)
	}
	if g, w := slices.Collect(got.All()), slices.Collect(want.All()); !reflect.DeepEqual(g, w) || len(w) == 0 {
		t.Errorf("%d datums, want the %d File leaves", len(g), len(w))
	}
}

// TestDeferredStateError: the State failing is Finish's error, as it is
// File's, and the file is not counted processed.
func TestDeferredStateError(t *testing.T) {
	var b strings.Builder
	trailgen.Write(&b, trailgen.Options{Records: 500, ConfigShare: 0.1, Seed: 12})
	file, agg := aggregate.New(nil), aggregate.New(nil)
	res, err := scan.File(context.Background(), strings.NewReader(b.String()), file, &scan.Options{Findings: finding.New(nil), Deferred: true})
	if err != nil {
		t.Fatal(err)
	}
	res.Judge(context.Background(), finding.New(&finding.Options{State: brokenState{}}), file)
	if err := res.Finish(context.Background(), nil, file, agg, nil); !errors.Is(err, finding.ErrState) {
		t.Errorf("err = %v, want finding.ErrState", err)
	}
	if got := files(slices.Collect(agg.All())); got[metric.FilesProcessed] != 0 {
		t.Errorf("a file to retry was counted processed: %v", got)
	}
}

// mapResolver answers from a map and remembers what it is taught, as
// clientpool.Resolver does.
type mapResolver struct{ pools map[string]string }

func (m *mapResolver) Learn(client, pool string) { m.pools[client] = pool }
func (m *mapResolver) Resolve(_ context.Context, region, client string) (string, error) {
	if p := m.pools[client]; strings.HasPrefix(p, region+"_") {
		return p, nil
	}
	return "", nil
}

// exported is what a caller sees of a Result.
func exported(r scan.Result) scan.Result {
	return scan.Result{File: r.File, Outcome: r.Outcome, Records: r.Records, Invalid: r.Invalid, ByCategory: r.ByCategory,
		Err: r.Err, Compressed: r.Compressed, Uncompressed: r.Uncompressed, Clients: r.Clients, ClientsErr: r.ClientsErr,
		Newest: r.Newest, Undated: r.Undated}
}

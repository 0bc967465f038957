package scan_test

import (
	"context"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
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

func files(ds []metric.Datum) map[string]float64 {
	m := map[string]float64{}
	for _, d := range ds {
		switch d.Name {
		case metric.FilesProcessed, metric.FilesSkipped, metric.FilesFailed, metric.RecordsRead, metric.RecordsInvalid:
			m[d.Name] += d.Sum()
		}
	}
	return m
}

func TestOutcomes(t *testing.T) {
	var trail strings.Builder
	n, _ := trailgen.Write(&trail, trailgen.Options{Records: 40, Seed: 9})
	good := trail.String()
	// Record 9 of n made malformed: counted invalid, the records after it read.
	nth := 0
	malformed := good
	for i := 0; ; i++ {
		j := strings.Index(malformed[i:], `{"eventVersion":"`)
		if j < 0 {
			t.Fatal("fewer than 10 records")
		}
		i += j
		if nth++; nth == 10 {
			malformed = malformed[:i] + `{"eventVersion":tru"` + malformed[i+len(`{"eventVersion":"`):]
			break
		}
	}
	at := time.Date(2026, 11, 20, 10, 20, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		in       string
		outcome  aggregate.FileOutcome
		records  int
		invalid  int
		sentinel error
	}{
		{"good", good, aggregate.Processed, n, 0, nil},
		{"digest", `{"awsAccountId":"1","digestStartTime":"x"}`, aggregate.Skipped, 0, 0, trailfile.ErrDigest},
		// An empty object is skipped when the event gives its size; when it
		// does not (CloudTrail's SNS message, stdin) reading it must agree.
		{"empty", "", aggregate.Skipped, 0, 0, trailfile.ErrEmpty},
		{"truncated keeps what it read", good[:len(good)/2], aggregate.Failed, -1, 0, trailfile.ErrTruncated},
		{"unusable record", `{"Records":[1,{"eventTime":"2026-11-20T10:00:00Z"}]}`, aggregate.Processed, 1, 1, trailfile.ErrBadRecord},
		{"malformed record 9", malformed, aggregate.Processed, n - 1, 1, trailfile.ErrSyntax},
	} {
		t.Run(tc.name, func(t *testing.T) {
			agg := aggregate.New(nil)
			var seen int
			res, err := scan.File(context.Background(), strings.NewReader(tc.in), agg, &scan.Options{
				DeliveredAt: at, OnRecord: func(*scan.Event) { seen++ },
			})
			if err != nil {
				t.Fatalf("error %v: a bad file is not an error of File", err)
			}
			if res.Outcome != tc.outcome || !errors.Is(res.Err, tc.sentinel) {
				t.Errorf("outcome %v err %v, want %v %v", res.Outcome, res.Err, tc.outcome, tc.sentinel)
			}
			if tc.records >= 0 && res.Records != tc.records {
				t.Errorf("%d records, want %d", res.Records, tc.records)
			}
			if res.Invalid != tc.invalid {
				t.Errorf("%d invalid, want %d", res.Invalid, tc.invalid)
			}
			if seen != res.Records {
				t.Errorf("OnRecord saw %d, result says %d", seen, res.Records)
			}
			got := files(slices.Collect(agg.All()))
			if got[metric.RecordsRead] != float64(res.Records) || got[metric.RecordsInvalid] != float64(res.Invalid) {
				t.Errorf("datums %v disagree with result %+v", got, res)
			}
			name := map[aggregate.FileOutcome]string{aggregate.Processed: metric.FilesProcessed, aggregate.Skipped: metric.FilesSkipped, aggregate.Failed: metric.FilesFailed}[tc.outcome]
			if got[name] != 1 {
				t.Errorf("%s = %v, want 1", name, got[name])
			}
		})
	}
}

// A read error or a deadline is returned (retry), and the file is not
// counted as processed or failed.
func TestTransientErrorsAreReturned(t *testing.T) {
	var trail strings.Builder
	trailgen.Write(&trail, trailgen.Options{Records: 5000, Seed: 9})
	boom := errors.New("connection reset by peer")
	src := io.MultiReader(strings.NewReader(trail.String()[:200000]), iotest.ErrReader(boom))
	agg := aggregate.New(nil)
	if _, err := scan.File(context.Background(), src, agg, nil); !errors.Is(err, boom) {
		t.Errorf("error %v, want the source's", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	agg = aggregate.New(nil)
	if _, err := scan.File(ctx, strings.NewReader(trail.String()), agg, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	got := files(slices.Collect(agg.All()))
	if got[metric.FilesProcessed]+got[metric.FilesFailed] != 0 {
		t.Errorf("a file that will be retried was counted: %v", got)
	}
}

// TestFindingsFlowToTheAggregator: every finding handed to OnRecord or
// judged over a window (Result.Findings) is counted once in the Findings
// metric, by severity and by name.
func TestFindingsFlowToTheAggregator(t *testing.T) {
	var trail strings.Builder
	trailgen.Write(&trail, trailgen.Options{Records: 2000, CognitoShare: 0.3, ConfigShare: 0.05, Seed: 11})
	agg := aggregate.New(nil)
	bySeverity, byName := map[string]float64{}, map[string]float64{}
	res, err := scan.File(context.Background(), strings.NewReader(trail.String()), agg, &scan.Options{
		Findings: finding.New(nil),
		OnRecord: func(ev *scan.Event) {
			for _, f := range ev.Findings {
				bySeverity[f.Severity.String()]++
				byName[f.Name]++
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	// and every finding judged over a window at the end of the file
	for _, f := range res.Findings {
		bySeverity[f.Severity.String()]++
		byName[f.Name]++
	}
	if byName[finding.TargetedBruteForce] == 0 {
		t.Error("no window finding: the generated file has one user failing sign-in from many addresses")
	}
	if len(byName) == 0 {
		t.Fatal("no findings in a file with 5 % configuration calls")
	}
	gotSev, gotName := map[string]float64{}, map[string]float64{}
	for _, d := range slices.Collect(agg.All()) {
		if d.Name != metric.Findings {
			continue
		}
		switch dim := d.Dimensions[0]; dim.Name {
		case metric.DimSeverity:
			gotSev[dim.Value] += d.Sum()
		case metric.DimFinding:
			gotName[dim.Value] += d.Sum()
		}
	}
	if !maps.Equal(gotSev, bySeverity) || !maps.Equal(gotName, byName) {
		t.Errorf("metric %v %v, OnRecord saw %v %v", gotSev, gotName, bySeverity, byName)
	}
}

type brokenState struct{}

func (brokenState) Get(context.Context, string) ([]finding.Entry, error) {
	return nil, errors.New("table unavailable")
}
func (brokenState) Put(context.Context, map[string][]finding.Entry) error { return nil }

// TestFindingsStateErrorIsTransient: when the settings state cannot be
// read, File returns an error (the file is retried), not a processed file.
func TestFindingsStateErrorIsTransient(t *testing.T) {
	var trail strings.Builder
	trailgen.Write(&trail, trailgen.Options{Records: 500, ConfigShare: 0.1, Seed: 12})
	_, err := scan.File(context.Background(), strings.NewReader(trail.String()), aggregate.New(nil),
		&scan.Options{Findings: finding.New(&finding.Options{State: brokenState{}})})
	if !errors.Is(err, finding.ErrState) {
		t.Errorf("err = %v, want finding.ErrState", err)
	}
}

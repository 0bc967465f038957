package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognitrail/cognitrail/pkg/clientpool"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/processor"
	"github.com/cognitrail/cognitrail/pkg/record"
	"github.com/cognitrail/cognitrail/pkg/sink"
	"github.com/cognitrail/cognitrail/pkg/trailfile"
)

// dirS3 serves the files under a directory by key.
type dirS3 struct{ root string }

func (d dirS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	key := aws.ToString(in.Key)
	body, err := os.ReadFile(filepath.Join(d.root, filepath.FromSlash(key)))
	if err != nil {
		return nil, err
	}
	at, _ := trailfile.DeliveryTime(key)
	return &s3.GetObjectOutput{
		Body: io.NopCloser(bytes.NewReader(body)), ETag: aws.String(`"abc"`),
		LastModified: aws.Time(at), ContentLength: aws.Int64(int64(len(body))),
	}, nil
}

// keptSink keeps what is published.
type keptSink struct {
	mu     sync.Mutex
	datums []metric.Datum
}

func (s *keptSink) Batches(d iter.Seq[metric.Datum]) iter.Seq[[]metric.Datum] {
	return func(yield func([]metric.Datum) bool) { yield(slices.Collect(d)) }
}

func (s *keptSink) Publish(_ context.Context, b []metric.Datum) (sink.Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.datums = append(s.datums, b...)
	return sink.Stats{}, nil
}

// byPoolOrClient totals the SignInFailures and ForgotPasswordRequests
// series by user pool or unresolved app client.
func byPoolOrClient(ds []metric.Datum) map[string]float64 {
	out := map[string]float64{}
	for _, d := range ds {
		if (d.Name == metric.SignInFailures || d.Name == metric.ForgotPasswordRequests) && len(d.Dimensions) == 1 {
			if dim := d.Dimensions[0]; dim.Name == metric.DimUserPoolID || dim.Name == metric.DimClientID {
				out[d.Name+"{"+dim.Name+"="+dim.Value+"}"] += d.Sum()
			}
		}
	}
	return out
}

// TestScanAgreesWithTheFunctionAcrossRegions: the sample files name app
// client 1example23456789 in us-east-1 and in eu-west-1, as AWS's own
// published examples do, for a pool in each Region. scan resolves clients
// across the whole run, the function file by file (the pairs carried
// between files by its shared resolver); both must put each Region's calls
// on that Region's pool, so the per-pool counts agree.
func TestScanAgreesWithTheFunctionAcrossRegions(t *testing.T) {
	var keys []string
	err := filepath.WalkDir(samples, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		k, err := filepath.Rel(samples, p)
		if err == nil && strings.Contains(k, "_CloudTrail_") {
			keys = append(keys, filepath.ToSlash(k))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// The order CloudTrail delivers them in.
	slices.SortFunc(keys, func(a, b string) int {
		ta, _ := trailfile.DeliveryTime(a)
		tb, _ := trailfile.DeliveryTime(b)
		return cmp.Or(ta.Compare(tb), strings.Compare(a, b))
	})
	kept := &keptSink{}
	h := processor.New(dirS3{samples}, kept, nil, &processor.Options{
		Logger:  slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Clients: clientpool.New(nil),
		// The samples' time, so that their datums are not too old.
		Now:         func() time.Time { return time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC) },
		MaxDatumAge: -1,
	})
	for _, k := range keys {
		ev := fmt.Sprintf(`{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",`+
			`"eventTime":"2026-11-20T10:20:00Z","eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0",`+
			`"bucket":{"name":"trail","arn":"arn:aws:s3:::trail"},"object":{"key":%q,"size":1,"eTag":"abc","sequencer":"00673DB5E2C4A1B3F1"}}}]}`, k)
		if _, err := h.Handle(context.Background(), json.RawMessage(ev)); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	function := byPoolOrClient(kept.datums)

	out, errs, rc := scanOut(t, "--format", "json", "--client-pools", "", samples)
	if rc != exitOK {
		t.Fatalf("scan: exit %d: %s", rc, errs)
	}
	var ds []metric.Datum
	if err := json.Unmarshal([]byte(out), &ds); err != nil {
		t.Fatal(err)
	}
	scanned := byPoolOrClient(ds)

	regions := map[string]bool{}
	for k := range function {
		if _, pool, ok := strings.Cut(k, metric.DimUserPoolID+"="); ok {
			regions[record.UserPoolRegion(strings.TrimSuffix(pool, "}"))] = true
		}
	}
	if len(regions) < 2 {
		t.Fatalf("the function counted pools of %d Regions (%v); the samples have two", len(regions), function)
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range function {
			if !yield(k) {
				return
			}
		}
		for k := range scanned {
			if _, dup := function[k]; !dup && !yield(k) {
				return
			}
		}
	}) {
		if function[k] != scanned[k] {
			t.Errorf("%s: the function published %v, scan computed %v", k, function[k], scanned[k])
		}
	}
}

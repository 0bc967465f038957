package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognitrail/cognitrail/internal/lambdaapp"
	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/notification"
	"github.com/cognitrail/cognitrail/pkg/processor"
	"github.com/cognitrail/cognitrail/pkg/s3object"
	"github.com/cognitrail/cognitrail/pkg/scan"
	"github.com/cognitrail/cognitrail/pkg/sink"
	"github.com/cognitrail/cognitrail/pkg/trailfile"
)

// DefaultBackfillConcurrency is how many files backfill reads at once: S3
// latency, not CPU, bounds one reader, and a few keep two cores busy.
const DefaultBackfillConcurrency = 4

// listAPI is the part of the S3 client the listing uses.
type listAPI interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// listed is one object found by the listing.
type listed struct {
	key          string
	size         int64
	lastModified time.Time
}

// trailLister lists the trail files of a bucket under a prefix, delivered in
// [since, until) (a zero bound is open), using CloudTrail's key layout
//
//	[prefix/]AWSLogs/[o-org/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/FILE
//
// so that only the day "directories" asked for are listed: accounts,
// services and Regions are enumerated with Delimiter "/", then each day's
// prefix is listed whole. Other services' directories under an account are
// not entered.
type trailLister struct {
	api          listAPI
	bucket       string
	owner        string // ExpectedBucketOwner, or ""
	since, until time.Time
	// requests counts ListObjectsV2 calls.
	requests atomic.Int64
}

// trailServices are the service directories under an account that hold
// CloudTrail's own files; digest and Insights files are listed so that the
// key rules count them as skipped, as the Lambda and scan do.
var trailServices = []string{"CloudTrail", "CloudTrail-Digest", "CloudTrail-Insight"}

// root turns the user's prefix into where the listing starts: a trail's key
// prefix ("org", "org/") means its AWSLogs/ directory; a prefix already
// inside AWSLogs/ is taken as is.
func root(prefix string) string {
	if strings.Contains(prefix, "AWSLogs/") {
		return prefix
	}
	if p := strings.TrimSuffix(prefix, "/"); p != "" {
		return p + "/AWSLogs/"
	}
	return "AWSLogs/"
}

// walk lists prefix and what is below it, calling emit for every object.
func (l *trailLister) walk(ctx context.Context, prefix string, emit func(listed) error) error {
	i := strings.Index(prefix, "AWSLogs/")
	if !strings.HasSuffix(prefix, "/") || i < 0 {
		// Mid-segment ("AWSLogs/1234"): let S3 complete the segment.
		return l.list(ctx, prefix, "/", emit, func(cp string) error { return l.walk(ctx, cp, emit) })
	}
	base := prefix[:i+len("AWSLogs/")]
	segs := strings.Split(strings.TrimSuffix(prefix[len(base):], "/"), "/")
	if segs[0] == "" {
		segs = nil
	}
	if len(segs) > 0 && strings.HasPrefix(segs[0], "o-") {
		base += segs[0] + "/"
		segs = segs[1:]
	}
	descend := func(cp string) error { return l.walk(ctx, cp, emit) }
	switch len(segs) {
	case 0: // AWSLogs/ or AWSLogs/o-org/: accounts (or organizations)
		return l.list(ctx, prefix, "/", emit, descend)
	case 1: // an account: its services
		return l.list(ctx, prefix, "/", emit, func(cp string) error {
			service := cp[len(prefix) : len(cp)-1]
			if !slices.Contains(trailServices, service) {
				return nil
			}
			return descend(cp)
		})
	case 2: // a service: its Regions
		return l.list(ctx, prefix, "/", emit, descend)
	}
	// A Region, or part of a date below it.
	if l.since.IsZero() {
		return l.list(ctx, prefix, "", emit, nil)
	}
	region := base + strings.Join(segs[:3], "/") + "/"
	until := l.until
	if until.IsZero() {
		until = time.Now()
	}
	for d := l.since.UTC().Truncate(24 * time.Hour); d.Before(until); d = d.Add(24 * time.Hour) {
		day := region + d.Format("2006/01/02/")
		if strings.HasPrefix(day, prefix) {
			if err := l.list(ctx, day, "", emit, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// list pages through one ListObjectsV2 listing: objects go to emit (when
// delivered within the range), common prefixes to dir.
func (l *trailLister) list(ctx context.Context, prefix, delimiter string, emit func(listed) error, dir func(string) error) error {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(l.bucket), Prefix: aws.String(prefix)}
	if delimiter != "" {
		in.Delimiter = aws.String(delimiter)
	}
	if l.owner != "" {
		in.ExpectedBucketOwner = aws.String(l.owner)
	}
	p := s3.NewListObjectsV2Paginator(l.api, in)
	for p.HasMorePages() {
		l.requests.Add(1)
		out, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("backfill: list s3://%s/%s: %w", l.bucket, prefix, err)
		}
		for _, o := range out.Contents {
			key := aws.ToString(o.Key)
			if strings.HasSuffix(key, "/") || !l.inRange(key) {
				continue
			}
			if err := emit(listed{key: key, size: aws.ToInt64(o.Size), lastModified: aws.ToTime(o.LastModified)}); err != nil {
				return err
			}
		}
		for _, cp := range out.CommonPrefixes {
			if err := dir(aws.ToString(cp.Prefix)); err != nil {
				return err
			}
		}
	}
	return nil
}

// inRange: a file whose name carries no delivery time is kept (its day
// directory was asked for).
func (l *trailLister) inRange(key string) bool {
	t, ok := trailfile.DeliveryTime(key)
	if !ok {
		return true
	}
	return (l.since.IsZero() || !t.Before(l.since)) && (l.until.IsZero() || t.Before(l.until))
}

// parseTime reads --since/--until: RFC 3339 or a UTC date.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return t, fmt.Errorf("%q: want a date (2006-01-02) or an RFC 3339 time", s)
	}
	return t, nil
}

// parseS3URL splits s3://bucket/prefix.
func parseS3URL(s string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%q: want s3://BUCKET[/PREFIX]", s)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%q: no bucket", s)
	}
	return bucket, prefix, nil
}

// publishFloor is the oldest delivery time worth reading when publishing:
// a file holds events older than its delivery, so a file delivered before
// now - maxAge holds only datums CloudWatch rejects. Zero when no check.
func publishFloor(now time.Time, maxAge time.Duration) time.Time {
	return sink.AgeFilter{MaxAge: maxAge}.Oldest(now)
}

// backfillResult is what a worker did with one file.
type backfillResult struct {
	fo fileOutcome
	// transient: a retry (a rerun) may succeed; nothing was counted.
	transient bool
}

const backfillSynopsis = `cognitrail backfill [flags] s3://BUCKET[/PREFIX]
Lists the trail files delivered in [since, until) (T: 2006-01-02 or RFC 3339) and prints their summary,
or with --publish runs the Lambda's handler on each (same environment variables and ledger).`

func newBackfillFlags() (*flag.FlagSet, *backfillConfig) {
	fl := flag.NewFlagSet("backfill", flag.ContinueOnError)
	c := &backfillConfig{level: levelFlag{metric.DefaultLevel}, conc: DefaultBackfillConcurrency}
	fl.StringVar(&c.since, "since", "", "first delivery `time` to read (inclusive)")
	fl.StringVar(&c.until, "until", "", "delivery `time` to stop at (exclusive); default now")
	fl.Var(&c.conc, "concurrency", "`n` files read at once")
	fl.BoolVar(&c.publish, "publish", false, "publish through the Lambda's handler instead of printing the summary")
	fl.Var(&c.level, "level", "summary mode: metric detail `level` (basic, standard or full)")
	return fl, c
}

// backfillConfig is what backfill's flags set.
type backfillConfig struct {
	since, until string
	conc         positiveInt
	publish      bool
	level        levelFlag
}

func runBackfill(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl, bc := newBackfillFlags()
	if code, ok := parseFlags(fl, backfillSynopsis, args, stdout, stderr); !ok {
		return code
	}
	pos := fl.Args()
	since, err1 := parseTime(bc.since)
	until, err2 := parseTime(bc.until)
	lvl := bc.level.Level
	var bucket, prefix string
	var err4 error
	if len(pos) != 1 {
		return usageError(stderr, fl, backfillSynopsis, "want one s3://BUCKET[/PREFIX], got %d", len(pos))
	}
	bucket, prefix, err4 = parseS3URL(pos[0])
	if err := errors.Join(err1, err2, err4); err != nil {
		return usageError(stderr, fl, backfillSynopsis, "%v", err)
	}
	if !until.IsZero() && !since.IsZero() && !until.After(since) {
		return usageError(stderr, fl, backfillSynopsis, "--until must be after --since")
	}
	conc, publish := &bc.conc, &bc.publish

	cfg, awsCfg, ok := loadConfig(ctx, "backfill", stderr)
	if !ok {
		return exitUsage
	}
	s3c := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = cfg.S3UsePathStyle })

	var handler *lambdaapp.CLIHandler
	if *publish {
		if floor := publishFloor(time.Now(), cfg.MaxDatumAge); !floor.IsZero() && floor.After(since) {
			fmt.Fprintf(stderr, "cognitrail backfill: CloudWatch rejects datums older than %v: files delivered before %s are not read (the summary mode, without --publish, reads them)\n",
				time.Since(floor).Round(time.Hour), floor.UTC().Format(time.RFC3339))
			since = floor
		}
		if cfg.IdempotencyTable == "" {
			fmt.Fprintf(stderr, "cognitrail backfill: %s is not set: files the function already counted are counted again, and so is a rerun\n", lambdaapp.EnvIdempotencyTable)
		}
		if cfg.LogLevel == nil {
			// One line per object and per notable event would bury the
			// progress; warnings (dropped datums, failed files) stay.
			warn := slog.LevelWarn
			cfg.LogLevel = &warn
		}
		// The event lines feed the function's log group, not a terminal:
		// here LOG_LEVEL decides for them too.
		cfg.EventLinesFollowLevel = true
		var err error
		handler, err = lambdaapp.NewCLI(cfg, awsCfg, stderr, lambdaapp.NewLogger(cfg, stderr))
		if err != nil {
			fmt.Fprintln(stderr, "cognitrail backfill:", err)
			return exitFailed
		}
	}

	l := &trailLister{api: s3c, bucket: bucket, owner: cfg.ExpectedBucketOwner, since: since, until: until}
	b := &backfill{
		s3: s3c, bucket: bucket, handler: handler, owner: cfg.ExpectedBucketOwner,
		level: lvl, maxBytes: cfg.MaxUncompressedBytes, maxRecord: cfg.MaxRecordBytes,
	}
	return b.run(ctx, l, root(prefix), int(*conc), stdout, stderr)
}

// backfill reads listed files with a bounded number of workers.
type backfill struct {
	s3       s3object.API
	bucket   string
	owner    string
	handler  *lambdaapp.CLIHandler // nil: summary mode
	level    metric.Level
	maxBytes int64
	// maxRecord is MAX_RECORD_BYTES, as the function would use it.
	maxRecord int
}

func (b *backfill) run(ctx context.Context, l *trailLister, start string, workers int, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan listed, workers)
	results := make(chan backfillResult, workers)
	var listErr error
	var nListed atomic.Int64
	go func() {
		defer close(jobs)
		listErr = l.walk(ctx, start, func(o listed) error {
			nListed.Add(1)
			select {
			case jobs <- o:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	var wg sync.WaitGroup
	aggs := make([]*aggregate.Aggregator, workers)
	for i := range workers {
		// Summary mode: one aggregator per worker, their datums summed at
		// the end (the summary is sums of datums).
		aggs[i] = aggregate.New(&aggregate.Options{Level: b.level})
		wg.Go(func() {
			for o := range jobs {
				results <- b.file(ctx, aggs[i], o)
			}
		})
	}
	go func() { wg.Wait(); close(results) }()

	prog := newBackfillProgress(stderr, b.handler != nil)
	var files []fileOutcome
	transient := 0
	for r := range results {
		files = append(files, r.fo)
		if r.transient {
			transient++
		}
		if r.fo.outcome == aggregate.Failed || r.transient {
			fmt.Fprintf(stderr, "cognitrail backfill: %s\n", named(r.fo.path, r.fo.err))
		}
		prog.total = int(nListed.Load())
		prog.step(r.fo.records)
	}
	prog.done()
	slices.SortFunc(files, func(a, b fileOutcome) int { return strings.Compare(a.path, b.path) })
	fmt.Fprintf(stderr, "cognitrail backfill: %d files listed with %d ListObjectsV2 requests\n", nListed.Load(), l.requests.Load())

	code := exitOK
	if listErr != nil && !errors.Is(listErr, context.Canceled) {
		fmt.Fprintln(stderr, "cognitrail backfill:", listErr)
		code = exitFailed
	}
	if err := ctx.Err(); err != nil {
		fmt.Fprintln(stderr, "cognitrail backfill: interrupted:", err)
		code = exitFailed
	}
	if b.handler == nil {
		writeSummary(stdout, sumDatums(func(yield func(metric.Datum) bool) {
			for _, a := range aggs {
				for d := range a.All() {
					if !yield(d) {
						return
					}
				}
			}
		}), files)
		if code != exitOK {
			fmt.Fprintln(stderr, "cognitrail backfill: the summary covers only the files read; it keeps no state, so a rerun reads everything again")
		}
	} else {
		writePublishSummary(stdout, files)
		if code != exitOK || transient > 0 {
			fmt.Fprintln(stderr, "cognitrail backfill: run the same command again to resume: the ledger skips the files already counted")
		}
	}
	for _, f := range files {
		if f.outcome == aggregate.Failed && code == exitOK {
			code = exitFailed
		}
	}
	if transient > 0 {
		code = exitFailed
	}
	return code
}

// newBackfillProgress is the progress line of a run: with --publish the
// handler reads the files, so it says "published" and counts no records
// (it said "scanned ..., 0 records" while publishing).
func newBackfillProgress(stderr io.Writer, publish bool) *progress {
	p := newProgress(stderr, math.MaxInt)
	if publish {
		p.verb, p.noRecords = "published", true
	}
	return p
}

// file reads one listed file (summary mode) or hands it to the handler.
func (b *backfill) file(ctx context.Context, agg *aggregate.Aggregator, o listed) backfillResult {
	path := "s3://" + b.bucket + "/" + o.key
	if b.handler != nil {
		// Every listed file goes to the handler, whose key rules skip
		// digest and Insights files and count them in FilesSkipped: one
		// rule, and the skipped count printed is the one CloudWatch gets.
		return b.publish(ctx, path, o)
	}
	// The Lambda's own rules (and reason names), as scan applies them.
	if why := (notification.Object{Key: o.key, Size: o.size}).SkipReason(); why != "" {
		agg.AddFile(aggregate.Skipped, o.lastModified)
		return backfillResult{fo: fileOutcome{path: path, outcome: aggregate.Skipped, err: errors.New(string(why))}}
	}
	fo := fileOutcome{path: path}
	obj, err := s3object.Open(ctx, b.s3, b.bucket, o.key, "", &s3object.Options{ExpectedBucketOwner: b.owner})
	if err != nil {
		fo.outcome, fo.err = aggregate.Failed, err
		agg.AddFile(aggregate.Failed, o.lastModified)
		return backfillResult{fo: fo, transient: !errors.Is(err, s3object.ErrNotFound)}
	}
	defer obj.Body.Close()
	// As scan does on disk: the delivery time in the file name, so the
	// summary equals `cognitrail scan` on the same files.
	delivered, ok := trailfile.DeliveryTime(o.key)
	if !ok {
		delivered = obj.LastModified
	}
	res, err := scan.File(ctx, obj.Body, agg, &scan.Options{
		Reader:      trailfile.Options{Name: path, MaxUncompressedBytes: b.maxBytes, MaxRecordBytes: b.maxRecord},
		DeliveredAt: delivered,
	})
	fo.outcome, fo.err, fo.records, fo.invalid = res.Outcome, res.Err, res.Records, res.Invalid
	if err != nil {
		// As scan: a read error leaves this file's counts partial.
		fo.outcome, fo.err = aggregate.Failed, err
		agg.AddFile(aggregate.Failed, delivered)
		return backfillResult{fo: fo, transient: true}
	}
	return backfillResult{fo: fo}
}

// publish runs the Lambda's handler on one file, as an S3 Batch Operations
// task: the same claim, read, publish and mark-done path as the function,
// and a result code that says what happened.
func (b *backfill) publish(ctx context.Context, path string, o listed) backfillResult {
	ev, _ := json.Marshal(map[string]any{
		"invocationSchemaVersion": "2.0",
		"invocationId":            "cognitrail-backfill",
		"job":                     map[string]any{"id": "cognitrail-backfill"},
		"tasks": []map[string]any{{
			"taskId": "1", "s3Bucket": b.bucket, "s3Key": encodeKey(o.key), "s3VersionId": nil,
		}},
	})
	fo := fileOutcome{path: path, outcome: aggregate.Failed}
	resp, err := b.handler.Handle(ctx, ev)
	r, ok := resp.(events.S3BatchJobResponse)
	if err != nil || !ok || len(r.Results) != 1 {
		fo.err = fmt.Errorf("handler: %v (response %T)", err, resp)
		return backfillResult{fo: fo, transient: true}
	}
	switch res := r.Results[0]; res.ResultCode {
	case processor.BatchSucceeded:
		fo.outcome = aggregate.Processed
		if res.ResultString != "processed" {
			fo.outcome, fo.err = aggregate.Skipped, errors.New(res.ResultString)
		}
	case processor.BatchPermanentFailure:
		fo.err = errors.New(res.ResultString)
	default:
		fo.err = errors.New(res.ResultString)
		return backfillResult{fo: fo, transient: true}
	}
	return backfillResult{fo: fo}
}

// encodeKey encodes a key as S3 Batch Operations passes it (and as S3
// notifications do): form encoding, with "/" kept.
func encodeKey(k string) string { return strings.ReplaceAll(url.QueryEscape(k), "%2F", "/") }

// writePublishSummary prints what --publish did; the metrics themselves are
// in CloudWatch.
func writePublishSummary(w io.Writer, files []fileOutcome) {
	processed, skipped, failed := countOutcomes(files)
	fmt.Fprintf(w, "Files\t%d published, %d skipped (already counted, or not log files), %d failed\n", processed, skipped, failed)
}

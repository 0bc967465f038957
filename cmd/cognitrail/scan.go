package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognitrail/cognitrail/internal/lambdaapp"
	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/budget"
	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/clientpool"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/notification"
	"github.com/cognitrail/cognitrail/pkg/scan"
	"github.com/cognitrail/cognitrail/pkg/trailfile"
)

// input is one file to scan: a path, or "-" for standard input.
type input struct {
	path string
	// skip is why the file is not read (the Lambda's skip reason), or "".
	skip notification.Reason
	// err is why the path could not be listed (missing, unreadable
	// directory): the input counts as a failed file, the others go on.
	err error
}

// unread settles an input that is not to be read (a path that could not be
// listed, or a file skipped as the Lambda skips it) alike in every command:
// a failure is said on stderr and fails the run, a skip is quiet. ok is
// false for an input to read.
func (in input) unread(stderr io.Writer, command string, failed *bool) (fo fileOutcome, ok bool) {
	switch {
	case in.err != nil:
		*failed = true
		fmt.Fprintf(stderr, "cognitrail %s: %s\n", command, named(in.path, in.err))
		return fileOutcome{path: in.path, outcome: aggregate.Failed, err: in.err}, true
	case in.skip != "":
		return fileOutcome{path: in.path, outcome: aggregate.Skipped, err: errors.New(string(in.skip))}, true
	}
	return fileOutcome{}, false
}

// walkFunc walks a directory tree as filepath.WalkDir does; tests replace it
// to make a directory fail mid-walk.
type walkFunc func(root string, fn fs.WalkDirFunc) error

// collectInputs expands the command line: files as given, directories walked
// recursively in lexical order, keeping files that look like trail files.
//
// Every file, walked or given, goes through the Lambda's own rules
// (notification.Object.SkipReason) on its absolute path, so that a relative
// path such as CloudTrail-Insight/... (run from inside AWSLogs/<account>)
// is recognised as it is under its full key: digest and Insights files and
// empty files are listed as skipped, not read. Other services' logs
// (AWSLogs/<account>/elasticloadbalancing/...) found while walking are left
// out altogether, like files that are not named as trail files: the
// template's notifications never send them to the Lambda either. Given by
// name, one is skipped as the Lambda skips it when an event names it.
//
// A path that cannot be read is listed with its error, so that it is
// reported and counted as failed while every other file is still scanned,
// as the Lambda counts an object it cannot get in FilesFailed and goes on.
//
// A file reached twice (named twice, or named and inside a named directory)
// is read once, so that no record is counted twice. A directory with no
// trail file in it is named in notes: probably not the directory meant.
func collectInputs(paths []string, walk walkFunc) (out []input, notes []string) {
	seen := map[string]bool{}
	add := func(in input) {
		key := in.path
		if abs, err := filepath.Abs(in.path); err == nil && in.path != "-" {
			key = abs
		}
		if seen[key] {
			notes = append(notes, in.path+": given more than once, read once")
			return
		}
		seen[key] = true
		out = append(out, in)
	}
	for _, p := range paths {
		if p == "-" {
			add(input{path: p})
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			add(input{path: p, err: err})
			continue
		}
		if !info.IsDir() {
			add(input{path: p, skip: skipReason(p, info.Size())})
			continue
		}
		found := 0
		_ = walk(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				// An unreadable directory (or entry) fails alone; WalkDir
				// goes on with its siblings.
				found++
				add(input{path: path, err: err})
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() || !isTrailName(path) {
				return nil
			}
			info, err := os.Stat(path)
			if err != nil {
				found++
				add(input{path: path, err: err})
				return nil
			}
			in := input{path: path, skip: skipReason(path, info.Size())}
			if in.skip == notification.ReasonOtherService {
				return nil
			}
			found++
			add(in)
			return nil
		})
		if found == 0 {
			notes = append(notes, p+": no trail files (*.json, *.gz) in this directory")
		}
	}
	return out, notes
}

// listInputs is collectInputs over a command's PATHs, its notes said on
// stderr before anything is read.
func listInputs(stderr io.Writer, fl *flag.FlagSet) []input {
	inputs, notes := collectInputs(fl.Args(), filepath.WalkDir)
	for _, n := range notes {
		fmt.Fprintf(stderr, "cognitrail %s: %s\n", fl.Name(), n)
	}
	return inputs
}

// errStdinTwice: standard input can be read only once.
var errStdinTwice = errors.New(`standard input ("-") given more than once: it can be read only once`)

// checkPaths rejects PATHs that cannot be honoured (none at all, standard
// input twice, an S3 URL), so that scan, findings and report refuse the same
// command lines.
func checkPaths(paths []string) error {
	if len(paths) == 0 {
		return errors.New("no PATH given")
	}
	n := 0
	for _, p := range paths {
		if p == "-" {
			n++
		}
		if strings.HasPrefix(p, "s3://") {
			if _, err := os.Stat(p); err != nil {
				return fmt.Errorf("%s: a PATH is on disk; for S3, cognitrail backfill %s prints scan's summary (or publishes), or copy the files first: aws s3 sync %s DIR", p, p, p)
			}
		}
	}
	if n > 1 {
		return errStdinTwice
	}
	return nil
}

// skipReason is the Lambda's skip rule for the file at path, judged by its
// absolute path as the Lambda judges an object by its whole key.
func skipReason(path string, size int64) notification.Reason {
	key, err := filepath.Abs(path)
	if err != nil {
		key = path
	}
	return notification.Object{Key: filepath.ToSlash(key), Size: size}.SkipReason()
}

func isTrailName(p string) bool {
	return strings.HasSuffix(p, ".json.gz") || strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".gz")
}

// jsonlRecord is one line of `scan --format jsonl`. Its field names are part
// of the CLI's output contract.
type jsonlRecord struct {
	File        string    `json:"file"`
	Index       int       `json:"index"`
	EventID     string    `json:"eventID"`
	EventTime   time.Time `json:"eventTime"`
	EventSource string    `json:"eventSource"`
	EventName   string    `json:"eventName"`
	// The classification, under class.Class's JSON names.
	class.Class
	// Findings names the record's findings (pkg/finding), on lines that
	// have some.
	Findings []string `json:"findings,omitempty"`
}

// concurrencyUsage is the --concurrency flag's usage in scan, findings and
// report.
const concurrencyUsage = "`n` files read at once (default: the number of CPUs); the output is the same whatever n"

// workers is the --concurrency value: the number of CPUs when the flag is
// not given (zero: a given value is positive).
func (n positiveInt) workers() int {
	if n == 0 {
		return runtime.NumCPU()
	}
	return int(n)
}

// scannedFile is one file read on its own by scan, waiting to be finished
// in order.
type scannedFile struct {
	res scan.Result
	err error
	agg *aggregate.Aggregator
	// eng is the read's engine (what the file raises by itself: the
	// per-address counts Recount reads).
	eng *finding.Engine
	// lines are the file's --format jsonl lines, but for what the files
	// before it decide: the findings and an app client's pool.
	lines []jsonlLine
	// found are the findings of a file judged as it was read, which
	// judged puts in res.Findings.
	found []scan.Found
}

// judgeAsRead says whether the files, read workers at a time, are each
// finished before the next is read (scan.Ordered with one worker, or one
// file): the run's engine can then judge a file as it is read. Read in
// parallel, a file keeps its configuration calls, raw JSON and all, for
// Judge once the files before it are finished (scan.Options.Deferred):
// memory a file read alone need not hold.
func judgeAsRead(workers, files int) bool { return min(workers, files) <= 1 }

// judgeWith sets opts to judge the file's findings with run, the run's
// engine, as the file is read when asRead (see judgeAsRead), else with an
// engine of its own, deferred: Judge then judges the rest with run. f.eng
// is the engine that judged the file's own findings.
func (f *scannedFile) judgeWith(opts *scan.Options, run *finding.Engine, engineOpts *finding.Options, asRead bool) {
	if !asRead {
		f.eng = finding.New(engineOpts)
		opts.Findings, opts.Deferred = f.eng, true
		return
	}
	f.eng, opts.Findings = run, run
	next := opts.OnRecord
	opts.OnRecord = func(ev *scan.Event) {
		for _, fd := range ev.Findings {
			f.found = append(f.found, scan.Found{Index: ev.Index, Finding: fd})
		}
		if next != nil {
			next(ev)
		}
	}
}

// judged puts the findings of a file judged as it was read among the
// window findings File left in res.Findings, in record order and a
// record's own first: where Judge puts a deferred read's.
func (f *scannedFile) judged() {
	if len(f.found) == 0 {
		return
	}
	f.res.Findings = append(f.found, f.res.Findings...)
	slices.SortStableFunc(f.res.Findings, func(a, b scan.Found) int { return cmp.Compare(a.Index, b.Index) })
	f.found = nil
}

// jsonlLine is a jsonl line read, to be written once the files before it
// are finished.
type jsonlLine struct {
	jsonlRecord
	// region is the call's Region; learned is the pool the file itself had
	// given for ClientID at the record, when UserPoolID is to be resolved.
	region, learned string
	resolve         bool
}

// keepLine is scan.Options.OnRecord for --format jsonl.
func (f *scannedFile) keepLine(ev *scan.Event) {
	r, c := ev.Record, ev.Class
	l := jsonlLine{jsonlRecord: jsonlRecord{
		File: ev.File, Index: ev.Index, EventID: r.EventID, EventTime: r.EventTime,
		EventSource: r.EventSource, EventName: r.EventName, Class: *c,
	}}
	if c.UserPoolID == "" && c.ClientID != "" {
		l.region, l.resolve = r.AWSRegion, true
		l.learned, _ = f.agg.PoolOf(r.AWSRegion, c.ClientID)
	}
	f.lines = append(f.lines, l)
}

// writeLines writes the file's jsonl lines, after Judge and before
// Finish: agg holds the files before it.
func (f *scannedFile) writeLines(ctx context.Context, enc *json.Encoder, agg *aggregate.Aggregator, clients aggregate.Resolver) {
	found := f.res.Findings
	for _, l := range f.lines {
		if l.resolve {
			// As far as known at this record: a pair a later record
			// gives reaches the metrics, not this line.
			if p, ok := agg.PoolOfLearning(l.region, l.ClientID, l.learned); ok {
				l.UserPoolID = p
			} else {
				l.UserPoolID, _ = clients.Resolve(ctx, l.region, l.ClientID)
			}
		}
		for ; len(found) > 0 && found[0].Index == l.Index; found = found[1:] {
			l.Findings = append(l.Findings, found[0].Name)
		}
		_ = enc.Encode(l.jsonlRecord)
	}
	f.lines = nil
}

// fileOutcome is what the summary says of one file.
type fileOutcome struct {
	path    string
	outcome aggregate.FileOutcome
	err     error
	records int
	invalid int
}

// countOutcomes counts the files each outcome befell, for the Files line of
// scan's and backfill's summaries.
func countOutcomes(files []fileOutcome) (processed, skipped, failed int) {
	for _, f := range files {
		switch f.outcome {
		case aggregate.Processed:
			processed++
		case aggregate.Skipped:
			skipped++
		default:
			failed++
		}
	}
	return processed, skipped, failed
}

const scanSynopsis = `cognitrail scan [flags] PATH...
Scans trail files with the Lambda's engine and prints what it would publish.`

// scanConfig is what scan's flags set.
type scanConfig struct {
	format   *choice
	level    levelFlag
	maxPools positiveInt
	// maxSeries is the run's series budget (MAX_SERIES_PER_DIMENSION).
	maxSeries positiveInt
	maxBytes  byteSize
	// maxRecord is the per-record limit (MAX_RECORD_BYTES).
	maxRecord byteSize
	// clientPools and resolveClients: see clientpool (CLIENT_POOLS,
	// RESOLVE_CLIENTS).
	clientPools    string
	resolveClients bool
	// conc is how many files are read at once.
	conc positiveInt
	// windows are the attacks' windows across files (ATTACK_WINDOWS):
	// the Findings and DistinctFailingSources metrics depend on them.
	windows windowsFlag
}

func newScanFlags() (*flag.FlagSet, *scanConfig) {
	fl := flag.NewFlagSet("scan", flag.ContinueOnError)
	c := &scanConfig{
		format: newChoice("table", "table", "json", "jsonl"),
		// The Lambda's own defaults, so that --format json is what the
		// function publishes for the same files.
		level:     levelFlag{metric.DefaultLevel},
		maxPools:  aggregate.DefaultMaxPools,
		maxSeries: budget.DefaultMax,
		maxBytes:  byteSize(trailfile.DefaultMaxUncompressedBytes),
		maxRecord: byteSize(trailfile.DefaultMaxRecordBytes),
	}
	fl.Var(c.format, "format", "output: `table` (summary), json (the metric datums) or jsonl (one line per record)")
	fl.Var(&c.level, "level", "metric detail `level` (DETAIL_LEVEL): basic, standard or full")
	fl.Var(&c.maxPools, "max-pools", "`n` pools of each kind given their own series, the busiest kept (MAX_POOLS)")
	fl.Var(&c.maxSeries, "max-series-per-dimension", "`n` values of each pool, client, operation and error code dimension given their own series per month, the first seen kept; the others are counted under \"other\" (MAX_SERIES_PER_DIMENSION)")
	fl.Var(&c.maxBytes, "max-uncompressed-bytes", "zip-bomb guard (MAX_UNCOMPRESSED_BYTES): a file that inflates past this `size` (1048576, 500MB, 2GiB) fails")
	fl.Var(&c.maxRecord, "max-record-bytes", "a record longer than this `size` (16MiB, at most 1GiB) is counted invalid and passed over; the file's other records are read (MAX_RECORD_BYTES)")
	fl.StringVar(&c.clientPools, "client-pools", "", "app client to user pool `map`, clientId=poolId,... (default $"+lambdaapp.EnvClientPools+")")
	fl.BoolVar(&c.resolveClients, "resolve-clients", false, "look app clients up with cognito-idp ListUserPools and ListUserPoolClients (AWS credentials; RESOLVE_CLIENTS)")
	fl.Var(&c.conc, "concurrency", concurrencyUsage)
	fl.Var(&c.windows, "windows", "windows and thresholds of the attacks across files (ATTACK_WINDOWS), as findings --windows takes them")
	return fl, c
}

func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl, cfg := newScanFlags()
	if code, ok := parseFlags(fl, scanSynopsis, args, stdout, stderr); !ok {
		return code
	}
	envDefault(fl, "client-pools", lambdaapp.EnvClientPools, &cfg.clientPools)
	if err := checkPaths(fl.Args()); err != nil {
		return usageError(stderr, fl, scanSynopsis, "%v", err)
	}
	format, maxBytes := cfg.format.value, int64(cfg.maxBytes)
	if cfg.maxRecord > lambdaapp.MaxRecordBytesLimit {
		return usageError(stderr, fl, scanSynopsis, "--max-record-bytes %v: at most 1GiB", &cfg.maxRecord)
	}
	clients, err := newClientResolver(ctx, cfg.clientPools, cfg.resolveClients)
	if err != nil {
		return usageError(stderr, fl, scanSynopsis, "%v", err)
	}
	inputs := listInputs(stderr, fl)

	out := bufio.NewWriterSize(stdout, 64<<10)
	defer out.Flush()
	enc := json.NewEncoder(out)
	aggOpts := &aggregate.Options{Level: cfg.level.Level, MaxPools: int(cfg.maxPools)}
	agg := aggregate.New(aggOpts)
	progress := newProgress(stderr, len(inputs))
	var files []fileOutcome
	// Zero when no file name carries a delivery time: a file is then dated
	// by its newest record, and what has no time of its own by the run's
	// newest record, after the last file (undated).
	at := namesTime(inputs)
	clock := func() time.Time { return at }
	var undated []aggregate.FileOutcome
	var undatedInvalid int
	var newest time.Time
	addFile := func(o aggregate.FileOutcome) {
		if at.IsZero() {
			undated = append(undated, o)
		} else {
			agg.AddFile(o, at)
		}
	}
	// One engine for the run: a setting restated in a later file is
	// judged against what the earlier files said. Files are read in
	// parallel, each into its own aggregator (and engine for what a file
	// raises by itself: judgeWith), and finished in order: merged into agg, their
	// settings judged by findings, their lines written, as one after the
	// other.
	engineOpts := &finding.Options{Windows: cfg.windows.w}
	findings := finding.New(engineOpts)
	failed := false
	ahead := readAhead(cfg.conc.workers(), len(inputs))
	asRead := judgeAsRead(cfg.conc.workers(), len(inputs))
	read := func(ctx context.Context, i int) scannedFile {
		in := inputs[i]
		if in.err != nil || in.skip != "" {
			return scannedFile{}
		}
		f := scannedFile{agg: aggregate.New(aggOpts)}
		opts := &scan.Options{
			Reader: trailfile.Options{Name: in.path, MaxUncompressedBytes: maxBytes, MaxRecordBytes: int(cfg.maxRecord)},
			Now:    clock,
		}
		opts.DeliveredAt, _ = trailfile.DeliveryTime(in.path)
		if format == "jsonl" {
			opts.OnRecord = f.keepLine
		}
		f.judgeWith(opts, findings, engineOpts, asRead)
		f.res, f.err = scanPath(ctx, in.path, f.agg, opts, ahead)
		return f
	}
	done := func(i int, f scannedFile) error {
		in := inputs[i]
		if err := ctx.Err(); err != nil {
			return err
		}
		if fo, ok := in.unread(stderr, "scan", &failed); ok {
			addFile(fo.outcome)
			files = append(files, fo)
			progress.step(0)
			return nil
		}
		f.res.Judge(ctx, findings, f.agg)
		f.judged()
		if format == "jsonl" {
			f.writeLines(ctx, enc, agg, clients)
		}
		err := f.res.Finish(ctx, f.err, f.agg, agg, clients)
		res := f.res
		if res.ClientsErr != nil {
			fmt.Fprintf(stderr, "cognitrail scan: %s: app clients not resolved: %v\n", in.path, res.ClientsErr)
		}
		fo := fileOutcome{path: in.path, outcome: res.Outcome, err: res.Err, records: res.Records, invalid: res.Invalid}
		if res.Newest.After(newest) {
			newest = res.Newest
		}
		if res.Undated {
			undated = append(undated, res.Outcome)
			undatedInvalid += res.Invalid
		}
		if err == nil {
			err = findings.Commit(ctx)
		}
		if err != nil {
			// A read error, not a bad file: this file's counts are partial.
			fo.outcome, fo.err = aggregate.Failed, err
			addFile(aggregate.Failed)
		}
		if fo.outcome == aggregate.Failed {
			failed = true
			fmt.Fprintf(stderr, "cognitrail scan: %s\n", named(in.path, fo.err))
		} else if res.Invalid > 0 {
			unusableNotice(stderr, "scan", in.path, res)
		}
		files = append(files, fo)
		progress.step(res.Records)
		return nil
	}
	if err := scan.Ordered(ctx, len(inputs), cfg.conc.workers(), read, done); err != nil {
		fmt.Fprintln(stderr, "cognitrail scan:", err)
		return exitFailed
	}
	progress.done()
	if len(undated) > 0 || undatedInvalid > 0 {
		if newest.IsZero() {
			// No record anywhere: no time in the data.
			newest = time.Now().UTC().Truncate(time.Minute)
		}
		for _, o := range undated {
			agg.AddFile(o, newest)
		}
		for range undatedInvalid {
			agg.AddInvalid(newest)
		}
	}
	// One budget for the run, in memory: scan publishes nothing, so there
	// is no batch to resume and no table to share it with.
	if err := agg.ApplyBudget(ctx, budget.NewMemory(int(cfg.maxSeries))); err != nil {
		fmt.Fprintln(stderr, "cognitrail scan:", err)
		return exitFailed
	}

	var writeErr error
	switch format {
	case "json":
		writeErr = writeDatumsJSON(out, agg.All())
	case "table":
		writeSummary(out, sumDatums(agg.All()), files)
	}
	return finished(stderr, "scan", out, writeErr, failed)
}

// unusableNotice tells, on stderr, that a file read to its end had records
// that could not be judged (scan, findings and report say it alike): one of
// them may be a configuration change, so a reader should know.
func unusableNotice(stderr io.Writer, cmd, path string, res scan.Result) {
	if res.Invalid == 0 || res.Outcome == aggregate.Failed {
		return
	}
	records := "records"
	if res.Invalid == 1 {
		records = "record"
	}
	fmt.Fprintf(stderr, "cognitrail %s: %s: %d unusable %s, the first: %s\n", cmd, path, res.Invalid, records, unnamed(path, res.Err))
}

// filesTime dates the outcomes of files on disk, which carry no delivery
// event: the newest delivery time seen in a file name, so that output is
// reproducible, else the current time.
func filesTime(inputs []input) time.Time {
	at := namesTime(inputs)
	if at.IsZero() {
		at = time.Now().UTC().Truncate(time.Minute)
	}
	return at
}

// namesTime is the newest delivery time in the inputs' file names, or zero.
func namesTime(inputs []input) time.Time {
	var at time.Time
	for _, in := range inputs {
		if t, ok := trailfile.DeliveryTime(in.path); ok && t.After(at) {
			at = t
		}
	}
	return at
}

// newClientResolver builds the resolver the files share: the map, and the
// lookup with the default AWS configuration when asked for.
func newClientResolver(ctx context.Context, pools string, lookup bool) (*clientpool.Resolver, error) {
	m, err := clientpool.ParseMap(pools)
	if err != nil {
		return nil, fmt.Errorf("--client-pools: %w", err)
	}
	opts := &clientpool.Options{Static: m}
	if lookup {
		cfg, err := lambdaapp.LoadAWSConfig(ctx)
		if err != nil {
			return nil, err
		}
		opts.Lookup = cip.NewFromConfig(cfg)
		// The lookup lists the pools of the configured Region only, so it
		// resolves calls made there.
		opts.Region = cfg.Region
	}
	return clientpool.New(opts), nil
}

// scanPath opens path ("-" is standard input) and scans it, a file
// inflated ahead of the parser when ahead is true (see readAhead); standard
// input never is: a read of it can wait on the user.
func scanPath(ctx context.Context, path string, agg *aggregate.Aggregator, opts *scan.Options, ahead bool) (scan.Result, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return scan.Result{File: path}, err
		}
		defer f.Close()
		r = f
		opts.Reader.ReadAhead = ahead
	}
	return scan.File(ctx, r, agg, opts)
}

// readAhead says whether the files, read workers at a time, leave each a
// core to spare for inflating ahead of its parser (trailfile.Options): the
// wall time of one file then nears that of inflating it alone. When they
// leave none, reading more files at once already keeps every core busy and
// the hand-over would only add CPU.
func readAhead(workers, files int) bool {
	return 2*min(workers, files) <= runtime.GOMAXPROCS(0)
}

// writeDatumsJSON writes datums as one indented JSON array, as
// json.Encoder with a two-space indent writes a slice, but one datum at a
// time: a month of minutes is never held as text or as datums.
func writeDatumsJSON(w io.Writer, datums iter.Seq[metric.Datum]) error {
	if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	n := 0
	var buf []byte
	for d := range datums {
		buf = buf[:0]
		if n > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, "\n  "...)
		n++
		var ok bool
		if buf, ok = appendDatumJSON(buf, &d); !ok {
			js, err := json.MarshalIndent(d, "  ", "  ")
			if err != nil {
				return err
			}
			buf = append(buf, js...)
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	end := "\n]\n"
	if n == 0 {
		end = "]\n"
	}
	_, err := io.WriteString(w, end)
	return err
}

// datumTotals sums datums by metric, dimension names and dimension values,
// in one pass over datums produced one at a time: the summary's figures.
type datumTotals struct {
	sums           map[string]map[string]float64
	lagSum, lagObs float64
}

func totalsKey(name string, dims []string) string {
	return name + "\x00" + strings.Join(dims, "\x00")
}

func sumDatums(datums iter.Seq[metric.Datum]) *datumTotals {
	t := &datumTotals{sums: map[string]map[string]float64{}}
	var vals []string
	for d := range datums {
		if d.Name == metric.DeliveryLagSeconds {
			t.lagSum += d.Sum()
			t.lagObs += d.SampleCount()
		}
		k := totalsKey(d.Name, d.DimensionNames())
		m := t.sums[k]
		if m == nil {
			m = map[string]float64{}
			t.sums[k] = m
		}
		vals = vals[:0]
		for _, dim := range d.Dimensions {
			vals = append(vals, dim.Value)
		}
		m[strings.Join(vals, " / ")] += d.Sum()
	}
	return t
}

// get returns the sums of one metric by the value of its dimensions ("" for
// the dimensionless series), over the datums that have exactly the
// dimension names dims.
func (t *datumTotals) get(name string, dims ...string) map[string]float64 {
	if m := t.sums[totalsKey(name, dims)]; m != nil {
		return m
	}
	return map[string]float64{}
}

type kv struct {
	k string
	v float64
}

// ranked returns m's entries by descending value, then key.
func ranked(m map[string]float64) []kv {
	var out []kv
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	slices.SortFunc(out, func(a, b kv) int {
		if c := cmp.Compare(b.v, a.v); c != 0 {
			return c
		}
		return cmp.Compare(a.k, b.k)
	})
	return out
}

const topN = 10

// writeSummary prints the table a person reads at a glance. Every number
// is a sum of the metric datums the Lambda would publish for the same files.
func writeSummary(w io.Writer, t *datumTotals, files []fileOutcome) {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	processed, skipped, failedN := countOutcomes(files)
	read := t.get(metric.RecordsRead)[""]
	invalid := t.get(metric.RecordsInvalid)[""]
	fmt.Fprintf(tw, "Files\t%d processed, %d skipped, %d failed\n", processed, skipped, failedN)
	fmt.Fprintf(tw, "Records\t%.0f read, %.0f unusable\n", read, invalid)

	events := t.get(metric.Events, metric.DimCategory)
	errs := t.get(metric.Errors, metric.DimCategory)
	fmt.Fprintf(tw, "\nCategory\tRecords\tFailed\n")
	for _, c := range class.Categories() {
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\n", c, events[c.String()], errs[c.String()])
	}

	section := func(title string, m map[string]float64) {
		rows := ranked(m)
		if len(rows) == 0 {
			return
		}
		fmt.Fprintf(tw, "\n%s\tCount\n", title)
		for i, r := range rows {
			if i == topN {
				fmt.Fprintf(tw, "… %d more\t\n", len(rows)-topN)
				break
			}
			fmt.Fprintf(tw, "%s\t%.0f\n", r.k, r.v)
		}
	}
	section("Top operations (category / operation)", t.get(metric.Events, metric.DimCategory, metric.DimOperation))
	section("Unlisted endpoint operations (new to pkg/class)", t.get(metric.UnlistedOperations, metric.DimOperation))
	section("Failures (category / error code)", t.get(metric.Errors, metric.DimCategory, metric.DimErrorCode))

	signIn := t.get(metric.SignInFailures)[""]
	forgot := t.get(metric.ForgotPasswordRequests)[""]
	fmt.Fprintf(tw, "\nSign-in failures\t%.0f\n", signIn)
	fmt.Fprintf(tw, "ForgotPassword requests\t%.0f\n", forgot)
	roles := t.get(metric.IdentityPoolRoleCalls, metric.DimAuthType)
	fmt.Fprintf(tw, "Identity pool role calls\t%.0f authenticated, %.0f unauthenticated, %.0f unknown\n",
		roles[string(class.Authenticated)], roles[string(class.Unauthenticated)], roles[string(class.UnknownAuth)])
	fmt.Fprintf(tw, "Mean delivery lag\t%s\n", meanLag(t))

	section("User pool config changes", t.get(metric.UserPoolConfigChanges, metric.DimOperation))
	section("Identity pool config changes", t.get(metric.IdentityPoolConfigChanges, metric.DimOperation))
	section("Config changes denied", t.get(metric.ConfigChangesDenied, metric.DimOperation))

	var notes []fileOutcome
	for _, f := range files {
		if f.outcome != aggregate.Processed || f.err != nil {
			notes = append(notes, f)
		}
	}
	if len(notes) > 0 {
		fmt.Fprintf(tw, "\nFile\tOutcome\n")
		for _, f := range notes {
			fmt.Fprintf(tw, "%s\t%s: %s\n", f.path, outcomeName(f.outcome), unnamed(f.path, f.err))
		}
	}
	tw.Flush()
}

func meanLag(t *datumTotals) string {
	sum, n := t.lagSum, t.lagObs
	if n == 0 {
		return "n/a (no delivery time in the file names)"
	}
	return (time.Duration(sum/n) * time.Second).String()
}

func outcomeName(o aggregate.FileOutcome) string {
	switch o {
	case aggregate.Processed:
		return "processed with unusable records"
	case aggregate.Skipped:
		return "skipped"
	default:
		return "failed"
	}
}

// progress reports on stderr while many files are scanned, only when stderr
// is a terminal (so logs and pipes stay clean).
type progress struct {
	w        io.Writer
	total, n int
	records  int
	last     time.Time
	on       bool
	// verb says what is done to the files ("scanned" when empty); with
	// noRecords the records are not known (another process reads them).
	verb      string
	noRecords bool
}

func (p *progress) line() string {
	verb := p.verb
	if verb == "" {
		verb = "scanned"
	}
	if p.noRecords {
		return fmt.Sprintf("%s %d/%d files", verb, p.n, p.total)
	}
	return fmt.Sprintf("%s %d/%d files, %d records", verb, p.n, p.total, p.records)
}

func newProgress(stderr io.Writer, total int) *progress {
	return &progress{w: stderr, total: total, on: total > 20 && isTerminal(stderr)}
}

// isTerminal tells whether w is a terminal (a test stands in for one).
var isTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progress) step(records int) {
	p.n++
	p.records += records
	if p.on && time.Since(p.last) > 200*time.Millisecond {
		p.last = time.Now()
		fmt.Fprint(p.w, "\r"+p.line())
	}
}

func (p *progress) done() {
	if p.on {
		fmt.Fprint(p.w, "\r"+p.line()+"\n")
	}
}

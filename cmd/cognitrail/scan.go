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
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/notification"
	"github.com/cognitrail/cognitrail/pkg/scan"
	"github.com/cognitrail/cognitrail/pkg/trailfile"
)

// input is one file to scan: a path, or "-" for standard input.
type input struct {
	path string
	// skip is why a walked file is not read (a digest file), or "".
	skip string
}

// collectInputs expands the command line: files as given, directories walked
// recursively in lexical order, keeping files that look like trail files.
// Digest files found while walking are listed as skipped, not read.
func collectInputs(paths []string) ([]input, error) {
	var out []input
	for _, p := range paths {
		if p == "-" {
			out = append(out, input{path: p})
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			out = append(out, input{path: p})
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !isTrailName(path) {
				return nil
			}
			// The Lambda's key rules: digest files are not logs, and
			// Insights files hold no Cognito activity.
			in := input{path: path}
			switch notification.ParseKey(filepath.ToSlash(path)).Kind {
			case notification.KindDigest:
				in.skip = "digest file"
			case notification.KindInsight:
				in.skip = "Insights file"
			}
			out = append(out, in)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func isTrailName(p string) bool {
	return strings.HasSuffix(p, ".json.gz") || strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".gz")
}

// jsonlRecord is one line of `scan --format jsonl`. Its field names are part
// of the CLI's output contract.
type jsonlRecord struct {
	File           string         `json:"file"`
	Index          int            `json:"index"`
	EventID        string         `json:"eventID"`
	EventTime      time.Time      `json:"eventTime"`
	EventSource    string         `json:"eventSource"`
	EventName      string         `json:"eventName"`
	Category       class.Category `json:"category"`
	Operation      string         `json:"operation"`
	ConfigChange   bool           `json:"configChange"`
	Failed         bool           `json:"failed"`
	ErrorCode      string         `json:"errorCode"`
	SignIn         bool           `json:"signIn,omitempty"`
	ForgotPassword bool           `json:"forgotPassword,omitempty"`
	UserPoolID     string         `json:"userPoolId,omitempty"`
	IdentityPoolID string         `json:"identityPoolId,omitempty"`
	AuthType       class.AuthType `json:"authType,omitempty"`
	// Findings names the record's findings (pkg/finding), on lines that
	// have some.
	Findings []string `json:"findings,omitempty"`
}

// fileOutcome is what the summary says of one file.
type fileOutcome struct {
	path    string
	outcome aggregate.FileOutcome
	err     error
	records int
	invalid int
}

func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("scan", flag.ContinueOnError)
	fl.SetOutput(stderr)
	format := fl.String("format", "table", "output: table (summary), json (metric datums) or jsonl (one line per record)")
	maxBytes := fl.Int64("max-uncompressed-bytes", trailfile.DefaultMaxUncompressedBytes, "zip-bomb guard: stop reading a file past this many decompressed bytes")
	level := fl.String("level", "full", "metric detail level for --format json: basic, standard or full")
	if err := fl.Parse(args); err != nil {
		return exitUsage
	}
	lvl, err := metric.ParseLevel(*level)
	if err != nil || fl.NArg() == 0 || !slices.Contains([]string{"table", "json", "jsonl"}, *format) {
		if err != nil {
			fmt.Fprintln(stderr, "cognitrail scan:", err)
		}
		fmt.Fprint(stderr, usageString)
		return exitUsage
	}
	inputs, err := collectInputs(fl.Args())
	if err != nil {
		fmt.Fprintln(stderr, "cognitrail scan:", err)
		return exitUsage
	}

	out := bufio.NewWriterSize(stdout, 64<<10)
	defer out.Flush()
	enc := json.NewEncoder(out)
	agg := aggregate.New(&aggregate.Options{Level: lvl, MaxPools: 1000, MaxOperations: 10000})
	progress := newProgress(stderr, len(inputs))
	var files []fileOutcome
	// Files on disk carry no delivery event; outcomes are dated by the
	// newest delivery time seen in a file name, so output is reproducible.
	var at time.Time
	for _, in := range inputs {
		if t, ok := trailfile.DeliveryTime(in.path); ok && t.After(at) {
			at = t
		}
	}
	if at.IsZero() {
		at = time.Now().UTC().Truncate(time.Minute)
	}
	clock := func() time.Time { return at }
	// One engine for the whole run: a setting restated in a later file is
	// judged against what the earlier files said.
	findings := finding.New(nil)
	failed := false
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			fmt.Fprintln(stderr, "cognitrail scan:", err)
			return exitFailed
		}
		if in.skip != "" {
			agg.AddFile(aggregate.Skipped, at)
			files = append(files, fileOutcome{path: in.path, outcome: aggregate.Skipped, err: errors.New(in.skip)})
			continue
		}
		opts := &scan.Options{
			Reader:   trailfile.Options{Name: in.path, MaxUncompressedBytes: *maxBytes},
			Now:      clock,
			Findings: findings,
		}
		opts.DeliveredAt, _ = trailfile.DeliveryTime(in.path)
		if *format == "jsonl" {
			opts.OnRecord = func(ev *scan.Event) {
				r, c := ev.Record, ev.Class
				var names []string
				for _, f := range ev.Findings {
					names = append(names, f.Name)
				}
				_ = enc.Encode(jsonlRecord{
					File: ev.File, Index: ev.Index, EventID: r.EventID, EventTime: r.EventTime,
					EventSource: r.EventSource, EventName: r.EventName, Category: c.Category,
					Operation: c.Operation, ConfigChange: c.ConfigChange, Failed: c.Failed,
					ErrorCode: c.ErrorCode, SignIn: c.SignIn, ForgotPassword: c.ForgotPassword,
					UserPoolID: c.UserPoolID, IdentityPoolID: c.IdentityPoolID, AuthType: c.AuthType,
					Findings: names,
				})
			}
		}
		res, err := scanPath(ctx, in.path, agg, opts)
		fo := fileOutcome{path: in.path, outcome: res.Outcome, err: res.Err, records: res.Records, invalid: res.Invalid}
		if err == nil {
			err = findings.Commit()
		}
		if err != nil {
			// A read error, not a bad file: this file's counts are partial.
			fo.outcome, fo.err = aggregate.Failed, err
			agg.AddFile(aggregate.Failed, at)
		}
		if fo.outcome == aggregate.Failed {
			failed = true
			fmt.Fprintf(stderr, "cognitrail scan: %v\n", fo.err)
		}
		files = append(files, fo)
		progress.step(res.Records)
	}
	progress.done()

	switch *format {
	case "json":
		datums := agg.Datums()
		if datums == nil {
			datums = []metric.Datum{}
		}
		enc.SetIndent("", "  ")
		if err := enc.Encode(datums); err != nil {
			fmt.Fprintln(stderr, "cognitrail scan:", err)
			return exitFailed
		}
	case "table":
		writeSummary(out, agg.Datums(), files)
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintln(stderr, "cognitrail scan:", err)
		return exitFailed
	}
	if failed {
		return exitFailed
	}
	return exitOK
}

// scanPath opens path ("-" is standard input) and scans it.
func scanPath(ctx context.Context, path string, agg *aggregate.Aggregator, opts *scan.Options) (scan.Result, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return scan.Result{File: path}, err
		}
		defer f.Close()
		r = f
	}
	return scan.File(ctx, r, agg, opts)
}

// totals sums datums of one metric by the value of one dimension ("" for
// the dimensionless series), over the datums that have exactly the dimension
// names dims.
func totals(datums []metric.Datum, name string, dims ...string) map[string]float64 {
	out := make(map[string]float64)
	for _, d := range datums {
		if d.Name != name || !slices.Equal(d.DimensionNames(), dims) {
			continue
		}
		var key []string
		for _, dim := range d.Dimensions {
			key = append(key, dim.Value)
		}
		out[strings.Join(key, " / ")] += d.Sum()
	}
	return out
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
func writeSummary(w io.Writer, datums []metric.Datum, files []fileOutcome) {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	var processed, skipped, failedN int
	for _, f := range files {
		switch f.outcome {
		case aggregate.Processed:
			processed++
		case aggregate.Skipped:
			skipped++
		case aggregate.Failed:
			failedN++
		}
	}
	read := totals(datums, metric.RecordsRead)[""]
	invalid := totals(datums, metric.RecordsInvalid)[""]
	fmt.Fprintf(tw, "Files\t%d processed, %d skipped, %d failed\n", processed, skipped, failedN)
	fmt.Fprintf(tw, "Records\t%.0f read, %.0f unusable\n", read, invalid)

	events := totals(datums, metric.Events, metric.DimCategory)
	errs := totals(datums, metric.Errors, metric.DimCategory)
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
	section("Top operations (category / operation)", totals(datums, metric.Events, metric.DimCategory, metric.DimOperation))
	section("Failures (category / error code)", totals(datums, metric.Errors, metric.DimCategory, metric.DimErrorCode))

	signIn := totals(datums, metric.SignInFailures)[""]
	forgot := totals(datums, metric.ForgotPasswordRequests)[""]
	fmt.Fprintf(tw, "\nSign-in failures\t%.0f\n", signIn)
	fmt.Fprintf(tw, "ForgotPassword requests\t%.0f\n", forgot)
	roles := totals(datums, metric.IdentityPoolRoleCalls, metric.DimAuthType)
	fmt.Fprintf(tw, "Identity pool role calls\t%.0f authenticated, %.0f unauthenticated, %.0f unknown\n",
		roles[string(class.Authenticated)], roles[string(class.Unauthenticated)], roles[string(class.UnknownAuth)])
	fmt.Fprintf(tw, "Mean delivery lag\t%s\n", meanLag(datums))

	section("User pool config changes", totals(datums, metric.UserPoolConfigChanges, metric.DimOperation))
	section("Identity pool config changes", totals(datums, metric.IdentityPoolConfigChanges, metric.DimOperation))

	var notes []fileOutcome
	for _, f := range files {
		if f.outcome != aggregate.Processed || f.err != nil {
			notes = append(notes, f)
		}
	}
	if len(notes) > 0 {
		fmt.Fprintf(tw, "\nFile\tOutcome\n")
		for _, f := range notes {
			fmt.Fprintf(tw, "%s\t%s: %v\n", f.path, outcomeName(f.outcome), f.err)
		}
	}
	tw.Flush()
}

func meanLag(datums []metric.Datum) string {
	var sum, n float64
	for _, d := range datums {
		if d.Name == metric.DeliveryLagSeconds {
			sum += d.Sum()
			n += d.SampleCount()
		}
	}
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
}

func newProgress(stderr io.Writer, total int) *progress {
	p := &progress{w: stderr, total: total}
	if f, ok := stderr.(*os.File); ok && total > 20 {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

func (p *progress) step(records int) {
	p.n++
	p.records += records
	if p.on && time.Since(p.last) > 200*time.Millisecond {
		p.last = time.Now()
		fmt.Fprintf(p.w, "\rscanned %d/%d files, %d records", p.n, p.total, p.records)
	}
}

func (p *progress) done() {
	if p.on {
		fmt.Fprintf(p.w, "\rscanned %d/%d files, %d records\n", p.n, p.total, p.records)
	}
}

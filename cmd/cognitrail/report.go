package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cognitrail/cognitrail/pkg/budget"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/metric"

	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/report"
	"github.com/cognitrail/cognitrail/pkg/scan"
	"github.com/cognitrail/cognitrail/pkg/trailfile"
)

// runReport answers the developer guide's six Logs Insights queries over
// the given trail files. It shares collectInputs and scanPath with scan, so
// both commands read the same files the same way.
const reportSynopsis = `cognitrail report [flags] PATH...
Answers the Cognito developer guide's six Logs Insights queries offline.`

// reportConfig is what report's flags set.
type reportConfig struct {
	format   *choice
	maxBytes byteSize
	// conc is how many files table and json read at once.
	conc positiveInt
}

func newReportFlags() (*flag.FlagSet, *reportConfig) {
	fl := flag.NewFlagSet("report", flag.ContinueOnError)
	c := &reportConfig{format: newChoice("table", "table", "json", "html"), maxBytes: byteSize(trailfile.DefaultMaxUncompressedBytes)}
	// table is scan's and findings' word; text was report's.
	c.format.aliases = map[string]string{"text": "table"}
	fl.Var(c.format, "format", "output: `table` (text tables, as scan and findings; text is taken too), json, or html (one self-contained page: timelines per user pool, findings, addresses, configuration changes)")
	fl.Var(&c.maxBytes, "max-uncompressed-bytes", "zip-bomb guard (MAX_UNCOMPRESSED_BYTES): a file that inflates past this `size` (1048576, 500MB, 2GiB) fails")
	fl.Var(&c.conc, "concurrency", concurrencyUsage+" (table and json; html reads one file at a time)")
	return fl, c
}

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl, cfg := newReportFlags()
	if code, ok := parseFlags(fl, reportSynopsis, args, stdout, stderr); !ok {
		return code
	}
	format, maxBytes := cfg.format.value, int64(cfg.maxBytes)
	if err := checkPaths(fl.Args()); err != nil {
		return usageError(stderr, fl, reportSynopsis, "%v", err)
	}
	inputs := listInputs(stderr, fl)
	if format == "html" {
		return writeHTMLReport(ctx, inputs, maxBytes, stdout, stderr)
	}

	b := report.New()
	failed := false
	progress := newProgress(stderr, len(inputs))
	type reportFile struct {
		res scan.Result
		err error
		b   *report.Builder
	}
	// Each file into a Builder of its own, merged in name order: the
	// report orders its events by time, event ID, file and index, so the
	// merged report is the one a single Builder would make.
	ahead := readAhead(cfg.conc.workers(), len(inputs))
	read := func(ctx context.Context, i int) reportFile {
		in := inputs[i]
		if in.err != nil || in.skip != "" {
			return reportFile{}
		}
		f := reportFile{b: report.New()}
		opts := &scan.Options{
			Reader:   trailfile.Options{Name: in.path, MaxUncompressedBytes: maxBytes},
			OnRecord: f.b.Add,
		}
		// The report needs no metrics, but scan.File always aggregates:
		// the file's aggregator is dropped with it.
		f.res, f.err = scanPath(ctx, in.path, aggregate.New(nil), opts, ahead)
		return f
	}
	done := func(i int, f reportFile) error {
		in := inputs[i]
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, ok := in.unread(stderr, "report", &failed); ok {
			progress.step(0)
			return nil
		}
		b.Merge(f.b)
		res, err := f.res, f.err
		if err == nil && res.Outcome == aggregate.Failed {
			err = res.Err
		}
		if err != nil {
			// Records read before the fault stay in the report, as they
			// stay in the metrics: the file will not read better next time.
			failed = true
			fmt.Fprintln(stderr, "cognitrail report:", named(in.path, err))
		} else {
			unusableNotice(stderr, "report", in.path, res)
		}
		progress.step(res.Records)
		return nil
	}
	if err := scan.Ordered(ctx, len(inputs), cfg.conc.workers(), read, done); err != nil {
		fmt.Fprintln(stderr, "cognitrail report:", err)
		return exitFailed
	}
	progress.done()

	out := bufio.NewWriterSize(stdout, 64<<10)
	rep := b.Report()
	var err error
	if format == "json" {
		err = rep.WriteJSON(out)
	} else {
		err = rep.WriteText(out)
	}
	return finished(stderr, "report", out, err, failed)
}

// writeHTMLReport reads the files as scan does (the Lambda's defaults, one
// finding state advanced file by file) and draws the page: the summary on
// it is scan's, the numbers on its charts add up to scan's metrics.
func writeHTMLReport(ctx context.Context, inputs []input, maxBytes int64, stdout, stderr io.Writer) int {
	view := report.NewView()
	agg := aggregate.New(&aggregate.Options{Level: metric.DefaultLevel, MaxPools: aggregate.DefaultMaxPools})
	at := filesTime(inputs)
	clock := func() time.Time { return at }
	findings := finding.New(nil)
	var files []fileOutcome
	var rows []report.FileRow
	failed := false
	progress := newProgress(stderr, len(inputs))
	ahead := readAhead(1, len(inputs)) // one file at a time
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			fmt.Fprintln(stderr, "cognitrail report:", err)
			return exitFailed
		}
		if fo, ok := in.unread(stderr, "report", &failed); ok {
			agg.AddFile(fo.outcome, at)
			files = append(files, fo)
			rows = append(rows, report.FileRow{Path: in.path, Outcome: outcomeName(fo.outcome), Note: unnamed(in.path, fo.err)})
			progress.step(0)
			continue
		}
		opts := &scan.Options{
			Reader:   trailfile.Options{Name: in.path, MaxUncompressedBytes: maxBytes},
			Now:      clock,
			Findings: findings,
			OnRecord: view.Add,
		}
		opts.DeliveredAt, _ = trailfile.DeliveryTime(in.path)
		res, err := scanPath(ctx, in.path, agg, opts, ahead)
		for _, fd := range res.Findings {
			view.AddFinding(fd.Finding)
		}
		view.EndFile(findings.Recount)
		fo := fileOutcome{path: in.path, outcome: res.Outcome, err: res.Err, records: res.Records, invalid: res.Invalid}
		if err == nil {
			err = findings.Commit(ctx)
		}
		if err != nil {
			fo.outcome, fo.err = aggregate.Failed, err
			agg.AddFile(aggregate.Failed, at)
		}
		row := report.FileRow{Path: in.path, Outcome: outcomeName(fo.outcome), Records: fo.records}
		if fo.err != nil {
			row.Note = unnamed(in.path, fo.err)
		}
		if fo.outcome == aggregate.Failed {
			failed = true
			fmt.Fprintf(stderr, "cognitrail report: %s\n", named(in.path, fo.err))
		} else {
			unusableNotice(stderr, "report", in.path, res)
		}
		files = append(files, fo)
		rows = append(rows, row)
		progress.step(fo.records)
	}
	progress.done()
	if err := agg.ApplyBudget(ctx, budget.NewMemory(budget.DefaultMax)); err != nil {
		fmt.Fprintln(stderr, "cognitrail report:", err)
		return exitFailed
	}
	var summary strings.Builder
	writeSummary(&summary, sumDatums(agg.All()), files)
	out := bufio.NewWriterSize(stdout, 64<<10)
	err := view.Page(agg.PoolOf).WriteHTML(out, report.HTML{Title: "cognitrail report", Summary: summary.String(), Files: rows})
	return finished(stderr, "report", out, err, failed)
}

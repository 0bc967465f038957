package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"

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
}

func newReportFlags() (*flag.FlagSet, *reportConfig) {
	fl := flag.NewFlagSet("report", flag.ContinueOnError)
	c := &reportConfig{format: newChoice("text", "text", "json"), maxBytes: byteSize(trailfile.DefaultMaxUncompressedBytes)}
	fl.Var(c.format, "format", "output: `text` (tables) or json")
	fl.Var(&c.maxBytes, "max-uncompressed-bytes", "zip-bomb guard (MAX_UNCOMPRESSED_BYTES): a file that inflates past this `size` (1048576, 500MB, 2GiB) fails")
	return fl, c
}

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl, cfg := newReportFlags()
	if code, ok := parseFlags(fl, reportSynopsis, args, stdout, stderr); !ok {
		return code
	}
	if fl.NArg() == 0 {
		return usageError(stderr, fl, reportSynopsis, "no PATH given")
	}
	format, maxBytes := cfg.format.value, int64(cfg.maxBytes)
	if err := checkPaths(fl.Args()); err != nil {
		return usageError(stderr, fl, reportSynopsis, "%v", err)
	}
	inputs, notes := collectInputs(fl.Args(), filepath.WalkDir)
	for _, n := range notes {
		fmt.Fprintln(stderr, "cognitrail report:", n)
	}

	b := report.New()
	// The report needs no metrics, but scan.File always aggregates; one
	// aggregator for all files keeps that cost to a map of counters.
	agg := aggregate.New(nil)
	failed := false
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			fmt.Fprintln(stderr, "cognitrail report:", err)
			return exitFailed
		}
		if in.err != nil {
			failed = true
			fmt.Fprintln(stderr, "cognitrail report:", in.err)
			continue
		}
		if in.skip != "" {
			continue
		}
		opts := &scan.Options{
			Reader:   trailfile.Options{Name: in.path, MaxUncompressedBytes: maxBytes},
			OnRecord: b.Add,
		}
		res, err := scanPath(ctx, in.path, agg, opts)
		if err == nil && res.Outcome == aggregate.Failed {
			err = res.Err
		}
		if err != nil {
			// Records read before the fault stay in the report, as they
			// stay in the metrics: the file will not read better next time.
			failed = true
			fmt.Fprintln(stderr, "cognitrail report:", err)
		}
	}

	out := bufio.NewWriterSize(stdout, 64<<10)
	rep := b.Report()
	var err error
	if format == "json" {
		err = rep.WriteJSON(out)
	} else {
		err = rep.WriteText(out)
	}
	if err == nil {
		err = out.Flush()
	}
	if err != nil {
		fmt.Fprintln(stderr, "cognitrail report:", err)
		return exitFailed
	}
	if failed {
		return exitFailed
	}
	return exitOK
}

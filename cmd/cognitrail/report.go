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
func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("report", flag.ContinueOnError)
	fl.SetOutput(stderr)
	format := fl.String("format", "text", "output: text (tables) or json")
	maxBytes := fl.Int64("max-uncompressed-bytes", trailfile.DefaultMaxUncompressedBytes, "zip-bomb guard: stop reading a file past this many decompressed bytes")
	if err := fl.Parse(args); err != nil {
		return exitUsage
	}
	if fl.NArg() == 0 || (*format != "text" && *format != "json") {
		fmt.Fprint(stderr, usageString)
		return exitUsage
	}
	inputs := collectInputs(fl.Args(), filepath.WalkDir)

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
			Reader:   trailfile.Options{Name: in.path, MaxUncompressedBytes: *maxBytes},
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
	if *format == "json" {
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

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cognitrail/cognitrail/internal/lambdaapp"
	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/ocsf"
	"github.com/cognitrail/cognitrail/pkg/scan"
	"github.com/cognitrail/cognitrail/pkg/trailfile"
)

// findingRow is one row of `cognitrail findings`: a finding with the file
// and record it came from. Its JSON names are part of the CLI's contract.
type findingRow struct {
	File  string `json:"file"`
	Index int    `json:"index"`
	finding.Finding
}

const findingsSynopsis = `cognitrail findings [flags] PATH...
Lists the security findings of trail files (pkg/finding), one row per finding.`

// findingsConfig is what findings' flags set.
type findingsConfig struct {
	format      *choice
	maxBytes    byteSize
	threshold   positiveInt
	windows     windowsFlag
	securityHub bool
	conc        positiveInt
}

func newFindingsFlags() (*flag.FlagSet, *findingsConfig) {
	fl := flag.NewFlagSet("findings", flag.ContinueOnError)
	c := &findingsConfig{
		format:    newChoice("table", "table", "json", "jsonl", "ocsf"),
		maxBytes:  byteSize(trailfile.DefaultMaxUncompressedBytes),
		threshold: finding.DefaultSignInThreshold,
	}
	fl.Var(c.format, "format", "output: `table`, json (one array), jsonl (one finding per line) or ocsf (OCSF Detection Findings, one per line)")
	fl.BoolVar(&c.securityHub, "security-hub", false, "also import the findings into Security Hub (BatchImportFindings), each in its Region; a re-import updates, never duplicates")
	fl.Var(&c.maxBytes, "max-uncompressed-bytes", "zip-bomb guard (MAX_UNCOMPRESSED_BYTES): a file that inflates past this `size` (1048576, 500MB, 2GiB) fails")
	fl.Var(&c.threshold, "signin-threshold", "`n` failed sign-ins from one IP in one file that raise sign-in-failures-from-one-ip")
	fl.Var(&c.windows, "windows", "windows and thresholds of the attacks across files (ATTACK_WINDOWS): `name=value,...` of window, sprayWindow, smsWindow, stuffingFailures, stuffingSources, sprayUsers, bruteForceSources, codeFailures, smsSends, smsSourceSends, deniedCalls, refreshSources")
	fl.Var(&c.conc, "concurrency", concurrencyUsage)
	return fl, c
}

// runFindings lists the security findings of trail files, one per row.
func runFindings(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl, cfg := newFindingsFlags()
	if code, ok := parseFlags(fl, findingsSynopsis, args, stdout, stderr); !ok {
		return code
	}
	if err := checkPaths(fl.Args()); err != nil {
		return usageError(stderr, fl, findingsSynopsis, "%v", err)
	}
	format, maxBytes, threshold := &cfg.format.value, int64(cfg.maxBytes), int(cfg.threshold)
	inputs := listInputs(stderr, fl)
	out := bufio.NewWriterSize(stdout, 64<<10)
	defer out.Flush()
	enc := json.NewEncoder(out)
	engineOpts := &finding.Options{SignInThreshold: threshold, Windows: cfg.windows.w}
	// One engine judges the settings file after file, in order; files read
	// in parallel have an engine of their own for the rest (judgeWith).
	engine := finding.New(engineOpts)
	var rows []findingRow
	failed := false
	progress := newProgress(stderr, len(inputs))
	ahead := readAhead(cfg.conc.workers(), len(inputs))
	asRead := judgeAsRead(cfg.conc.workers(), len(inputs))
	read := func(ctx context.Context, i int) scannedFile {
		in := inputs[i]
		if in.err != nil || in.skip != "" {
			return scannedFile{}
		}
		// The aggregator is not reported: findings only need the scan.
		f := scannedFile{agg: aggregate.New(nil)}
		opts := &scan.Options{Reader: trailfile.Options{Name: in.path, MaxUncompressedBytes: maxBytes}}
		f.judgeWith(opts, engine, engineOpts, asRead)
		f.res, f.err = scanPath(ctx, in.path, f.agg, opts, ahead)
		return f
	}
	done := func(i int, f scannedFile) error {
		in := inputs[i]
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, ok := in.unread(stderr, "findings", &failed); ok {
			progress.step(0)
			return nil
		}
		f.res.Judge(ctx, engine, f.agg)
		f.judged()
		res := f.res
		err := res.Finish(ctx, f.err, f.agg, nil, nil)
		if err == nil {
			err = engine.Commit(ctx)
		}
		if err != nil {
			// Partial: this file's findings are not listed, and its
			// settings not remembered.
			failed = true
			fmt.Fprintf(stderr, "cognitrail findings: %s\n", named(in.path, err))
			progress.step(res.Records)
			return nil
		}
		if res.Outcome == aggregate.Failed {
			// What was read before the problem is listed, as scan counts it.
			failed = true
			fmt.Fprintf(stderr, "cognitrail findings: %s\n", named(in.path, res.Err))
		}
		unusableNotice(stderr, "findings", in.path, res)
		fileRows := make([]findingRow, len(res.Findings))
		for i, fd := range res.Findings {
			fileRows[i] = findingRow{File: in.path, Index: fd.Index, Finding: fd.Finding}
			// The address's total in the file, not the threshold it
			// crossed: the file's own engine counted it.
			f.eng.Recount(&fileRows[i].Finding)
		}
		switch *format {
		case "jsonl":
			for _, r := range fileRows {
				_ = enc.Encode(r)
			}
		case "ocsf":
			p := product()
			for _, r := range fileRows {
				_ = enc.Encode(ocsf.FromFinding(r.Finding, p))
			}
		}
		rows = append(rows, fileRows...)
		progress.step(res.Records)
		return nil
	}
	if err := scan.Ordered(ctx, len(inputs), cfg.conc.workers(), read, done); err != nil {
		fmt.Fprintln(stderr, "cognitrail findings:", err)
		return exitFailed
	}
	progress.done()
	switch *format {
	case "json":
		if rows == nil {
			rows = []findingRow{}
		}
		enc.SetIndent("", "  ")
		_ = enc.Encode(rows)
	case "table":
		writeFindings(out, rows)
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintln(stderr, "cognitrail findings:", err)
		return exitFailed
	}
	if cfg.securityHub && len(rows) > 0 {
		awsCfg, err := lambdaapp.LoadAWSConfig(ctx)
		if err == nil {
			fs := make([]finding.Finding, len(rows))
			for i, r := range rows {
				fs[i] = r.Finding
			}
			var n int
			n, err = importFindings(ctx, awsCfg, fs)
			fmt.Fprintf(stderr, "cognitrail findings: %d findings imported into Security Hub\n", n)
		}
		if err != nil {
			fmt.Fprintln(stderr, "cognitrail findings: Security Hub:", err)
			return exitFailed
		}
	}
	if failed {
		return exitFailed
	}
	return exitOK
}

func writeFindings(w io.Writer, rows []findingRow) {
	if len(rows) == 0 {
		fmt.Fprintln(w, "no findings")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tSEVERITY\tFINDING\tACCOUNT\tREGION\tPOOL\tACTOR\tSOURCE IP\tUSER AGENT\tEVENT ID\tSETTINGS")
	for _, r := range rows {
		f := r.Finding
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			f.Time.UTC().Format(time.RFC3339), f.Severity, f.Name, dash(f.Account), dash(f.Region), dash(pool(f)),
			dash(f.Actor), dash(f.SourceIP), dash(clip(f.UserAgent, 40)), dash(f.EventID), dash(settings(f)))
	}
	tw.Flush()
}

// pool names the pool, and the app client when the finding is about one.
func pool(f finding.Finding) string {
	p := f.UserPoolID
	if p == "" {
		p = f.IdentityPoolID
	}
	if f.ClientID != "" {
		p = strings.TrimSpace(p + " client " + f.ClientID)
	}
	return p
}

func settings(f finding.Finding) string {
	s := finding.FormatSettings(f.Settings)
	if f.Count > 0 {
		if s != "" {
			s += "; "
		}
		s += fmt.Sprintf("count=%d", f.Count)
	}
	return s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	// Keep the table's columns: a value may not contain a tab or newline.
	return strings.NewReplacer("\t", " ", "\n", " ").Replace(s)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// windowsFlag is --windows: finding.ParseWindows's syntax.
type windowsFlag struct {
	s string
	w finding.Windows
}

func (f *windowsFlag) String() string { return f.s }

func (f *windowsFlag) Set(s string) error {
	w, err := finding.ParseWindows(s)
	if err != nil {
		return err
	}
	f.s, f.w = s, w
	return nil
}

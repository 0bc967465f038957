// Command cognitrail runs the cognitrail engine locally: it scans CloudTrail
// log files for Amazon Cognito activity, answers the documentation's Logs
// Insights questions offline, and invokes the Lambda handler with an event
// file.
//
// Usage:
//
//	cognitrail scan [flags] PATH...
//	cognitrail findings [flags] PATH...
//	cognitrail report [flags] PATH...
//	cognitrail invoke EVENT.json
//	cognitrail backfill s3://BUCKET[/PREFIX] [--since T] [--until T] [--concurrency N] [--publish]
//	cognitrail replay [--max N] QUEUE_URL
//	cognitrail posture [--region R,...] [--format table|json|jsonl|ocsf] [--security-hub]
//
// `cognitrail --help` lists every command's flags. Every command takes its
// flags anywhere among its arguments, and "--" ends them.
//
// A PATH is a trail file (gzip or plain JSON), a directory (walked
// recursively; digest files are skipped) or "-" for standard input.
//
// Exit codes: 0 success, 1 some file failed (the others were still
// processed), 2 usage error.
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// finished is how the commands that print a report end, so that they agree
// on the exit status: output that could not be written (err) or flushed
// fails the command, said on stderr; a failed input file (failed) fails it
// too, though only after the other files' output is out.
func finished(stderr io.Writer, command string, out *bufio.Writer, err error, failed bool) int {
	if err == nil {
		err = out.Flush()
	}
	if err != nil {
		fmt.Fprintf(stderr, "cognitrail %s: %v\n", command, err)
		return exitFailed
	}
	if failed {
		return exitFailed
	}
	return exitOK
}

const usageHead = `cognitrail runs the cognitrail engine locally on CloudTrail log files.
A PATH is a trail file (gzip or JSON), a directory (walked recursively) or - for
standard input. Exit status: 0 success, 1 some file failed (the others were
still processed), 2 usage error. Every command takes its flags anywhere
among its arguments; -- ends them (a later -x is an argument). cognitrail
--version prints the build.
`

var commands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) int{
	"scan":     runScan,
	"findings": runFindings,
	"report":   runReport,
	"invoke":   runInvoke,
	"backfill": runBackfill,
	"replay":   runReplay,
	"ledger":   runLedger,
	"posture":  runPosture,
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		writeUsage(ctx, stderr)
		return exitUsage
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		writeUsage(ctx, stdout)
		return exitOK
	}
	if args[0] == "--version" || args[0] == "-version" || args[0] == "version" {
		fmt.Fprintln(stdout, version(debug.ReadBuildInfo()))
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "cognitrail: unknown command %q\n", args[0])
		writeUsage(ctx, stderr)
		return exitUsage
	}
	return cmd(ctx, args[1:], stdout, stderr)
}

// writeUsage prints the usage of every command, each from its own --help,
// which prints its flags from its flag set: no command or flag is left out.
func writeUsage(ctx context.Context, w io.Writer) {
	fmt.Fprint(w, usageHead)
	for _, name := range slices.Sorted(maps.Keys(commands)) {
		fmt.Fprintln(w)
		commands[name](ctx, []string{"--help"}, w, io.Discard)
	}
}

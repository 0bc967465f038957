// Command cognitrail runs the cognitrail engine locally: it scans CloudTrail
// log files for Amazon Cognito activity, answers the documentation's Logs
// Insights questions offline, and invokes the Lambda handler with an event
// file.
//
// Usage:
//
//	cognitrail scan [--format table|json|jsonl] [--client-pools MAP] [--resolve-clients] PATH...
//	cognitrail report [--format text|json] PATH...
//	cognitrail invoke EVENT.json
//	cognitrail backfill s3://BUCKET[/PREFIX] [--since T] [--until T] [--concurrency N] [--publish]
//	cognitrail replay [--max N] QUEUE_URL
//
// A PATH is a trail file (gzip or plain JSON), a directory (walked
// recursively; digest files are skipped) or "-" for standard input.
//
// Exit codes: 0 success, 1 some file failed (the others were still
// processed), 2 usage error.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	usageString = `usage:
  cognitrail scan [--format table|json|jsonl] [--client-pools MAP] [--resolve-clients] PATH...
  cognitrail report [--format text|json] PATH...
  cognitrail invoke EVENT.json
  cognitrail backfill s3://BUCKET[/PREFIX] [--since T] [--until T] [--concurrency N] [--publish]
  cognitrail replay [--max N] QUEUE_URL

PATH is a trail file (gzip or JSON), a directory (walked recursively) or - for stdin.
`
)

var commands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) int{
	"scan":     runScan,
	"report":   runReport,
	"invoke":   runInvoke,
	"backfill": runBackfill,
	"replay":   runReplay,
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageString)
		return exitUsage
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usageString)
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "cognitrail: unknown command %q\n%s", args[0], usageString)
		return exitUsage
	}
	return cmd(ctx, args[1:], stdout, stderr)
}

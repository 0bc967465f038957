package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cognitrail/cognitrail/internal/lambdaapp"
)

// runInvoke runs `cognitrail invoke EVENT.json`: the Lambda's handler, built
// exactly as the function builds it (same environment variables, default
// AWS configuration, so AWS_ENDPOINT_URL and AWS_REGION apply), on one event
// file. It prints the handler's response on stdout and its logs (and EMF
// lines) on stderr, so the response can be piped.
const invokeSynopsis = `cognitrail invoke EVENT.json
Runs the Lambda handler on one event file ("-" for stdin) with the default AWS
configuration and the function's environment variables (README: The Lambda
function). The response goes to stdout, the logs to stderr.`

func runInvoke(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	if code, ok := parseFlags(fs, invokeSynopsis, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(stderr, fs, invokeSynopsis, "want one EVENT.json, got %d arguments", fs.NArg())
	}
	raw, err := readEvent(fs.Arg(0))
	if err != nil {
		// Exit 1 says that Lambda would retry; an event that cannot be
		// read is the command line's fault.
		fmt.Fprintln(stderr, "cognitrail invoke:", err)
		return exitUsage
	}
	cfg, awsCfg, ok := loadConfig(ctx, "invoke", stderr)
	if !ok {
		return exitUsage
	}
	log := lambdaapp.NewLogger(cfg, stderr)
	h, err := lambdaapp.NewCLI(cfg, awsCfg, stderr, log)
	if err != nil {
		fmt.Fprintln(stderr, "cognitrail invoke:", err)
		return 1
	}
	resp, herr := h.Handle(ctx, raw)
	if resp != nil {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(resp); err != nil {
			fmt.Fprintln(stderr, "cognitrail invoke:", err)
			return 1
		}
	}
	return invokeExit(resp, herr, stderr)
}

// invokeExit is the exit status of an invocation: 1 when Lambda would retry
// something, either the whole event (the handler's error) or, for SQS, the
// messages listed in batchItemFailures; a script can then tell that the
// work is not done.
func invokeExit(resp any, herr error, stderr io.Writer) int {
	if herr != nil {
		// What Lambda would record as the invocation error (and retry).
		fmt.Fprintln(stderr, "cognitrail invoke: handler error:", herr)
		return exitFailed
	}
	if r, ok := resp.(events.SQSEventResponse); ok && len(r.BatchItemFailures) > 0 {
		fmt.Fprintf(stderr, "cognitrail invoke: %d SQS message(s) in batchItemFailures: Lambda would retry them\n", len(r.BatchItemFailures))
		return exitFailed
	}
	return exitOK
}

func readEvent(name string) (json.RawMessage, error) {
	var raw []byte
	var err error
	if name == "-" {
		raw, err = io.ReadAll(os.Stdin)
	} else {
		raw, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, err
	}
	if !json.Valid(raw) {
		return nil, fmt.Errorf("%s: not valid JSON", name)
	}
	return raw, nil
}

// Command processor is the cognitrail Lambda function (binary "bootstrap" on
// the provided.al2023 runtime): CloudTrail log files announced by S3, SQS,
// SNS or EventBridge events in, Cognito metrics out. See README, "The Lambda
// function", for its configuration.
//
// main only wires: it reads the environment, builds the SDK clients once
// (no network calls: cold starts stay short) and starts the runtime loop.
// The handler is package processor's, behind lambdaapp.Function, which
// sends EventBridge scheduled events (PostureSchedule) to package posture.
package main

import (
	"context"
	"fmt"
	stdlog "log"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cognitrail/cognitrail/internal/lambdaapp"
	"github.com/cognitrail/cognitrail/internal/runtimeapi"
)

func main() {
	cfg, err := lambdaapp.ConfigFromEnv(os.Getenv)
	if err != nil {
		// A configuration error is fatal at init: no event is consumed by a
		// function that cannot work.
		initFailed("Runtime.ConfigurationError", fmt.Errorf("configuration: %w", err))
	}
	log := lambdaapp.NewLogger(cfg, os.Stdout)
	// The runtime library writes a failed invocation's error with package
	// log, as plain text: through the JSON handler instead, so that every
	// line of the log group is a JSON object.
	stdlog.SetFlags(0)
	stdlog.SetOutput(slog.NewLogLogger(log.Handler(), slog.LevelError).Writer())
	awsCfg, err := lambdaapp.LoadAWSConfig(context.Background())
	if err != nil {
		log.Error("init", "error", err.Error())
		initFailed("Runtime.InitError", err)
	}
	h, err := lambdaapp.NewFunction(cfg, awsCfg, os.Stdout, log)
	if err != nil {
		log.Error("init", "error", err.Error())
		initFailed("Runtime.InitError", err)
	}
	lambda.Start(h.Handle)
}

// initFailed reports err to the Runtime API, so that Lambda fails the
// invocation with the message that names the setting (not a bare
// Runtime.ExitError), and exits non-zero.
func initFailed(errorType string, err error) {
	fmt.Fprintln(os.Stderr, "cognitrail:", err)
	if api := os.Getenv("AWS_LAMBDA_RUNTIME_API"); api != "" {
		if rerr := runtimeapi.ReportInitError(context.Background(), api, errorType, err); rerr != nil {
			fmt.Fprintln(os.Stderr, "cognitrail:", rerr)
		}
	}
	os.Exit(1)
}

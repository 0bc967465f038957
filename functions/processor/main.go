// Command processor is the cognitrail Lambda function (binary "bootstrap" on
// the provided.al2023 runtime): CloudTrail log files announced by S3, SQS,
// SNS or EventBridge events in, Cognito metrics out. See README, "The Lambda
// function", for its configuration.
//
// main only wires: it reads the environment, builds the SDK clients once
// (no network calls: cold starts stay short) and starts the runtime loop.
// The handler is package processor's.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cognitrail/cognitrail/internal/lambdaapp"
)

func main() {
	cfg, err := lambdaapp.ConfigFromEnv(os.Getenv)
	if err != nil {
		// A configuration error is fatal at init: Lambda reports it, and no
		// event is consumed by a function that cannot work.
		fmt.Fprintln(os.Stderr, "cognitrail: configuration:", err)
		os.Exit(1)
	}
	log := lambdaapp.NewLogger(cfg, os.Getenv, os.Stdout)
	awsCfg, err := lambdaapp.LoadAWSConfig(context.Background())
	if err != nil {
		log.Error("init", "error", err.Error())
		os.Exit(1)
	}
	h, err := lambdaapp.New(cfg, awsCfg, os.Stdout, log)
	if err != nil {
		log.Error("init", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}

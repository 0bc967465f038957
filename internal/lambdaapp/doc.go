// Package lambdaapp wires the Lambda function together: configuration from
// environment variables, the AWS SDK clients, the metric sink, the ledger and
// the logger. The Lambda's main and `cognitrail invoke` both use it, so the
// command runs exactly the deployed handler.
//
// Building the handler makes no network calls (the SDK resolves credentials
// on first use), which keeps cold starts short.
package lambdaapp

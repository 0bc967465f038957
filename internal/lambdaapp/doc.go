// Package lambdaapp wires the Lambda function together: configuration from
// environment variables, the AWS SDK clients, the metric sink, the ledger,
// the series budget and the logger. With IDEMPOTENCY_TABLE, everything that
// must outlive an execution environment lives in that table: the ledger, the
// findings' settings histories, the notices and the series budget (shared by
// every environment, so that a file resumed elsewhere cuts the same batches);
// without it, the budget is the environment's and nothing is resumed.
//
// The Lambda's main and `cognitrail invoke` both use it, so the command
// runs exactly the deployed handler.
//
// Building the handler makes no network calls (the SDK resolves credentials
// on first use), which keeps cold starts short.
package lambdaapp

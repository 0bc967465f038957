// Package processor is the Lambda's handler logic, one handler for every
// accepted event shape (see package notification): for each announced
// object, claim it in the ledger, stream it from S3 into the engine
// (scan.File into a per-file aggregate.Aggregator), publish the file's
// datums batch by batch, recording progress, and mark it done.
//
// Memory does not follow the time a file spans: records older than
// CloudWatch accepts (Options.MaxDatumAge) are counted but not aggregated
// (recordsTooOld on the object's log line), and the datums are cut into
// batches and published as the aggregator produces them; a resumed file
// cuts the same batches again and passes over those already published.
//
// Errors are sorted by what a retry can do:
//
//   - permanent (corrupt, truncated or oversized file, not CloudTrail, object
//     gone): logged, counted in FilesFailed together with whatever records
//     were read before the fault, marked done, not returned: a retry would
//     fail the same way and count again;
//   - transient (S3 5xx, network, throttling beyond the SDK's retries, the
//     invocation deadline): the claim is released and the error returned, so
//     Lambda retries the event (for SQS: that message, in batchItemFailures)
//     and, at the end, sends it to the failure destination or DLQ.
//
// S3 Batch Operations events get a result code per task instead of an error:
// Succeeded (processed or skipped), PermanentFailure (counted in FilesFailed,
// or a task naming no object) and TemporaryFailure (transient: the job
// retries the task), so a job over millions of objects reports exactly which
// ones to look at.
//
// Reading stops at the invocation deadline minus a margin for publishing; a
// file not read by then fails cleanly as transient (nothing of it published)
// rather than publishing part of it.
//
// Logs are JSON lines through slog: one per object, and one per notable
// security record (message "cognito_event") for Logs Insights queries and
// Contributor Insights rules, ranking IPs without a metric per IP. Neither
// ever carries request parameters, response elements, tokens, user names or
// values Cognito hides.
package processor

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
//     gone: S3 404, which needs s3:ListBucket, see package s3object): logged, counted in FilesFailed together with whatever records
//     were read before the fault, marked done, not returned: a retry would
//     fail the same way and count again;
//   - a batch CloudWatch refuses as invalid (a 4xx validation error,
//     sink.ErrRejected): permanent for that batch only. Its datums are
//     counted (sink.Stats.Rejected), logged once on the object's line with
//     the first refusal, and the file's other batches are published and the
//     object marked done: retrying would be refused again, and would hold
//     back every later batch of the file until the DLQ;
//   - transient (S3 5xx, S3 403 AccessDenied, network, throttling beyond the SDK's retries, the
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
// Findings (pkg/finding) are evaluated per object over a shared State, which
// moves on only once the object is published. With a Notifier they are sent
// after the object is marked done; a failed send is logged, not retried by
// failing the object (it is done). EventBridge "AWS API Call via CloudTrail"
// events carry one record: it is evaluated and notified, nothing is counted
// and the State is left to the trail file that holds the same record.
//
// Reading stops at the invocation deadline minus a margin for publishing; a
// file not read by then fails cleanly as transient (nothing of it published)
// rather than publishing part of it.
//
// Logs are JSON lines through slog: one per object, and one per notable
// security record (message "cognito_event") for Logs Insights queries and
// Contributor Insights rules, ranking IPs without a metric per IP. One line
// per security finding (message "finding") carries the fields of a
// `cognitrail findings` row. None ever carries request parameters, response
// elements, tokens, user names or values Cognito hides.
//
// The cognito_event and finding lines are kept while the object is read (at
// most Options.MaxEventLines) and written once it is done, after its last
// batch is published and the ledger has marked it: like the metrics, an
// attempt that fails transiently writes none, its retry writes them once,
// and a duplicate delivery writes none. They are written whatever the
// logger's level (LOG_LEVEL), since saved queries, rules and dashboard
// widgets are built on them; the level filters every other line.
package processor

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
// widgets are built on them; the level filters every other line.//
// # Buffered delivery
//
// With Options.Buffered (DELIVERY=buffered: S3 -> SQS -> Lambda), an SQS
// event is one batch: every object of its messages is read into its own
// aggregator (a file failing half-way is dropped whole), the aggregators
// are merged into one aggregation, and that is published once:
// ceil(datums/1000) PutMetricData requests per event, not per file. A file
// that failed permanently (corrupt, gone) is counted in FilesFailed and its
// message succeeds; a transient failure (S3 throttling, the deadline) fails
// that file's message (batchItemFailures) and the rest is still published.
// Duplicates are skipped. Event lines, notifications and the findings state
// follow the batch: members are judged one after the other over an overlay
// of the state, which is saved, and the lines written, once every member
// is done. Objects whose notification names neither a version nor an ETag
// (CloudTrail's SNS message) are processed alone, as in direct mode.
//
// The batch ledger protocol (package ledger, one table): exactly once per
// object still holds when SQS redelivers the messages one by one, in
// another grouping, to another execution environment.
//
//  1. Claim each object (UpdateItem, conditional). Done: skipped. A claim
//     that names a batch B (step 4 of an earlier attempt) is resumed with
//     B, below; the others are new.
//  2. Read each new object (GetObject) into its own aggregator; merge.
//     Apply the series budget to the merged aggregation.
//  3. Write the batch item batch#<hash of the sorted member ids> (one
//     conditional UpdateItem: a claim with a lease, like an object's),
//     listing the members (bucket, key, identity, version, event time) in
//     aggregation order, the aggregation's cut-off for old records and the
//     budget's decisions.
//  4. Join: mark each member's claim with the batch id (one conditional
//     UpdateItem each). Every member joins before anything is published,
//     and a member never leaves a published batch.
//  5. Publish the batch's datums, recording progress on the batch item after
//     each request; then mark it complete.
//  6. Finish every member, then the batch item; then write event lines,
//     send notifications, save the findings state.
//
// A retry that claims an object naming an unfinished batch B resumes B as a
// unit: it claims B's item (its lease must have expired or been released),
// claims every member B lists, those this event does not carry included,
// reads them again in the recorded order with the recorded cut-off and
// budget decisions (so the datums, and their cut into requests, are the
// same), publishes from B's progress, and finishes every member and B; the
// messages of the members it carries succeed. What a crash (or a failure
// beyond the SDK's retries) between two steps does:
//
//   - during 1 or 2: nothing is recorded but claims; their leases expire (or
//     are released) and the retry starts afresh, in whatever grouping;
//   - after 3, before or during 4: B is unpublished (progress 0). A retry
//     that meets a joined member resumes B; if one of B's members was
//     counted meanwhile by another batch, B is dissolved (its joined
//     members leave it) and they join a new batch. A retry grouping the
//     same objects again takes the same item over. Items never joined
//     expire with the table's TTL;
//   - during 5: B resumes at its progress, so no request is sent twice,
//     except the one whose answer was lost (see package ledger);
//   - after 5, before or during 6: B is complete; the retry finishes the
//     members not done and B, and reads nothing. The event lines and
//     notifications of the members so finished are lost, rather than
//     written twice (as in direct mode after Finish).
//
// Limits, as in direct mode's resume: a resumed batch equals the first
// attempt only if its members read the same. A member deleted in between
// is counted failed instead; app clients resolved differently, or findings
// judged against a state another batch moved on, can change a few datums
// and shift the cut by as much. The series budget, held in memory per
// execution environment, is not asked again on a resume: the decisions
// recorded in step 3 are replayed (aggregate.SetFolded).
//
// Skips (FilesSkipped) are published apart, one request per event that has
// any, as in direct mode.
package processor

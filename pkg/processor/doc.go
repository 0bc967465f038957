// Package processor is the Lambda's handler logic, one handler for every
// accepted event shape (see package notification): for each announced
// object, claim it in the ledger, stream it from S3 into the engine
// (scan.File into a per-file aggregate.Aggregator), publish the file's
// datums batch by batch, recording progress, and mark it done.
//
// Memory does not follow the time a file spans: records older than
// CloudWatch accepts (Options.MaxDatumAge) are counted but not aggregated
// (recordsTooOld on the object's log line), and the datums are cut into
// batches and published as the aggregator produces them.
//
// Resume. Progress is the key (metric.Key: name, dimensions, minute, first
// value) of the last datum published, recorded after each request with the
// number of requests (for the logs). The aggregator emits datums in
// ascending key order, so a retry passes over every datum whose key is at
// most the recorded one and cuts its requests from the rest. What decides
// the datums besides the file is recorded too and reused, not judged
// again: the age cut (from the clock) and the app clients a Resolver
// resolved (a warm environment's learned pairs, or a lookup, may answer
// otherwise later; a client the first attempt left unresolved stays so).
// Direct mode writes them in the same write as the first progress (no
// extra write: an attempt that recorded no progress is restarted from
// nothing, with inputs judged anew); buffered mode in the batch item,
// before anything is published. An item written by a version that recorded
// only a batch count is resumed by that count, as that version would have:
// starting it over would send its published batches again, and passing
// over by count is only wrong if the inputs moved, which that version
// risked anyway, for the few items in flight at the upgrade.
//
// Errors are sorted by what a retry can do, in one place: fault.Permanent,
// on the behaviour the package that met the failure gave it:
//
//   - permanent (corrupt, truncated or oversized file, not CloudTrail, object
//     gone: S3 404, which needs s3:ListBucket, see package s3object; or the
//     version claimed overwritten: the read sends the notification's ETag as
//     If-Match when it has no version id, and S3's 412 means that content is
//     gone from an unversioned bucket): logged, counted in FilesFailed together with whatever records
//     were read before the fault, marked done, not returned: a retry would
//     fail the same way and count again;
//   - a batch CloudWatch refuses as invalid (a 4xx validation error,
//     sink.ErrRejected): permanent for that batch only. Its datums are
//     counted (sink.Stats.Rejected), logged once on the object's line (in
//     buffered delivery, the batch's line) with the first refusal, and the file's other batches are published and the
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
// Findings (pkg/finding) are evaluated per object over a shared State,
// judged by event time (a record is never judged against its own entry).
// With a Notifier they are sent before the object's datums are published
// (in buffered delivery, also recorded with the batch item when it is
// written, before anything is sent), and the object's settings reach the
// State before it is marked done: a send or a save that fails in a way a
// retry can cure fails the object, and its retry, which judges it as the
// first time, sends what was not sent (the ledger's notices, held by the
// sender's lease, send each finding once; a refusal package alert marks
// permanent is only logged). The simulation in internal/sim holds the whole protocol to
// its invariants under every fault. EventBridge
// "AWS API Call via CloudTrail"
// events carry one record: it is evaluated and notified, nothing is counted
// and the State is left to the trail file that holds the same record.
//
// One protocol, two delivery modes. Reading is one stage (readOpened: an
// object into its own aggregator, findings and event lines, with no ledger
// and no sink; the CLI's scan reads through the same scan.File), and
// delivering another (deliver: notify, publish from the recorded progress,
// record it published, save the settings, mark done, write the lines,
// in that order), over a unit: one object claimed alone, a batch of
// objects, or nothing when idempotency is off. The units differ only in
// what they write to the ledger, so the order of the steps, on which the
// exactly-once argument rests, is written once.
//
// Reading stops at the invocation deadline minus a margin for publishing; a
// file not read by then fails cleanly as transient (nothing of it published)
// rather than publishing part of it.
//
// Logs are JSON lines through slog: one per object (and, in buffered
// delivery, one per published batch, message "batch"), one per notable
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
//
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
// another grouping, to another execution environment. A batch has a new
// random id; an object names at most one batch at a time (the item's
// "batch" attribute) and is a member only once the batch item lists it.
//
//  1. Claim each object (one conditional UpdateItem, as in direct mode),
//     naming the new batch B unless it names one already. Done: skipped. An
//     object naming an earlier batch A is counted by resuming A (below).
//  2. Read each object named B (GetObject) into its own aggregator; merge.
//     Apply the series budget to the merged aggregation.
//  3. Write B's item (one conditional UpdateItem: a claim with a lease,
//     like an object's), listing the members (bucket, key, identity,
//     version, event time, outcome: failed for a file failed permanently)
//     in aggregation order, the cut-off for old
//     records, the app client pairs the Resolver answered and the budget's
//     decisions. Objects freed from an earlier
//     batch (below) are renamed to B first (one UpdateItem each): every
//     member names B before anything is published.
//  4. Send the findings (recorded, gzipped, with B's item in step 3).
//     Publish B's datums, recording progress on B's item after each
//     request; then mark B complete.
//  5. Save the findings state; finish every member, then B; then write
//     the event lines.
//
// So a normal batch of n objects costs 2n + 3 + requests UpdateItem calls
// (direct mode: 3 per object).
//
// A retry that claims an object naming batch A resumes A. A's item missing
// (the attempt stopped before step 3): the object is free and joins the new
// batch. A done, or not listing the object (its read failed transiently): the
// object is free likewise. Otherwise A is resumed as a unit: its item is
// claimed (its lease must have expired or been released), every member it
// lists is claimed, those this event does not carry included, read again in
// the recorded order with the recorded cut-off, client pairs and budget
// decisions (so the datums are the same), published after the last datum
// A's progress names, and finished with A; the messages of the members this event
// carries succeed. What a crash (or a failure beyond the SDK's retries)
// between two steps does:
//
//   - during 1 or 2, or before B's item is written: the objects name B but B
//     does not exist; a retry, in any grouping, frees them into its own new
//     batch. Nothing was published;
//   - after 3: a retry that meets any member resumes B, from progress 0;
//   - during 4: B resumes at its progress, so no request is sent twice,
//     except the one whose answer was lost (see package ledger);
//   - after 4, before or during 5: B is complete; the retry sends the
//     recorded findings again (the notices skip those already sent), reads the
//     members not done again for their event lines only, finishes them
//     with their recorded outcomes, and B. The event lines of members
//     already finished are lost, rather than written twice (as in direct
//     mode after Finish).
//
// Should a listed member be found done while B was never published (it
// cannot: members name B before it is published, and a claimer of an
// object naming B resumes B), B is given up and its objects join a new
// batch.
//
// Limits, as in direct mode's resume: a resumed batch equals the first
// attempt only if its members read the same. A member deleted in between
// is counted failed instead, and findings judged against a state another
// batch moved on can change a few datums; a datum so changed that sorts
// after the progress is published as it now is, one before it is not
// published again, and nothing else moves. The series budget is not asked again on a
// resume: the decisions recorded in step 3 are replayed
// (aggregate.SetFolded), whatever budget the resuming environment has (its
// own memory's, when idempotency is off, could answer otherwise; the ledger
// table's would answer the same, without the requests).
//
// Skips (FilesSkipped) are published apart, one request per event that has
// any, as in direct mode.
package processor

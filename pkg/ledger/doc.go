// Package ledger makes processing an S3 object effectively exactly-once
// across at-least-once notifications and Lambda retries, with a DynamoDB
// table (string partition key "pk", TTL attribute "expiresAt").
//
// One item per object version (bucket, key and version id, ETag or
// sequencer):
//
//   - Claim takes the object with a conditional write: it succeeds when no
//     item exists, or the item is not done and its lease has expired (the
//     invocation holding it crashed or timed out). The lease runs to the
//     holder's deadline plus a grace period, so a live invocation is never
//     overtaken. A done item makes Claim report Done: the object is skipped.
//   - Advance records, after each successful PutMetricData request, the
//     caller's key of the last datum published and how many requests are
//     published, and, with the first, the caller's record of the inputs
//     that decided the datums (age cut, app client pairs). A later claim
//     returns them as After, Resume and Inputs: the caller reuses the
//     inputs and passes over every datum up to After instead of sending it
//     again. Progress, which records a count only, is what an earlier
//     version wrote: an item without After resumes by its count.
//   - Done marks the object processed (or permanently failed).
//   - Release gives the lease up after a transient failure so that the retry
//     does not wait for it to expire.
//   - Inspect reads an item. Deleting one, so that the object is processed
//     again, is an operator's action (package ledgeradmin, `cognitrail
//     ledger reset`), never the function's.
//
// Every write after the claim is conditional on the claim's token: an
// invocation that lost its lease cannot overwrite the progress of the one
// that took over.
//
// Buffered delivery adds one item per batch ("batch#" and a random id,
// batch.go): ClaimIn claims an object and names the batch in the same
// write, ClaimBatch creates the batch item listing its members (gzipped)
// and the caller's state, ResumeBatch takes an unfinished one over, and
// Published marks its datums all sent. Package processor's doc has the
// protocol and what a crash between any two steps does.
//
// Findings' settings (settings.go) are one item per watched setting
// ("setting#" and the finding.State key): its newest value ("value"), its
// history ("history", the newest finding.HistoryEntries values, each with
// its record's event time "t" and eventID "id", oldest first) and a
// "version". A write reads the item (strongly consistent), merges its
// entries (finding.Merge) and writes on the condition that the version is
// the one read (attribute_not_exists for a new item). A failed condition
// reads again and merges again: another writer's entries are kept, the
// newest value never moves back, and the SDK's retry of a write DynamoDB
// applied (its answer lost) finds its entries there, nothing to write,
// done. The TTL is DefaultSettingRetention after the last write. An item
// with a value and no history (written before histories were kept) is read
// as one entry older than any record.
//
// The one window it cannot close: if the process dies after CloudWatch
// accepted a batch and before Progress recorded it, the retry sends that one
// batch again.
package ledger

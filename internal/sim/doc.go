// Package sim is a deterministic simulation of the function's delivery
// protocol, in the manner of FoundationDB's simulation testing and
// TigerBeetle's VOPR: the real handler (package processor, with the real
// ledger, notices, finding state, series budget, CloudWatch sink and
// notifier) runs against in-memory models of DynamoDB, S3, CloudWatch and
// SNS under a scheduler that draws every decision from one seed.
//
// The models are built at the interfaces the code owns (ledger.API,
// s3object.API, cloudwatch.API, alert.API): DB evaluates the subset of
// DynamoDB's condition and update expressions the code writes, with
// DynamoDB's per-item atomicity, and refuses anything else, so a new
// expression fails the simulation rather than being judged wrongly;
// TestModelMatchesMoto holds it to moto_server on the ledger's own writes.
//
// One run (Run) writes trail files made of AWS's published records
// (pkg/class/testdata/aws), announces them (some twice, in an order drawn
// from the seed), overwrites or deletes some, and delivers them to
// execution environments that start cold or warm, one or two at a time,
// interleaved call by call. Every call may be throttled, lose its answer
// after applying (once, absorbed by the SDK's retry, or for good), or crash
// the process before or after it applies. PutMetricData requests are as
// large as CloudWatch takes or small (drawn), so resume points fall
// anywhere in a file's datums. Time moves between calls, and
// past the leases between deliveries. Once faults stop, failed deliveries
// are retried until none is left.
//
// The invariants, checked at the end (World.check):
//
//   - every announced version is done in the ledger, processed when it
//     could be read and failed only when it is gone;
//   - each basic metric series, and the per-pool sign-in series (an app
//     client counted as its pool, whichever an attempt knew), sums to an
//     independent scan of the versions processed, exactly, but for
//     PutMetricData requests CloudWatch applied that no progress write
//     recorded (their answer lost, or the attempt failed or let the unit
//     go before recording them: a publisher cannot tell them from unsent
//     ones, PutMetricData having no idempotency token), and for the age
//     cut: at most what the cut the ledger recorded keeps, at least what
//     is still young enough for CloudWatch at the end;
//   - every finding that does not depend on the state (sign-in failures
//     from one address in a file, guest access on a new identity pool) is
//     notified, and no finding more than once but for a message SNS applied
//     while its answer was lost, or whose sender crashed before marking it
//     sent;
//   - finding and cognito_event lines are written at most once, and the
//     findings' lines are written, but where a crash came after the object
//     was marked done (lines are at most once by design);
//   - no attempt fails without a fault to explain it (a lost answer the
//     SDK's retry absorbed is none).
//
// A failing seed prints the command that replays it with a trace of every
// call. `go test ./internal/sim` runs 200 seeds; `make sim SEEDS=N` runs N
// on every core.
package sim

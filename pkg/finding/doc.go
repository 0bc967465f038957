// Package finding turns the few CloudTrail records that can change a Cognito
// pool's security posture into named, severity-graded findings, and watches
// sign-in failures per source IP within one trail file.
//
// Only records whose eventSource and eventName appear in the catalog have
// their requestParameters and responseElements decoded (with encoding/json
// into narrow structs, from the record's raw bytes): every other record costs
// one category test and, for Cognito API records, one map lookup. Values
// Cognito hides (HIDDEN_DUE_TO_SECURITY_REASONS, HIDDEN_FOR_SECURITY_REASONS)
// are treated as absent, so they never trigger and are never output, and a
// failed call (non-empty errorCode) yields no configuration finding.
//
// UpdateUserPool, UpdateUserPoolClient and UpdateIdentityPool restate the
// whole configuration, so the Engine keeps each watched setting's values per
// pool or client in a State and raises only on a transition; when the
// previous value is unknown it raises, with Previous "unknown".
//
// The State is ordered by event time, not by processing order: trail files
// arrive out of order (SQS retries, Regions and accounts deliver
// independently). Each setting keeps its newest HistoryEntries values, each
// with its record's event time and eventID (the tie-break, so any order
// sorts them alike). A record is judged against the value of the newest
// entry before it: a record newer than all is judged against the newest
// value and becomes it; an older one is judged against the value as of its
// time and is filed in the history without changing the newest value; one
// older than every kept entry has its previous value unknown and raises if
// risky (the history may have forgotten its predecessor: a possible
// duplicate rather than a possible loss). A record's own entry is never its
// previous value, so a file evaluated again is judged as the first time.
// A value longer than MaxValueBytes (redirect URL lists) is kept as its
// first bytes and a SHA-256 of the whole, and a Previous shows it so.
//
// What an out-of-order file still cannot change: a record judged before an
// older record that precedes it arrived keeps its verdict. Guest access
// off at 04:00, on at 04:20, on at 04:50 processed before the file with
// "off at 04:25": the 04:50 record was judged a restatement of 04:20 and
// stays quiet, though in event time it re-enabled guest access. No finding
// is raised afterwards for a record already judged. Property tests run
// every order of small sets of records and hold each record to its
// event-time verdict whenever its predecessor came before it, and the final
// history to the same value whatever the order (state_test.go).
//
// The values seen in a file reach the State only on Commit, which the caller
// makes once it keeps the file's results: a retried file is judged as the
// first time, so its findings are neither lost nor doubled.
//
// The sign-in findings count failures per source IP within one file in a
// bounded table (space-saving), raising only on exactly observed counts.
package finding

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
// whole configuration, so the Engine keeps the last seen value of each watched
// setting per pool or client in a State and raises only on a transition; when
// the previous value is unknown it raises once, with Previous "unknown".
// The values seen in a file reach the State only on Commit, which the caller
// makes once it keeps the file's results: a retried file is judged as the
// first time, so its findings are neither lost nor doubled.
//
// The sign-in findings count failures per source IP within one file in a
// bounded table (space-saving), raising only on exactly observed counts.
package finding

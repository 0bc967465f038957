// Package fault tells a failure no retry can cure from one a retry may:
// the one rule by which the handler, the scan and the CLI decide to count
// a file failed and go on, or to return the error so that Lambda, SQS or
// the caller tries again.
//
// The packages that meet a failure say what it is, as an error behaviour
// (a Permanent() bool method, found with errors.As, as aws-sdk-go-v2's
// retryer finds RetryableError()); the deciding is done once, by
// Permanent. A failure with no such behaviour is transient: throttling,
// a 5xx, a network error or a deadline is retried, then returned.
//
// Permanent, today: a file that is not a trail file or is damaged
// (package trailfile's file errors), an object gone or overwritten
// (s3object.ErrNotFound), a batch CloudWatch refuses as invalid
// (sink.ErrRejected), findings SNS refuses for good (package alert).
package fault

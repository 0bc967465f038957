// Package cloudwatch publishes metric datums with CloudWatch PutMetricData.
//
// A file's datums are cut into requests of at most 1000 datums and about
// 1 MB (the API's limits), so a file needs ceil(datums/1000) requests in the
// normal case. Each datum carries a minute of one series as Values/Counts,
// which is what keeps that number small.
//
// Retries of throttling, 5xx and connection errors are the SDK client's job
// (its retryer, with backoff, configured where the client is built); an error
// from Publish means the retries were exhausted or the error is not
// retryable.
//
// An error by which CloudWatch says the request is invalid
// (InvalidParameterValue, InvalidParameterCombination, MissingParameter and
// the like: a 4xx that no retry cures) wraps sink.ErrRejected and counts the
// batch's datums in Stats.Rejected, so that the caller passes over that
// batch instead of retrying the file. Throttling, access denied and 5xx
// errors are returned as they are.
//
// PutMetricData is not idempotent: a request that CloudWatch applied but
// whose response was lost is applied again if retried. Nothing on the client
// side can tell the two apart; the window is one request.
package cloudwatch

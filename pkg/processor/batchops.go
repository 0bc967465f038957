package processor

import (
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cognitrail/cognitrail/pkg/notification"
)

// Result codes of an S3 Batch Operations task (the response's resultCode).
const (
	// BatchSucceeded: the object was processed, or skipped (a duplicate, or
	// not a trail log file by its key), and counted.
	BatchSucceeded = "Succeeded"
	// BatchTemporaryFailure: a transient error (S3, CloudWatch or DynamoDB
	// unavailable or throttling, the deadline); nothing of the object was
	// counted and S3 Batch Operations retries the task.
	BatchTemporaryFailure = "TemporaryFailure"
	// BatchPermanentFailure: the object cannot be read as a trail file
	// (corrupt, truncated, too large, not CloudTrail, gone), counted in
	// FilesFailed with the records read before the fault; or the task names
	// no object. A retry would fail the same way.
	BatchPermanentFailure = "PermanentFailure"
)

// maxResultString bounds a task's resultString, which S3 Batch Operations
// copies into the job's completion report, one CSV row per task.
const maxResultString = 512

// taskTally counts one task's objects by outcome (skips are counted apart).
type taskTally struct {
	processed, failed int
}

// batchResult is the result of one task: m, what became of its object, and
// err, the message's own error (permanent) joined with any transient one.
func batchResult(m notification.Message, t taskTally, skips int, err error) events.S3BatchJobResult {
	r := events.S3BatchJobResult{TaskID: m.ID, ResultCode: BatchSucceeded}
	undecodable := false
	var reasons []notification.Reason
	for _, s := range m.Skipped {
		reasons = append(reasons, s.Reason)
		undecodable = undecodable || s.Reason == notification.ReasonUndecodable
	}
	switch {
	case m.Err != nil:
		r.ResultCode, r.ResultString = BatchPermanentFailure, m.Err.Error()
	case err != nil:
		r.ResultCode, r.ResultString = BatchTemporaryFailure, err.Error()
	case undecodable:
		r.ResultCode, r.ResultString = BatchPermanentFailure, "key is not URL-encoded"
	case t.failed > 0:
		r.ResultCode = BatchPermanentFailure
		r.ResultString = "not a readable trail file: counted in FilesFailed; the function's object log line has the reason"
	case t.processed > 0:
		r.ResultString = "processed"
	case len(reasons) > 0:
		r.ResultString = fmt.Sprintf("skipped: %s", reasons[0])
	case skips > 0:
		r.ResultString = "skipped: a duplicate, or not a log file"
	default:
		// parseBatch gives every task an object, a skip or an error.
		r.ResultCode, r.ResultString = BatchPermanentFailure, errors.New("processor: task without an object").Error()
	}
	if len(r.ResultString) > maxResultString {
		r.ResultString = r.ResultString[:maxResultString]
	}
	return r
}

// batchResponse answers S3 Batch Operations in the schema it invoked with.
// treatMissingKeysAs only matters for a task missing from results, which
// does not happen: every task has a result.
func batchResponse(job *notification.BatchJob, results []events.S3BatchJobResult) events.S3BatchJobResponse {
	if results == nil {
		results = []events.S3BatchJobResult{}
	}
	return events.S3BatchJobResponse{
		InvocationSchemaVersion: job.SchemaVersion,
		TreatMissingKeysAs:      BatchPermanentFailure,
		InvocationID:            job.InvocationID,
		Results:                 results,
	}
}

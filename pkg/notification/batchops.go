package notification

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ShapeS3Batch is S3 Batch Operations' "Invoke AWS Lambda function"
// operation: one or more tasks, each naming one object of the job's
// manifest. Each task is one Message (its ID is the task id), so the handler
// can answer a result code per task.
const ShapeS3Batch Shape = "s3-batch"

// BatchJob is what an S3 Batch Operations event says of its job; the handler
// echoes SchemaVersion and InvocationID in its response.
type BatchJob struct {
	SchemaVersion string
	InvocationID  string
	JobID         string
	// UserArguments are the job's key-value pairs (schema 2.0 only). The
	// handler takes none today; they are kept for the log.
	UserArguments map[string]string
}

// batchEvent covers both invocation schemas: 1.0 names the bucket by ARN
// (s3BucketArn), 2.0 by name (s3Bucket) and adds job.userArguments.
type batchEvent struct {
	InvocationSchemaVersion string `json:"invocationSchemaVersion"`
	InvocationID            string `json:"invocationId"`
	Job                     struct {
		ID            string            `json:"id"`
		UserArguments map[string]string `json:"userArguments"`
	} `json:"job"`
	Tasks []struct {
		TaskID      string  `json:"taskId"`
		S3Key       string  `json:"s3Key"`
		S3VersionID *string `json:"s3VersionId"`
		S3BucketArn string  `json:"s3BucketArn"`
		S3Bucket    string  `json:"s3Bucket"`
	} `json:"tasks"`
}

// isBatch tells an S3 Batch Operations event by its two mandatory keys.
func isBatch(top map[string]json.RawMessage) bool {
	return top["invocationSchemaVersion"] != nil && top["tasks"] != nil
}

// parseBatch parses an S3 Batch Operations event. A task that names no
// bucket or key is a Message with Err (it fails the same way on every
// retry); the event itself fails only when it is not the documented shape.
//
// Keys are URL-decoded like S3 notification keys: in schema 1.0 S3 Batch
// Operations passes the manifest's keys URL-encoded (a CSV manifest holds
// them encoded too). Schema 2.0 is decoded the same way; for the characters
// CloudTrail puts in its keys (letters, digits, "_-./") the encoded and
// decoded forms are the same, so either reading finds the object.
func parseBatch(raw []byte) (*Event, error) {
	var b batchEvent
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("notification: S3 Batch Operations event: %w", err)
	}
	switch b.InvocationSchemaVersion {
	case "1.0", "2.0":
	default:
		return nil, fmt.Errorf("notification: S3 Batch Operations invocation schema %q, want 1.0 or 2.0", b.InvocationSchemaVersion)
	}
	if b.InvocationID == "" {
		return nil, errors.New("notification: S3 Batch Operations event without invocationId")
	}
	ev := &Event{Shape: ShapeS3Batch, Batch: &BatchJob{
		SchemaVersion: b.InvocationSchemaVersion,
		InvocationID:  b.InvocationID,
		JobID:         b.Job.ID,
		UserArguments: b.Job.UserArguments,
	}}
	for i, t := range b.Tasks {
		if t.TaskID == "" {
			return nil, fmt.Errorf("notification: S3 Batch Operations task %d has no taskId", i)
		}
		m := Message{ID: t.TaskID}
		bucket := t.S3Bucket
		if bucket == "" {
			bucket = bucketFromARN(t.S3BucketArn)
		}
		if bucket == "" || t.S3Key == "" {
			m.Err = fmt.Errorf("notification: S3 Batch Operations task %s: no bucket or key", t.TaskID)
			ev.Messages = append(ev.Messages, m)
			continue
		}
		o := Object{Bucket: bucket, Size: -1}
		if t.S3VersionID != nil {
			o.VersionID = *t.S3VersionID
		}
		add(&m, o, t.S3Key, true, false)
		ev.Messages = append(ev.Messages, m)
	}
	return ev, nil
}

// bucketFromARN returns the bucket of arn:aws:s3:::bucket (the part after
// the last colon, which also reads the Region-qualified form some examples
// show), or "" when it is not an S3 ARN.
func bucketFromARN(arn string) string {
	if !strings.HasPrefix(arn, "arn:") || !strings.Contains(arn, ":s3:") {
		return ""
	}
	return arn[strings.LastIndexByte(arn, ':')+1:]
}

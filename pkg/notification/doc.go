// Package notification turns one Lambda invocation event into the S3 objects
// it announces. One parser serves every way a new CloudTrail log file can be
// announced, so the handler has a single code path:
//
//   - an S3 event notification (several records per event);
//   - SQS messages whose body is an S3 notification, an SNS envelope of one
//     (S3 -> SNS -> SQS), an EventBridge event or CloudTrail's own SNS message;
//   - SNS messages carrying an S3 notification, or CloudTrail's own
//     notification {"s3Bucket": ..., "s3ObjectKey": [...]};
//   - EventBridge "Object Created" events (S3 -> EventBridge), for trail
//     buckets whose notification configuration is already taken;
//   - EventBridge "AWS API Call via CloudTrail" events from Amazon Cognito
//     (ShapeAPICall), directly or in SQS: no object, the CloudTrail record
//     itself in Message.APICalls, for findings within seconds;
//   - S3 Batch Operations "Invoke AWS Lambda function" events (invocation
//     schema 1.0 and 2.0), one Message per task, for reprocessing objects
//     already in a bucket.
//
// S3 notifications URL-encode object keys the way HTML forms do ("red
// flower.gz" arrives as "red+flower.gz", a literal plus as %2B); keys are
// decoded here, once, so nothing downstream sees the encoded form.
// CloudTrail's SNS message carries keys verbatim and is not decoded.
//
// Objects that cannot hold trail records are not dropped silently: they are
// returned as Skips with a Reason (test events, folders, empty objects,
// digest and Insights files, other services' logs), so the caller can count
// them.
//
// SQS messages are kept apart (Event.Messages, with their message ids) so a
// handler can report batchItemFailures for exactly the messages that failed;
// S3 Batch Operations tasks likewise, so it can answer a result code per task.
package notification

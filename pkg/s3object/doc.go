// Package s3object opens an S3 object for streaming: the GetObject body is
// handed to the trail reader as it arrives, never read whole, so memory does
// not grow with the object.
//
// It also says which failures are permanent (the object or version is gone:
// retrying cannot help) and what identifies the version read.
package s3object

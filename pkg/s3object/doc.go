// Package s3object opens an S3 object for streaming: the GetObject body is
// handed to the trail reader as it arrives, never read whole, so memory does
// not grow with the object.
//
// It also says which failures are permanent (the object or version is gone,
// 404: retrying cannot help) and what identifies the version read. A 403
// AccessDenied is not permanent (ErrAccessDenied: a policy can be fixed), and
// S3 gives it for a missing key too unless the caller may s3:ListBucket: the
// function's role has that permission so that a deleted trail file is a 404.
package s3object

package s3object

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/cognitrail/cognitrail/pkg/fault"
)

// API is the part of the S3 client used.
type API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Options configure Open.
type Options struct {
	// ExpectedBucketOwner, when set, makes S3 refuse to read from a bucket
	// owned by another account (a bucket deleted and re-created elsewhere
	// under the same name).
	ExpectedBucketOwner string
	// IfMatch, when set, is the ETag (quotes optional) of the version the
	// caller claimed: S3 then returns the object only while that is still
	// its content. On an unversioned bucket a key overwritten between the
	// notification and the read would otherwise be read as the newer
	// content, and counted once more under the older notification's claim.
	IfMatch string
}

// Object is an open object.
type Object struct {
	// Body streams the object; the caller closes it.
	Body         io.ReadCloser
	LastModified time.Time
	// ETag is without quotes.
	ETag      string
	VersionID string
	Size      int64
}

// ErrNotFound says the object (or the version asked for) does not exist: a
// permanent condition.
var ErrNotFound = fault.New("s3object: object not found")

// ErrOverwritten says the version asked for by IfMatch is no longer the
// object's (412 PreconditionFailed): it was overwritten, and its content is
// gone. It is an ErrNotFound (permanent: no retry brings it back); the newer
// content is counted under its own notification.
var ErrOverwritten = fmt.Errorf("%w: the version claimed is no longer the object's (overwritten: 412 PreconditionFailed on If-Match)", ErrNotFound)

// ErrAccessDenied says S3 refused the read (403 AccessDenied). It is not
// permanent: a policy can be fixed, and the caller retries. S3 also answers
// 403, not 404, for a key that does not exist when the caller may not list
// the bucket, so the error says both.
var ErrAccessDenied = errors.New("AccessDenied: is s3:GetObject (s3:GetObjectVersion for a version, kms:Decrypt for SSE-KMS) granted on the object, and s3:ListBucket on the bucket? Without s3:ListBucket, S3 answers 403 for a missing key too")

// Open starts reading bucket/key (at versionID when not empty). The body is
// read under ctx: its deadline also bounds the reading.
func Open(ctx context.Context, api API, bucket, key, versionID string, opts *Options) (*Object, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	if opts != nil && opts.ExpectedBucketOwner != "" {
		in.ExpectedBucketOwner = aws.String(opts.ExpectedBucketOwner)
	}
	if opts != nil && opts.IfMatch != "" {
		in.IfMatch = aws.String(`"` + strings.Trim(opts.IfMatch, `"`) + `"`)
	}
	out, err := api.GetObject(ctx, in)
	if err != nil {
		if in.IfMatch != nil && preconditionFailed(err) {
			return nil, fmt.Errorf("%w: s3://%s/%s: ETag %s: %v", ErrOverwritten, bucket, key, aws.ToString(in.IfMatch), err)
		}
		if notFound(err) {
			return nil, fmt.Errorf("%w: s3://%s/%s: %v", ErrNotFound, bucket, key, err)
		}
		if accessDenied(err) {
			return nil, fmt.Errorf("s3object: get s3://%s/%s: %w: %w", bucket, key, ErrAccessDenied, err)
		}
		return nil, fmt.Errorf("s3object: get s3://%s/%s: %w", bucket, key, err)
	}
	o := &Object{
		Body:         out.Body,
		LastModified: aws.ToTime(out.LastModified),
		ETag:         strings.Trim(aws.ToString(out.ETag), `"`),
		VersionID:    aws.ToString(out.VersionId),
		Size:         aws.ToInt64(out.ContentLength),
	}
	if o.VersionID == "null" {
		// What S3 returns for objects written before versioning was enabled.
		o.VersionID = ""
	}
	return o, nil
}

// Identity is what tells this version of the object apart, consistent with
// notification.Object.Identity.
func (o *Object) Identity() string {
	switch {
	case o.VersionID != "":
		return "v:" + o.VersionID
	case o.ETag != "":
		return "e:" + o.ETag
	}
	return ""
}

func notFound(err error) bool {
	var nsk *types.NoSuchKey
	return errors.As(err, &nsk) ||
		s3Error(err, http.StatusNotFound, "NoSuchKey", "NoSuchVersion", "NotFound") && !isBucketMissing(err)
}

func preconditionFailed(err error) bool {
	return s3Error(err, http.StatusPreconditionFailed, "PreconditionFailed")
}

func accessDenied(err error) bool {
	return s3Error(err, http.StatusForbidden, "AccessDenied")
}

// s3Error reports whether S3's answer names one of codes or has status:
// an answer without a body names no code.
func s3Error(err error, status int, codes ...string) bool {
	var api smithy.APIError
	if errors.As(err, &api) && slices.Contains(codes, api.ErrorCode()) {
		return true
	}
	var resp *smithyhttp.ResponseError
	return errors.As(err, &resp) && resp.HTTPStatusCode() == status
}

// isBucketMissing: a missing bucket is a configuration problem (or a
// bucket being re-created), not a vanished object; retrying is right.
func isBucketMissing(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "NoSuchBucket"
}

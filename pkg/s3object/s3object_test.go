package s3object

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

type fakeS3 struct {
	in  *s3.GetObjectInput
	out *s3.GetObjectOutput
	err error
}

func (f *fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.in = in
	return f.out, f.err
}

func TestOpen(t *testing.T) {
	mod := time.Date(2026, 11, 20, 10, 17, 43, 0, time.UTC)
	f := &fakeS3{out: &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader("x")), LastModified: &mod,
		ETag: aws.String(`"abc"`), VersionId: aws.String("null"), ContentLength: aws.Int64(1)}}
	o, err := Open(context.Background(), f, "b", "k", "v1", &Options{ExpectedBucketOwner: "123456789012"})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(f.in.ExpectedBucketOwner) != "123456789012" || aws.ToString(f.in.VersionId) != "v1" {
		t.Errorf("request %+v", f.in)
	}
	if o.ETag != "abc" || o.VersionID != "" || !o.LastModified.Equal(mod) || o.Identity() != "e:abc" {
		t.Errorf("object %+v", o)
	}
}

func TestNotFoundIsPermanent(t *testing.T) {
	for _, c := range []struct {
		err  error
		perm bool
	}{
		{&types.NoSuchKey{}, true},
		{&smithy.GenericAPIError{Code: "NoSuchVersion"}, true},
		{&smithy.GenericAPIError{Code: "NoSuchBucket"}, false},
		{&smithy.GenericAPIError{Code: "AccessDenied"}, false},
		{&smithy.GenericAPIError{Code: "InternalError"}, false},
		{errors.New("connection reset"), false},
	} {
		_, err := Open(context.Background(), &fakeS3{err: c.err}, "b", "k", "", nil)
		if got := errors.Is(err, ErrNotFound); got != c.perm {
			t.Errorf("%v: not found %v, want %v", c.err, got, c.perm)
		}
		denied := c.err.Error() == (&smithy.GenericAPIError{Code: "AccessDenied"}).Error()
		if got := errors.Is(err, ErrAccessDenied); got != denied {
			t.Errorf("%v: access denied %v, want %v", c.err, got, denied)
		}
		if !strings.Contains(err.Error(), "s3://b/k") {
			t.Errorf("%v: the error does not name the object: %v", c.err, err)
		}
	}
}

func TestIfMatch(t *testing.T) {
	f := &fakeS3{out: &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader("x"))}}
	if _, err := Open(context.Background(), f, "b", "k", "", &Options{IfMatch: "abc"}); err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(f.in.IfMatch); got != `"abc"` {
		t.Errorf("If-Match %q, want the quoted ETag", got)
	}
	f = &fakeS3{err: &smithy.GenericAPIError{Code: "PreconditionFailed"}}
	_, err := Open(context.Background(), f, "b", "k", "", &Options{IfMatch: `"abc"`})
	if !errors.Is(err, ErrOverwritten) || !errors.Is(err, ErrNotFound) {
		t.Errorf("412: %v, want ErrOverwritten, a permanent ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "s3://b/k") || !strings.Contains(err.Error(), `"abc"`) {
		t.Errorf("the error does not name the object and ETag: %v", err)
	}
	// Without If-Match a 412 is not read as an overwrite.
	if _, err := Open(context.Background(), f, "b", "k", "", nil); errors.Is(err, ErrNotFound) {
		t.Errorf("412 without If-Match: %v", err)
	}
}

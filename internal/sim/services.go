package sim

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// S3 is a model of one bucket, versioned or not. An unversioned key keeps
// its latest content only (an overwrite changes its ETag); a versioned one
// keeps every version until it is deleted.
type S3 struct {
	mu        sync.Mutex
	versioned bool
	objects   map[string][]Version // key -> versions, oldest first
	seq       int
}

// Version is one stored object version.
type Version struct {
	ID, ETag string
	Body     []byte
	Modified time.Time
	Deleted  bool
}

// NewS3 returns an empty bucket.
func NewS3(versioned bool) *S3 { return &S3{versioned: versioned, objects: map[string][]Version{}} }

// Put stores body under key and returns the new version.
func (b *S3) Put(key string, body []byte, at time.Time) Version {
	b.mu.Lock()
	defer b.mu.Unlock()
	sum := md5.Sum(body)
	v := Version{ETag: hex.EncodeToString(sum[:]), Body: body, Modified: at}
	if b.versioned {
		b.seq++
		v.ID = fmt.Sprintf("v%04d", b.seq)
		b.objects[key] = append(b.objects[key], v)
	} else {
		b.objects[key] = []Version{v}
	}
	return v
}

// Delete removes the key's current content (unversioned) or one version.
func (b *S3) Delete(key, versionID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	vs := b.objects[key]
	for i := range vs {
		if !b.versioned || vs[i].ID == versionID {
			vs[i].Deleted = true
		}
	}
}

// Readable reports whether the version (ETag, or id when versioned) can
// still be read.
func (b *S3) Readable(key, versionID, etag string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.find(key, versionID, etag)
	return ok
}

func (b *S3) find(key, versionID, etag string) (Version, bool) {
	vs := b.objects[key]
	for i := len(vs) - 1; i >= 0; i-- {
		v := vs[i]
		if v.Deleted || (versionID != "" && v.ID != versionID) {
			continue
		}
		if versionID == "" && i != len(vs)-1 {
			break
		}
		return v, etag == "" || v.ETag == etag
	}
	return Version{}, false
}

func httpError(status int, code string) error {
	return &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: http.Header{}}},
		Err:      &smithy.GenericAPIError{Code: code, Message: code},
	}
}

// GetObject reads a version, honouring VersionId and If-Match as S3 does:
// a missing key or version is 404 NoSuchKey / NoSuchVersion, a current
// ETag other than If-Match is 412 PreconditionFailed.
func (b *S3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	key, vid := aws.ToString(in.Key), aws.ToString(in.VersionId)
	vs := b.objects[key]
	var v *Version
	for i := len(vs) - 1; i >= 0; i-- {
		if vid == "" || vs[i].ID == vid {
			v = &vs[i]
			break
		}
	}
	if v == nil || v.Deleted {
		if vid != "" {
			return nil, &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 404, Header: http.Header{}}},
				Err:      &smithy.GenericAPIError{Code: "NoSuchVersion", Message: "The specified version does not exist."},
			}
		}
		return nil, &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 404, Header: http.Header{}}},
			Err:      &s3types.NoSuchKey{Message: aws.String("The specified key does not exist.")},
		}
	}
	if m := strings.Trim(aws.ToString(in.IfMatch), `"`); m != "" && m != v.ETag {
		return nil, httpError(http.StatusPreconditionFailed, "PreconditionFailed")
	}
	out := &s3.GetObjectOutput{
		Body:          io.NopCloser(bytes.NewReader(v.Body)),
		ETag:          aws.String(`"` + v.ETag + `"`),
		LastModified:  aws.Time(v.Modified),
		ContentLength: aws.Int64(int64(len(v.Body))),
	}
	if b.versioned {
		out.VersionId = aws.String(v.ID)
	}
	return out, nil
}

// recorder keeps every request a fake service accepts, in the order
// accepted.
type recorder[T any] struct {
	mu       sync.Mutex
	Accepted []T
}

// accept keeps in and returns how many requests are kept with it.
func (r *recorder[T]) accept(in T) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Accepted = append(r.Accepted, in)
	return len(r.Accepted)
}

// CloudWatch records every PutMetricData request it accepts.
type CloudWatch struct {
	recorder[*cw.PutMetricDataInput]
}

// PutMetricData accepts the request.
func (c *CloudWatch) PutMetricData(_ context.Context, in *cw.PutMetricDataInput, _ ...func(*cw.Options)) (*cw.PutMetricDataOutput, error) {
	c.accept(in)
	return &cw.PutMetricDataOutput{}, nil
}

// SNS records every message it accepts.
type SNS struct {
	recorder[*sns.PublishInput]
}

// Publish accepts the message.
func (s *SNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	return &sns.PublishOutput{MessageId: aws.String(fmt.Sprint(s.accept(in)))}, nil
}

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognitrail/cognitrail/internal/ledgertable"
	"github.com/cognitrail/cognitrail/internal/motoserver"
)

// pointAtMoto sends the commands' AWS requests to endpoint (moto_server, or
// a recorder in front of it) with test credentials, and hides the
// developer's own AWS profile files from them.
func pointAtMoto(t *testing.T, endpoint string) {
	t.Helper()
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	t.Setenv("AWS_REGION", motoserver.Region)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
}

// newBucket creates bucket and the ledger tables named, and returns a
// path-style S3 client (moto serves buckets by path).
func newBucket(t *testing.T, cfg aws.Config, bucket string, tables ...string) *s3.Client {
	t.Helper()
	ctx := context.Background()
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		if err := ledgertable.Create(ctx, dynamodb.NewFromConfig(cfg), table); err != nil {
			t.Fatal(err)
		}
	}
	return s3c
}

// uploadSamples puts every file under events/trails into bucket under its
// path there (slashes), calling each, when not nil, with the key and body.
func uploadSamples(t *testing.T, s3c *s3.Client, bucket string, each func(key string, body []byte) error) {
	t.Helper()
	root := filepath.Join("..", "..", "events", "trails")
	err := filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		key := filepath.ToSlash(rel)
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if _, err := s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			return err
		}
		if each != nil {
			return each(key, body)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

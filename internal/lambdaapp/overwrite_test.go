package lambdaapp

import (
	"strings"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/metric"
)

// overwriteKey is a key written twice on the test's unversioned bucket.
const overwriteKey = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/123456789012_CloudTrail_us-east-1_20261120T1000Z_ow.json.gz"

// putVersion uploads n records under overwriteKey and returns its ETag.
func (e *env) putVersion(n int, start time.Time) (etag string, size int) {
	e.t.Helper()
	body := trailFile(e.t, n, start, 7*time.Second)
	e.put(overwriteKey, body)
	return e.etag(overwriteKey), len(body)
}

// TestOverwrittenKeyReadAsClaimed: on an unversioned bucket, version A (30
// records) is overwritten by version B (50) before A's notification is
// handled. A's claim is keyed by A's ETag, so its read must not return B:
// B is counted once, by its own notification, and A's notification counts
// a failed file whose line says why. Before GetObject sent If-Match, both
// notifications read B (RecordsRead 100).
func TestOverwrittenKeyReadAsClaimed(t *testing.T) {
	for _, delivery := range []string{DeliveryDirect, DeliveryBuffered} {
		t.Run(delivery, func(t *testing.T) {
			e := newEnv(t)
			e.cfg.Delivery = delivery
			start := time.Now().Add(-2 * time.Hour).Truncate(time.Minute)
			etagA, sizeA := e.putVersion(30, start)
			etagB, sizeB := e.putVersion(50, start.Add(10*time.Minute))
			ev := s3Event(s3Record(overwriteKey, etagA, sizeA), s3Record(overwriteKey, etagB, sizeB))
			if delivery == DeliveryBuffered {
				ev = sqsEvent(ev)
			}
			if _, err := e.invoke(ev); err != nil {
				t.Fatal(err)
			}
			if got := e.statSum(metric.RecordsRead); got != 50 {
				t.Errorf("RecordsRead %v, want 50 (B once; A's content is gone)", got)
			}
			if got := e.statSum(metric.FilesFailed); got != 1 {
				t.Errorf("FilesFailed %v, want 1 (A's notification)", got)
			}
			if got := e.statSum(metric.FilesProcessed); got != 1 {
				t.Errorf("FilesProcessed %v, want 1", got)
			}
			if !strings.Contains(e.logs.String(), "overwritten: 412 PreconditionFailed") {
				t.Errorf("no object line says A was overwritten")
			}
			// Done, not retried: A's notification again is a duplicate.
			if _, err := e.invoke(ev); err != nil {
				t.Fatal(err)
			}
			if got := e.statSum(metric.FilesFailed); got != 1 {
				t.Errorf("after a redelivery FilesFailed %v, want 1", got)
			}
		})
	}
}

// TestOverwriteAfterReadCountsBoth: A read while it is the object's
// content, then overwritten by B, announced by its own notification, and
// A's notification delivered again: RecordsRead 30 + 50.
func TestOverwriteAfterReadCountsBoth(t *testing.T) {
	e := newEnv(t)
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Minute)
	etagA, sizeA := e.putVersion(30, start)
	if _, err := e.invoke(s3Event(s3Record(overwriteKey, etagA, sizeA))); err != nil {
		t.Fatal(err)
	}
	etagB, sizeB := e.putVersion(50, start.Add(10*time.Minute))
	if _, err := e.invoke(s3Event(s3Record(overwriteKey, etagA, sizeA), s3Record(overwriteKey, etagB, sizeB))); err != nil {
		t.Fatal(err)
	}
	if got := e.statSum(metric.RecordsRead); got != 80 {
		t.Errorf("RecordsRead %v, want 80", got)
	}
	if got := e.statSum(metric.FilesFailed); got != 0 {
		t.Errorf("FilesFailed %v, want 0", got)
	}
}

// TestBufferedResumeReadsTheMemberAsClaimed: a buffered batch of two
// objects dies after its batch item is written; one of them is then
// overwritten, and the retry carries only the other. The resumed batch
// reads its absent member by the ETag it recorded, not as the key is now.
func TestBufferedResumeReadsTheMemberAsClaimed(t *testing.T) {
	e, p := newProxiedEnv(t)
	e.cfg.Delivery = DeliveryBuffered
	const other = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/123456789012_CloudTrail_us-east-1_20261120T1000Z_keep.json.gz"
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Minute)
	e.put(other, trailFile(t, 20, start, 7*time.Second))
	etagA, sizeA := e.putVersion(30, start)
	p.crashWhen(func(op string, _ []byte) bool { return op == "PutMetricData" })
	first := sqsEvent(s3Event(s3Record(other, e.etag(other), 100)), s3Event(s3Record(overwriteKey, etagA, sizeA)))
	if _, err := e.invoke(first); err != nil {
		t.Fatal(err)
	}
	p.revive(t)
	e.expireLeases()
	etagB, sizeB := e.putVersion(50, start.Add(10*time.Minute))
	if out, err := e.invoke(sqsEvent(s3Event(s3Record(other, e.etag(other), 100)))); err != nil || len(failuresOf(t, out)) != 0 {
		t.Fatalf("retry: %v %v", out, err)
	}
	if out, err := e.invoke(sqsEvent(s3Event(s3Record(overwriteKey, etagB, sizeB)))); err != nil || len(failuresOf(t, out)) != 0 {
		t.Fatalf("B: %v %v", out, err)
	}
	if got := e.statSum(metric.RecordsRead); got != 20+50 {
		t.Errorf("RecordsRead %v, want 70 (the other file and B, once each)", got)
	}
	if got := e.statSum(metric.FilesFailed); got != 1 {
		t.Errorf("FilesFailed %v, want 1 (A, overwritten before the resumed batch read it)", got)
	}
}

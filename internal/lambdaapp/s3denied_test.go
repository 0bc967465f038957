package lambdaapp

import (
	"strings"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/metric"
)

const kGone = prefix + "123456789012_CloudTrail_us-east-1_20261121T1040Z_deleted.json.gz"

// TestMissingKeyWithAndWithoutListBucket: S3 answers GetObject of a key
// that does not exist with 404 NoSuchKey when the caller may s3:ListBucket,
// and with 403 AccessDenied when it may not (the proxy plays the second
// S3). Without the permission the file is a transient failure whose error
// names the key and the permissions to check, nothing is counted and the
// claim is released; with it (the template grants it) the same delivery is
// counted once in FilesFailed and marked done. A file that exists is read
// the same either way.
func TestMissingKeyWithAndWithoutListBucket(t *testing.T) {
	e, p := newProxiedEnv(t)
	p.setPlan(onEvery("GetObject", noListBucket))
	body := trailFile(t, 20, time.Now().Add(-time.Hour), 11*time.Second)
	e.put(kSpace, body)
	if _, err := e.invoke(s3Event(s3Record(kSpace, e.etag(kSpace), len(body)))); err != nil {
		t.Fatalf("an existing object without s3:ListBucket: %v", err)
	}

	gone := s3Event(s3Record(kGone, "0123456789abcdef0123456789abcdef", 2048))
	_, err := e.invoke(gone)
	if err == nil {
		t.Fatal("403 AccessDenied was not reported: the event would not be retried")
	}
	for _, want := range []string{kGone, "AccessDenied", "s3:GetObject", "s3:ListBucket"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if got := e.statSum(metric.FilesFailed); got != 0 {
		t.Fatalf("FilesFailed %v after a denied read, want 0 (retried, not counted)", got)
	}

	// The role has s3:ListBucket: S3 says 404, the file is failed and done.
	p.setPlan(nil)
	if _, err := e.invoke(gone); err != nil {
		t.Fatalf("the retry with s3:ListBucket: %v (claim not released?)", err)
	}
	if _, err := e.invoke(gone); err != nil {
		t.Fatalf("the redelivery: %v", err)
	}
	e.expected["failed"] = []metric.Datum{{Name: metric.FilesFailed, Values: []float64{1}, Counts: []float64{1}}}
	e.check(e.expect([]string{kSpace, "failed"}, map[string]float64{metric.FilesSkipped: 1}))
	line := objectLine(t, e.logs.String(), kGone)
	if line["outcome"] != "error" || !strings.Contains(line["error"].(string), "s3:ListBucket") {
		t.Errorf("first object line for the denied read: %v", line)
	}
}

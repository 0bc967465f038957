package lambdaapp

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/processor"
)

// batchTask is one task of an S3 Batch Operations event, in either schema;
// the key is URL-encoded as S3 Batch Operations passes it.
func batchTask(schema, id, key string) string {
	if schema == "1.0" {
		return fmt.Sprintf(`{"taskId":%q,"s3Key":%q,"s3VersionId":null,"s3BucketArn":"arn:aws:s3:::%s"}`, id, encodeKey(key), bucket)
	}
	return fmt.Sprintf(`{"taskId":%q,"s3Key":%q,"s3VersionId":null,"s3Bucket":%q}`, id, encodeKey(key), bucket)
}

func batchEvent(schema string, tasks ...string) string {
	return fmt.Sprintf(`{"invocationSchemaVersion":%q,"invocationId":"inv-%s","job":{"id":"job-1","userArguments":{"a":"b"}},"tasks":[%s]}`,
		schema, schema, strings.Join(tasks, ","))
}

// invokeBatch invokes the handler and returns the result codes by task id,
// checking the response echoes the invocation.
func (e *env) invokeBatch(schema string, tasks ...string) map[string]events.S3BatchJobResult {
	e.t.Helper()
	resp, err := e.invoke(batchEvent(schema, tasks...))
	if err != nil {
		e.t.Fatalf("S3 Batch Operations event returned an error (it must answer per task): %v", err)
	}
	r, ok := resp.(events.S3BatchJobResponse)
	if !ok {
		e.t.Fatalf("response %T, want events.S3BatchJobResponse", resp)
	}
	if r.InvocationSchemaVersion != schema || r.InvocationID != "inv-"+schema || r.TreatMissingKeysAs != processor.BatchPermanentFailure {
		e.t.Errorf("response header %+v", r)
	}
	if len(r.Results) != len(tasks) {
		e.t.Fatalf("%d results for %d tasks", len(r.Results), len(tasks))
	}
	out := map[string]events.S3BatchJobResult{}
	for _, res := range r.Results {
		out[res.TaskID] = res
	}
	return out
}

func wantCodes(t *testing.T, got map[string]events.S3BatchJobResult, want map[string]string) {
	t.Helper()
	for id, code := range want {
		if got[id].ResultCode != code {
			t.Errorf("task %s: %s (%q), want %s", id, got[id].ResultCode, got[id].ResultString, code)
		}
	}
}

// TestS3BatchOperations: both invocation schemas against moto_server, with
// good, corrupt, digest and malformed tasks; a file the live path already
// counted is skipped; rerunning the job counts nothing twice.
func TestS3BatchOperations(t *testing.T) {
	e := newEnv(t)
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Minute)
	corrupt := trailFile(t, 300, start, 3*time.Second)
	corrupt[len(corrupt)*9/10] ^= 0xff
	files := map[string][]byte{
		kSpace: trailFile(t, 60, start, 7*time.Second),
		kOrg:   trailFile(t, 45, start, 11*time.Second),
		kSNSCT: trailFile(t, 50, start, 5*time.Second),
		kCorr:  corrupt,
	}
	for k, b := range files {
		e.put(k, b)
	}
	// The live path counts kSNSCT first.
	if _, err := e.invoke(s3Event(s3Record(kSNSCT, e.etag(kSNSCT), len(files[kSNSCT])))); err != nil {
		t.Fatal(err)
	}
	run := func(round int) {
		t.Helper()
		v1 := e.invokeBatch("1.0", batchTask("1.0", "space", kSpace), batchTask("1.0", "corrupt", kCorr), batchTask("1.0", "digest", kDigest))
		v2 := e.invokeBatch("2.0", batchTask("2.0", "org", kOrg), batchTask("2.0", "live", kSNSCT),
			`{"taskId":"nokey","s3Key":"","s3Bucket":"`+bucket+`"}`)
		wantCodes(t, v1, map[string]string{"space": processor.BatchSucceeded, "digest": processor.BatchSucceeded})
		wantCodes(t, v2, map[string]string{"org": processor.BatchSucceeded, "live": processor.BatchSucceeded, "nokey": processor.BatchPermanentFailure})
		if round == 0 {
			wantCodes(t, v1, map[string]string{"corrupt": processor.BatchPermanentFailure})
			if v1["space"].ResultString != "processed" || !strings.Contains(v2["live"].ResultString, "skipped") {
				t.Errorf("result strings %q, %q", v1["space"].ResultString, v2["live"].ResultString)
			}
		} else if !strings.Contains(v1["space"].ResultString, "skipped") {
			t.Errorf("rerun: %q, want skipped", v1["space"].ResultString)
		}
	}
	all := []string{kSpace, kOrg, kSNSCT, kCorr}
	run(0)
	// Skipped: the digest task and kSNSCT, already counted.
	x := e.expect(all, map[string]float64{metric.FilesSkipped: 2})
	if x.sums[keyOf(metric.FilesFailed, nil)] != 1 || x.sums[keyOf(metric.FilesProcessed, nil)] != 3 {
		t.Fatalf("engine expectations: %v", x.sums)
	}
	e.check(x)
	// The job run again: every object is a duplicate (the corrupt one too:
	// it was counted once, in FilesFailed).
	run(1)
	e.check(e.expect(all, map[string]float64{metric.FilesSkipped: 2 + 5}))
}

// TestS3BatchTemporaryFailure: S3 failing beyond the SDK's retries makes the
// task a TemporaryFailure with nothing counted; S3 Batch Operations' retry
// then counts the file once.
func TestS3BatchTemporaryFailure(t *testing.T) {
	e, p := newProxiedEnv(t)
	e.put(kSpace, trailFile(t, 40, time.Now().Add(-time.Hour), 13*time.Second))
	p.setPlan(onEvery("GetObject", err5xx))
	got := e.invokeBatch("2.0", batchTask("2.0", "t", kSpace))
	wantCodes(t, got, map[string]string{"t": processor.BatchTemporaryFailure})
	if got["t"].ResultString == "" {
		t.Error("TemporaryFailure without a result string")
	}
	if n := e.statSum(metric.RecordsRead); n != 0 {
		t.Fatalf("RecordsRead %v after a temporary failure, want nothing", n)
	}
	p.setPlan(nil)
	wantCodes(t, e.invokeBatch("2.0", batchTask("2.0", "t", kSpace)), map[string]string{"t": processor.BatchSucceeded})
	e.check(e.expect([]string{kSpace}, nil))
}

package templatecheck

import (
	"strings"
	"testing"
)

// TestBatchOperationsRole: the optional role S3 Batch Operations assumes is
// absent by default; when asked for, it trusts only S3 Batch Operations,
// invokes only the processor, and reads and writes only under the job prefix.
func TestBatchOperationsRole(t *testing.T) {
	tpl := load(t)
	st, probs, err := tpl.Evaluate(Scenario{})
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	if _, ok := st.Resources["BatchOperationsRole"]; ok {
		t.Error("BatchOperationsRole exists by default")
	}
	for _, tc := range []struct {
		s       Scenario
		objects string
	}{
		{Scenario{"EnableBatchOperationsRole": "true"}, "arn:aws:s3:::{{TrailBucket}}/batch-operations/*"},
		{Scenario{"EnableBatchOperationsRole": "true", "TrailSource": "existing-bucket", "ExistingTrailBucketName": "b",
			"BatchOperationsPrefix": "jobs/cognitrail"}, "arn:aws:s3:::b/jobs/cognitrail/*"},
		{Scenario{"EnableBatchOperationsRole": "true", "BatchOperationsBucket": "manifests"}, "arn:aws:s3:::manifests/batch-operations/*"},
	} {
		st, probs, err := tpl.Evaluate(tc.s)
		if err != nil || len(probs) > 0 {
			t.Fatal(tc.s, err, probs)
		}
		role, ok := st.Resources["BatchOperationsRole"]
		if !ok {
			t.Fatalf("%v: no BatchOperationsRole", tc.s)
		}
		doc := toJSON(role)
		for _, want := range []string{
			`"Principal":{"Service":"batchoperations.s3.amazonaws.com"}`,
			`"Action":"lambda:InvokeFunction"`,
			`"Action":["s3:GetObject","s3:GetObjectVersion","s3:GetBucketLocation"]`,
			`"Action":["s3:PutObject","s3:GetBucketLocation"]`,
			tc.objects,
		} {
			if !strings.Contains(doc, want) {
				t.Errorf("%v: role lacks %s: %s", tc.s, want, doc)
			}
		}
		if strings.Contains(doc, "s3:*") || strings.Contains(doc, `"Resource":"*"`) || strings.Count(doc, "ProcessorFunction") != 2 {
			t.Errorf("%v: role wider than the function and the job prefix: %s", tc.s, doc)
		}
	}
}

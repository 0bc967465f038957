package processor

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
)

// The summary's objects are every object announced: those skipped by
// their key (a digest file, a folder) included, so that processed +
// skipped + failed add up (issue 17: "objects 2, processed 0, skipped 3").
func TestSummaryCountsObjectsSkippedByKey(t *testing.T) {
	body := sampleBody(t)
	digest := "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/20/123456789012_CloudTrail-Digest_us-east-1_trail_us-east-1_20261120T1015Z.json.gz"
	ev := json.RawMessage(`{"Records":[` + s3RecordFor(sampleKey, len(body)) + `,` + s3RecordFor(digest, 300) + `,` +
		s3RecordFor("AWSLogs/123456789012/CloudTrail/", 0) + `]}`)
	h := New(fakeS3{body}, &flakySink{}, nil, &Options{Now: samplesNow, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	res, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	sum := res.(Summary)
	if sum.Objects != 3 || sum.Processed != 1 || sum.Skipped != 2 || sum.Objects != sum.Processed+sum.Skipped+sum.Failed {
		t.Errorf("summary %+v, want 3 objects: 1 processed, 2 skipped", sum)
	}
}

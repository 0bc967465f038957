package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/cognitrail/cognitrail/internal/lambdaapp"
	"github.com/cognitrail/cognitrail/internal/motoserver"
)

// backfill --publish hands digest and Insights files to the function, whose
// key rules skip them and count them in FilesSkipped: the skipped count it
// prints is the one CloudWatch receives (issue 17: "5 skipped" printed,
// CloudWatch received 3).
func TestBackfillPublishSkipsAsTheFunction(t *testing.T) {
	srv := motoserver.StartT(t)
	ctx := context.Background()
	cfg := srv.AWSConfig()
	const bucket, table = "cognitrail-backfill-skips", "cognitrail-backfill-skips-ledger"
	s3c := newBucket(t, cfg, bucket, table)
	keyRules := 0
	uploadSamples(t, s3c, bucket, func(key string, _ []byte) error {
		if !strings.Contains(key, "/CloudTrail/") {
			keyRules++
		}
		return nil
	})
	if keyRules == 0 {
		t.Fatal("no digest or Insights file among the samples")
	}
	pointAtMoto(t, srv.Endpoint)
	t.Setenv(lambdaapp.EnvIdempotencyTable, table)
	t.Setenv(lambdaapp.EnvCloudWatchProtocol, "json")
	t.Setenv(lambdaapp.EnvNamespace, "CognitoTrailSkips")
	t.Setenv(lambdaapp.EnvMaxDatumAge, "off")
	var out, errb bytes.Buffer
	if code := runBackfill(ctx, []string{"s3://" + bucket, "--publish", "--since", "2026-11-19", "--until", "2026-11-21"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d\n%s", code, errb.String())
	}
	m := regexp.MustCompile(`(\d+) published, (\d+) skipped`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no summary: %q", out.String())
	}
	printed, _ := strconv.Atoi(m[2])
	if printed < keyRules {
		t.Errorf("%d skipped printed, want at least the %d digest and Insights files", printed, keyRules)
	}
	if got := metricSum(t, srv, "CognitoTrailSkips", "FilesSkipped"); got != float64(printed) {
		t.Errorf("CloudWatch FilesSkipped %v, backfill printed %d skipped", got, printed)
	}
}

// metricSum sums a metric of namespace over the days around the sample
// files and now (the function dates key skips by its clock).
func metricSum(t *testing.T, srv *motoserver.Server, namespace, name string) float64 {
	t.Helper()
	c := cw.NewFromConfig(srv.AWSConfig(), func(o *cw.Options) { setQuery(o) })
	var s float64
	for _, end := range []time.Time{time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), time.Now().Add(48 * time.Hour)} {
		out, err := c.GetMetricStatistics(context.Background(), &cw.GetMetricStatisticsInput{
			Namespace: aws.String(namespace), MetricName: aws.String(name),
			StartTime: aws.Time(end.Add(-96 * time.Hour)), EndTime: aws.Time(end),
			Period: aws.Int32(86400), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range out.Datapoints {
			s += aws.ToFloat64(d.Sum)
		}
	}
	return s
}

// The progress line of --publish says what it does, and shows no record
// count it does not have (it said "scanned 120/120 files, 0 records").
func TestBackfillPublishProgress(t *testing.T) {
	for _, publish := range []bool{false, true} {
		var b bytes.Buffer
		p := newBackfillProgress(&b, publish)
		p.on, p.total = true, 3
		for range 3 {
			p.step(0)
		}
		p.done()
		want := "scanned 3/3 files, 0 records"
		if publish {
			want = "published 3/3 files\n"
		}
		if !strings.HasSuffix(b.String(), want) && !strings.Contains(b.String(), want) {
			t.Errorf("publish %v: progress %q, want %q", publish, b.String(), want)
		}
		if publish && strings.Contains(b.String(), "scanned") || publish && strings.Contains(b.String(), "records") {
			t.Errorf("publish: progress %q", b.String())
		}
	}
}

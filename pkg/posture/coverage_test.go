package posture

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognitrail/cognitrail/internal/motoserver"
)

// TestCoverageAgainstMoto: trails with CloudTrail's default selectors,
// with management events excluded, and with an advanced selector for
// identity pool data events, each judged from moto_server's answers.
func TestCoverageAgainstMoto(t *testing.T) {
	srv := motoserver.StartT(t)
	ctx := context.Background()
	cfg := srv.AWSConfig()
	if _, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("trail-logs")}); err != nil {
		t.Fatal(err)
	}
	ct := cloudtrail.NewFromConfig(cfg)
	opts := Options{Account: "123456789012", Region: "us-east-1"}
	judge := func() string {
		t.Helper()
		cov, rows, err := ReadCoverage(ctx, ct, opts)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, r := range rows {
			s = append(s, fmt.Sprintf("%s %s %s=%s", r.Finding, r.Severity, r.Setting, r.Value))
		}
		return fmt.Sprintf("mgmt=%v data=%v %s", cov.Management, cov.IdentityPoolData, strings.Join(s, "; "))
	}
	if got, want := judge(), "mgmt=[] data=[] coverage-management-events-off high trails=none; coverage-identity-pool-data-events-off medium trails=none"; got != want {
		t.Errorf("no trail:\n got %s\nwant %s", got, want)
	}
	if _, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("org"), S3BucketName: aws.String("trail-logs"), IsMultiRegionTrail: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if got, want := judge(), "mgmt=[org] data=[] coverage-identity-pool-data-events-off medium trails=org"; got != want {
		t.Errorf("default selectors:\n got %s\nwant %s", got, want)
	}
	if _, err := ct.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("org"),
		EventSelectors: []cttypes.EventSelector{{IncludeManagementEvents: aws.Bool(false), ReadWriteType: cttypes.ReadWriteTypeAll}}}); err != nil {
		t.Fatal(err)
	}
	if got, want := judge(), "mgmt=[] data=[] coverage-management-events-off high trails=org; coverage-identity-pool-data-events-off medium trails=org"; got != want {
		t.Errorf("management excluded:\n got %s\nwant %s", got, want)
	}
	if _, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("cognito"), S3BucketName: aws.String("trail-logs")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ct.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("cognito"),
		AdvancedEventSelectors: []cttypes.AdvancedEventSelector{
			{Name: aws.String("management"), FieldSelectors: []cttypes.AdvancedFieldSelector{{Field: aws.String("eventCategory"), Equals: []string{"Management"}}}},
			{Name: aws.String("identity pools"), FieldSelectors: []cttypes.AdvancedFieldSelector{
				{Field: aws.String("eventCategory"), Equals: []string{"Data"}},
				{Field: aws.String("resources.type"), Equals: []string{"AWS::Cognito::IdentityPool"}}}},
		}}); err != nil {
		t.Fatal(err)
	}
	if got, want := judge(), "mgmt=[cognito] data=[cognito] "; got != want {
		t.Errorf("advanced selectors:\n got %q\nwant %q", got, want)
	}
}

package securityhub

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sh "github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/cognitrail/cognitrail/internal/motoserver"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/posture"
)

func rows(at time.Time) []posture.Row {
	mk := func(name, sev, control, res, typ, setting, value string) posture.Row {
		return posture.Row{Finding: name, Severity: sev, Control: control, Account: "123456789012", Region: "us-east-1",
			Resource: res, ResourceType: typ, Setting: setting, Value: value, Source: posture.Source, Time: at}
	}
	return []posture.Row{
		mk(finding.AppClientTokensWeakened, "medium", "", "3example45678901", posture.TypeClient, "enableTokenRevocation", "false"),
		mk(finding.AppClientTokensWeakened, "medium", "", "3example45678901", posture.TypeClient, "preventUserExistenceErrors", "LEGACY"),
		mk(finding.UserPoolMFADisabled, "high", "Cognito.5", "us-east-1_EXAMPLE", posture.TypeUserPool, "mfaConfiguration", "OFF"),
	}
}

func all(t *testing.T, api *sh.Client) map[string]types.AwsSecurityFinding {
	t.Helper()
	out, err := api.GetFindings(context.Background(), &sh.GetFindingsInput{MaxResults: aws.Int32(100)})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]types.AwsSecurityFinding{}
	for _, f := range out.Findings {
		m[aws.ToString(f.Id)] = f
	}
	return m
}

// TestImportAgainstMoto: two imports of the same posture hold one finding
// per (finding, resource); a change finding is its own; a posture finding
// no longer found is archived, resolved and passed; a finding the service
// refuses is sent again, then reported.
func TestImportAgainstMoto(t *testing.T) {
	srv := motoserver.StartT(t)
	ctx := context.Background()
	api := sh.NewFromConfig(srv.AWSConfig())
	im := New(api, 0)
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

	var fs []types.AwsSecurityFinding
	for _, g := range GroupPosture(rows(at)) {
		fs = append(fs, FromPosture(g))
	}
	change := FromFinding(finding.Finding{Time: at, Severity: finding.High, Name: finding.IdentityPoolGuestAccessEnabled,
		Account: "123456789012", Region: "us-east-1", IdentityPoolID: "us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE",
		Operation: "CreateIdentityPool", Actor: "arn:aws:iam::123456789012:user/Alice", EventID: "f1d47f93"})
	for range 2 {
		if n, err := im.Import(ctx, append(fs, change)); err != nil || n != 3 {
			t.Fatalf("import: %d, %v", n, err)
		}
	}
	got := all(t, api)
	if len(got) != 3 {
		t.Fatalf("%d findings in Security Hub, want 3", len(got))
	}
	mfa := got["cognitrail/posture/123456789012/us-east-1/user-pool-mfa-disabled/us-east-1_EXAMPLE"]
	if mfa.Severity == nil || mfa.Severity.Label != types.SeverityLabelHigh || mfa.Compliance == nil ||
		mfa.Compliance.Status != types.ComplianceStatusFailed || len(mfa.Compliance.RelatedRequirements) != 1 ||
		mfa.Compliance.RelatedRequirements[0] != "Security Hub CSPM Cognito.5" ||
		aws.ToString(mfa.Resources[0].Id) != "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_EXAMPLE" ||
		aws.ToString(mfa.ProductArn) != "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default" {
		t.Errorf("posture finding %+v", mfa)
	}
	tokens := got["cognitrail/posture/123456789012/us-east-1/app-client-tokens-weakened/3example45678901"]
	if tokens.ProductFields["cognitrail/setting/preventUserExistenceErrors"] != "LEGACY" ||
		tokens.ProductFields["cognitrail/setting/enableTokenRevocation"] != "false" {
		t.Errorf("two settings of one finding: %v", tokens.ProductFields)
	}
	if c := got["cognitrail/f1d47f93/identity-pool-guest-access-enabled"]; c.ProductFields["cognitrail/actor"] != "arn:aws:iam::123456789012:user/Alice" {
		t.Errorf("change finding %+v", c)
	}

	// The MFA is turned on: the next run no longer finds it.
	n, err := im.Resolve(ctx, "123456789012", "us-east-1", fs[:1], at.Add(24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("resolve: %d, %v", n, err)
	}
	got = all(t, api)
	mfa = got["cognitrail/posture/123456789012/us-east-1/user-pool-mfa-disabled/us-east-1_EXAMPLE"]
	if mfa.RecordState != types.RecordStateArchived || mfa.Workflow == nil || mfa.Workflow.Status != types.WorkflowStatusResolved ||
		mfa.Compliance.Status != types.ComplianceStatusPassed {
		t.Errorf("resolved finding: state %s, workflow %+v, compliance %+v", mfa.RecordState, mfa.Workflow, mfa.Compliance)
	}
	if got["cognitrail/posture/123456789012/us-east-1/app-client-tokens-weakened/3example45678901"].RecordState != types.RecordStateActive ||
		got["cognitrail/f1d47f93/identity-pool-guest-access-enabled"].RecordState != types.RecordStateActive {
		t.Error("a finding still found, or a change finding, was archived")
	}

	// A finding the service lists as failed is sent again: once failed,
	// it goes through; always failed, it is named in the error.
	flaky := &failing{API: api, left: map[string]int{"cognitrail/once": 1, "cognitrail/never": 99}}
	once, never := change, change
	once.Id, never.Id = aws.String("cognitrail/once"), aws.String("cognitrail/never")
	n, err = New(flaky, 0).Import(ctx, []types.AwsSecurityFinding{once, never})
	if n != 1 || err == nil || !strings.Contains(err.Error(), "cognitrail/never") || strings.Contains(err.Error(), "cognitrail/once") {
		t.Errorf("failed findings: %d imported, %v", n, err)
	}
	if flaky.calls != 1+DefaultRetries {
		t.Errorf("%d requests, want %d", flaky.calls, 1+DefaultRetries)
	}
}

// failing lists findings as failed, as the service answers for a finding
// it refuses or cannot take now, the given number of times each.
type failing struct {
	API
	left  map[string]int
	calls int
}

func (f *failing) BatchImportFindings(ctx context.Context, in *sh.BatchImportFindingsInput, o ...func(*sh.Options)) (*sh.BatchImportFindingsOutput, error) {
	f.calls++
	var pass []types.AwsSecurityFinding
	var failed []types.ImportFindingsError
	for _, x := range in.Findings {
		if id := aws.ToString(x.Id); f.left[id] > 0 {
			f.left[id]--
			failed = append(failed, types.ImportFindingsError{Id: x.Id, ErrorCode: aws.String("LimitExceeded"), ErrorMessage: aws.String("try again")})
			continue
		}
		pass = append(pass, x)
	}
	out := &sh.BatchImportFindingsOutput{SuccessCount: aws.Int32(0), FailedCount: aws.Int32(int32(len(failed))), FailedFindings: failed}
	if len(pass) > 0 {
		o2, err := f.API.BatchImportFindings(ctx, &sh.BatchImportFindingsInput{Findings: pass}, o...)
		if err != nil {
			return nil, err
		}
		out.SuccessCount = o2.SuccessCount
	}
	return out, nil
}

package lambdaapp

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	sh "github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/cognitrail/cognitrail/pkg/finding"
)

// hubFindings reads every finding moto's Security Hub holds, by id.
func hubFindings(t *testing.T) map[string]types.AwsSecurityFinding {
	t.Helper()
	api := sh.NewFromConfig(server.AWSConfig())
	out := map[string]types.AwsSecurityFinding{}
	p := sh.NewGetFindingsPaginator(api, &sh.GetFindingsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range page.Findings {
			out[aws.ToString(f.Id)] = f
		}
	}
	return out
}

// TestSecurityHubFromTheFunction: with SECURITY_HUB the function imports
// every finding into Security Hub (moto_server's), whatever its severity
// (SNS takes high only), with its stable id: a second file holding the
// same records (a copy, a replayed delivery under another key) updates the
// findings and adds none.
func TestSecurityHubFromTheFunction(t *testing.T) {
	e := newEnv(t)
	e.cfg.SecurityHub = true
	ctx := context.Background()
	at := time.Now().Add(-time.Hour).Truncate(time.Second)
	guest := guestAccessRecord("7f6e5d4c-0000-4000-8000-000000000001", at)
	group := guestAccessRecord("7f6e5d4c-0000-4000-8000-000000000002", at.Add(time.Second))
	group["eventSource"], group["eventName"] = "cognito-idp.amazonaws.com", "CreateGroup"
	group["requestParameters"] = map[string]any{"userPoolId": "us-east-1_EXAMPLE1", "groupName": "admins", "roleArn": "arn:aws:iam::123456789012:role/CognitoAdmins"}
	group["responseElements"] = nil
	body := recordsFile(t, guest, group)
	before := len(hubFindings(t))
	for _, k := range []string{
		findingsPrefix + "123456789012_CloudTrail_us-east-1_20261122T1400Z_hub1.json.gz",
		findingsPrefix + "123456789012_CloudTrail_us-east-1_20261122T1405Z_hub2.json.gz",
	} {
		e.put(k, body)
		if _, err := e.handler().Handle(ctx, json.RawMessage(s3Event(s3Record(k, e.etag(k), len(body))))); err != nil {
			t.Fatal(err)
		}
	}
	got := hubFindings(t)
	want := map[string]types.SeverityLabel{
		"cognitrail/7f6e5d4c-0000-4000-8000-000000000001/" + finding.IdentityPoolGuestAccessEnabled: types.SeverityLabelHigh,
		"cognitrail/7f6e5d4c-0000-4000-8000-000000000002/" + finding.GroupRoleChanged:               types.SeverityLabelHigh,
	}
	if len(got)-before != len(want) {
		t.Errorf("%d findings imported, want %d (one per finding, the copy updating them): %v", len(got)-before, len(want), keys(got))
	}
	for id, sev := range want {
		f, ok := got[id]
		if !ok || f.Severity == nil || f.Severity.Label != sev {
			t.Errorf("finding %s: %+v, want severity %s", id, f, sev)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestScheduledPostureToSecurityHub: with SECURITY_HUB and the posture
// schedule, a run imports the Region's risky settings as posture findings
// (the control each fails), and the next complete run, no longer finding
// one (the pool was deleted), archives it as resolved, as `posture
// --security-hub` does.
func TestScheduledPostureToSecurityHub(t *testing.T) {
	e := newEnv(t)
	e.state = nil
	e.cfg.Posture, e.cfg.SecurityHub = true, true
	ctx := context.Background()
	idp := cip.NewFromConfig(server.AWSConfig())
	pool := createNoMFAPool(t, idp)
	pid := aws.ToString(pool.UserPool.Id)
	f := e.function()
	if f.Posture == nil || f.Posture.Rows == nil {
		t.Fatalf("posture run %+v: no Security Hub rows", f.Posture)
	}
	onMoto(f.Posture)
	id := "cognitrail/posture/123456789012/us-east-1/" + finding.UserPoolMFADisabled + "/" + pid
	runScheduled(t, f, "run-1")
	mfa, ok := hubFindings(t)[id]
	if !ok || mfa.RecordState != types.RecordStateActive || mfa.Compliance == nil ||
		mfa.Compliance.Status != types.ComplianceStatusFailed || len(mfa.Compliance.RelatedRequirements) != 1 {
		t.Fatalf("after the first run %s: %+v (found %v), want active and FAILED with its control", id, mfa, ok)
	}
	if _, err := idp.DeleteUserPool(ctx, &cip.DeleteUserPoolInput{UserPoolId: pool.UserPool.Id}); err != nil {
		t.Fatal(err)
	}
	runScheduled(t, f, "run-2")
	mfa = hubFindings(t)[id]
	if mfa.RecordState != types.RecordStateArchived || mfa.Workflow == nil || mfa.Workflow.Status != types.WorkflowStatusResolved {
		t.Errorf("after the pool went: %s state %s, workflow %+v; want archived, resolved", id, mfa.RecordState, mfa.Workflow)
	}
}

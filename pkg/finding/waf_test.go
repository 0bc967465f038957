package finding

import (
	"context"
	"slices"
	"testing"

	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/record"
)

// A user pool's web ACL removed is named by the pool the ARN gives (the
// record has no userPoolId) and its Region; the file's other records and
// Cognito's own calls are not WAF's.
func TestWAFRemovedNamesThePool(t *testing.T) {
	const raw = `{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::123456789012:assumed-role/Admin/s","accountId":"123456789012"},"eventTime":"2026-11-20T10:00:00Z","eventSource":"wafv2.amazonaws.com","eventName":"DisassociateWebACL","awsRegion":"eu-west-1","sourceIPAddress":"192.0.2.1","userAgent":"console.amazonaws.com","requestParameters":{"resourceArn":"arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_EXAMPLE7"},"responseElements":null,"eventID":"waf-1","recipientAccountId":"123456789012"}`
	var r record.Record
	if _, err := record.NewParser().Parse([]byte(raw), &r); err != nil {
		t.Fatal(err)
	}
	c := class.Classify(&r)
	if !Stateful(&r, &c) {
		t.Fatal("DisassociateWebACL is not judged")
	}
	e := New(nil)
	e.StartFile()
	got := e.Observe(context.Background(), &r, &c, []byte(raw))
	if len(got) != 1 || got[0].Name != UserPoolWAFRemoved || got[0].UserPoolID != "eu-west-1_EXAMPLE7" ||
		got[0].Region != "eu-west-1" || got[0].Severity != High || got[0].Operation != "DisassociateWebACL" {
		t.Fatalf("findings %+v", got)
	}
	r.EventSource = class.SourceUserPool
	c = class.Classify(&r)
	if Stateful(&r, &c) {
		t.Error("a Cognito operation named DisassociateWebACL is judged as WAF's")
	}
}

// A risk configuration of an app client names the client, and each
// weakened setting with its earlier value.
func TestRiskConfigurationNamesTheClient(t *testing.T) {
	const raw = `{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::123456789012:assumed-role/Admin/s","accountId":"123456789012"},"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-idp.amazonaws.com","eventName":"SetRiskConfiguration","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.1","userAgent":"console.amazonaws.com","requestParameters":{"userPoolId":"us-east-1_EXAMPLE1","clientId":"3example45678901","compromisedCredentialsRiskConfiguration":{"actions":{"eventAction":"NO_ACTION"}},"accountTakeoverRiskConfiguration":{"actions":{"highAction":{"eventAction":"NO_ACTION","notify":false}}},"riskExceptionConfiguration":{"skippedIPRangeList":["192.0.2.0/24"]}},"responseElements":null,"eventID":"risk-1","recipientAccountId":"123456789012"}`
	var r record.Record
	if _, err := record.NewParser().Parse([]byte(raw), &r); err != nil {
		t.Fatal(err)
	}
	c := class.Classify(&r)
	e := New(nil)
	e.StartFile()
	got := e.Observe(context.Background(), &r, &c, []byte(raw))
	if len(got) != 1 || got[0].Name != UserPoolRiskConfigurationWeakened || got[0].ClientID != "3example45678901" || got[0].UserPoolID != "us-east-1_EXAMPLE1" {
		t.Fatalf("findings %+v", got)
	}
	want := []Setting{
		{Name: "compromisedCredentialsRiskConfiguration.actions.eventAction", Value: "NO_ACTION", Previous: PreviousUnknown},
		{Name: "accountTakeoverRiskConfiguration.actions.highAction.eventAction", Value: "NO_ACTION", Previous: PreviousUnknown},
		{Name: "riskExceptionConfiguration.skippedIPRangeList", Value: "192.0.2.0/24", Previous: PreviousUnknown},
	}
	if !slices.Equal(got[0].Settings, want) {
		t.Errorf("settings %+v, want %+v (a notification never known on is not turned off)", got[0].Settings, want)
	}
}

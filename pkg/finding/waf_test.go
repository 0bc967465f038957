package finding

import (
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
	got := e.Observe(&r, &c, []byte(raw))
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

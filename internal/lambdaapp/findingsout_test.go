package lambdaapp

import (
	"context"
	"testing"
	"time"

	sh "github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/smithy-go"

	cfault "github.com/cognitrail/cognitrail/pkg/fault"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/securityhub"
)

// refusingHub answers every import with err.
type refusingHub struct{ err error }

func (r refusingHub) BatchImportFindings(context.Context, *sh.BatchImportFindingsInput, ...func(*sh.Options)) (*sh.BatchImportFindingsOutput, error) {
	return nil, r.err
}

func (r refusingHub) GetFindings(context.Context, *sh.GetFindingsInput, ...func(*sh.Options)) (*sh.GetFindingsOutput, error) {
	return nil, r.err
}

// A refusal Security Hub repeats (not enabled in the Region, no grant) is
// permanent: the processor logs it and the file goes on; throttling is
// not, and the file is retried.
func TestSecurityHubRefusalIsPermanent(t *testing.T) {
	fs := []finding.Finding{{Name: finding.GroupRoleChanged, Severity: finding.High, EventID: "e1", Account: "123456789012", Region: "us-east-1"}}
	for code, permanent := range map[string]bool{
		"InvalidAccessException": true, "AccessDeniedException": true, "InvalidInputException": true,
		"ThrottlingException": false, "InternalException": false,
	} {
		out := findingsOut{hub: securityhub.New(refusingHub{&smithy.GenericAPIError{Code: code}}, 0)}
		_, err := out.Notify(context.Background(), fs, time.Now())
		if err == nil || cfault.Permanent(err) != permanent {
			t.Errorf("%s: %v (permanent %v), want an error, permanent %v", code, err, cfault.Permanent(err), permanent)
		}
	}
}

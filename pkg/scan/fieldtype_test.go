package scan_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/record"
	"github.com/cognitrail/cognitrail/pkg/scan"
	"github.com/cognitrail/cognitrail/pkg/trailfile"
)

// A record whose eventSource is a number is counted unusable and named,
// not counted as some other service's call (issue 17, "Wrong figures").
func TestWrongTypeIsCountedInvalid(t *testing.T) {
	const rec = `{"eventVersion":"1.08","eventTime":"2026-11-20T10:00:00Z","eventSource":%s,"eventName":"InitiateAuth","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","requestParameters":{"clientId":"1example23456789"}}`
	file := `{"Records":[` + strings.Replace(rec, "%s", `"cognito-idp.amazonaws.com"`, 1) + "," +
		strings.Replace(rec, "%s", `5`, 1) + "," +
		strings.Replace(rec, "%s", `"cognito-idp.amazonaws.com"`, 1) + `]}`
	agg := aggregate.New(nil)
	res, err := scan.File(context.Background(), strings.NewReader(file), agg, &scan.Options{Reader: trailfile.Options{Name: "types.json"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 2 || res.Invalid != 1 || res.ByCategory[class.Other] != 0 {
		t.Errorf("records %d, invalid %d, other %d; want 2, 1, 0", res.Records, res.Invalid, res.ByCategory[class.Other])
	}
	var te *trailfile.Error
	if !errors.Is(res.Err, record.ErrFieldType) || !errors.As(res.Err, &te) || te.Index != 1 ||
		!strings.Contains(res.Err.Error(), "eventSource is a number") {
		t.Errorf("error %v, want record 1's eventSource named", res.Err)
	}
	if got := files(slices.Collect(agg.All()))["RecordsInvalid"]; got != 1 {
		t.Errorf("RecordsInvalid %v, want 1", got)
	}
}

// A configuration call whose setting has the wrong type is counted
// unusable and named, not judged (a numeric mfaConfiguration became a
// setting value).
func TestWrongTypeSettingIsCountedInvalid(t *testing.T) {
	const rec = `{"eventVersion":"1.08","eventTime":"2026-11-20T10:0%d:00Z","eventSource":"cognito-idp.amazonaws.com","eventName":"SetUserPoolMfaConfig","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","requestParameters":{"userPoolId":"us-east-1_EXAMPLE1","mfaConfiguration":%s},"eventID":"e%d","recipientAccountId":"123456789012"}`
	file := `{"Records":[` + fmt.Sprintf(rec, 1, `1`, 1) + "," + fmt.Sprintf(rec, 2, `"OFF"`, 2) + `]}`
	agg := aggregate.New(nil)
	var found []finding.Finding
	res, err := scan.File(context.Background(), strings.NewReader(file), agg, &scan.Options{
		Reader: trailfile.Options{Name: "mfa.json"}, Findings: finding.New(nil),
		OnRecord: func(ev *scan.Event) { found = append(found, ev.Findings...) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 1 || res.Invalid != 1 {
		t.Errorf("records %d, invalid %d; want 1 and 1", res.Records, res.Invalid)
	}
	var te *trailfile.Error
	if !errors.Is(res.Err, finding.ErrRequest) || !errors.As(res.Err, &te) || te.Index != 0 ||
		!strings.Contains(res.Err.Error(), "mfaConfiguration") || !strings.Contains(res.Err.Error(), "mfa.json: record 0") {
		t.Errorf("error %v, want record 0's mfaConfiguration named", res.Err)
	}
	t.Log(res.Err)
	if len(found) != 1 || found[0].Settings[0].Previous != finding.PreviousUnknown {
		t.Errorf("findings %+v, want MFA off with previous unknown", found)
	}
	if got := files(slices.Collect(agg.All()))["RecordsInvalid"]; got != 1 {
		t.Errorf("RecordsInvalid %v, want 1", got)
	}
}

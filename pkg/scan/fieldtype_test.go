package scan_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/class"
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
	if got := files(agg.Datums())["RecordsInvalid"]; got != 1 {
		t.Errorf("RecordsInvalid %v, want 1", got)
	}
}

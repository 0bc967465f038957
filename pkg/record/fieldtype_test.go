package record_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/pkg/record"
)

// A member the record is classified by that is not a string makes the
// record unusable, named, where it used to be read as its text (a numeric
// eventSource counted as category other; issue 17, "Wrong figures").
func TestWrongTypeMakesTheRecordUnusable(t *testing.T) {
	const head = `{"eventTime":"2026-11-20T10:00:00Z",`
	for _, tc := range []struct{ in, field string }{
		{`"eventSource":5,"eventName":"InitiateAuth"}`, "eventSource is a number"},
		{`"eventSource":"cognito-idp.amazonaws.com","eventName":true}`, "eventName is a boolean"},
		{`"eventSource":"cognito-idp.amazonaws.com","errorCode":{"code":"X"}}`, "errorCode is an object"},
		{`"sourceIPAddress":["203.0.113.9"]}`, "sourceIPAddress is an array"},
		{`"awsRegion":1}`, "awsRegion is a number"},
		{`"recipientAccountId":123456789012}`, "recipientAccountId is a number"},
		{`"eventID":7}`, "eventID is a number"},
		{`"readOnly":1}`, "readOnly is a number"},
		// The first wrong member is named.
		{`"eventName":1,"eventSource":2}`, "eventName is a number"},
	} {
		in := head + tc.in
		var r record.Record
		n, err := record.NewParser().Parse([]byte(in+",next"), &r)
		if !errors.Is(err, record.ErrFieldType) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: error %v, want ErrFieldType saying %q", in, err, tc.field)
		}
		if n != len(in) {
			t.Errorf("%s: consumed %d bytes, want %d (reading goes on after it)", in, n, len(in))
		}
	}
	// null is absent, not a wrong type; readOnly is a boolean or a string.
	for _, in := range []string{
		head + `"eventSource":null,"errorCode":null,"eventName":"X"}`,
		head + `"readOnly":false}`,
		head + `"readOnly":"true"}`,
	} {
		var r record.Record
		if _, err := record.NewParser().Parse([]byte(in), &r); err != nil {
			t.Errorf("%s: %v", in, err)
		}
		if r.ErrorCode != "" || r.EventSource != "" {
			t.Errorf("%s: null read as %q, %q", in, r.ErrorCode, r.EventSource)
		}
	}
}

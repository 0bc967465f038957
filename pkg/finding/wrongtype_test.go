package finding

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/record"
)

// A setting of the wrong type makes the record unusable, named, instead of
// becoming a setting's value (a numeric mfaConfiguration reported later as
// "previous 1"; issue 17, "Wrong figures").
func TestWrongTypeSettingIsRejected(t *testing.T) {
	c := loadCorpus(t)
	for _, tc := range []struct {
		name, member string
		req          map[string]any
	}{
		{"SetUserPoolMfaConfig", "mfaConfiguration", map[string]any{"mfaConfiguration": 1}},
		{"UpdateUserPool", "mfaConfiguration", map[string]any{"mfaConfiguration": true}},
		{"UpdateUserPool", "minimumLength", map[string]any{"policies": map[string]any{"passwordPolicy": map[string]any{"minimumLength": "6"}}}},
		{"UpdateUserPool", "allowAdminCreateUserOnly", map[string]any{"adminCreateUserConfig": map[string]any{"allowAdminCreateUserOnly": 0}}},
		{"UpdateUserPoolClient", "enableTokenRevocation", map[string]any{"clientId": "1example23456789", "enableTokenRevocation": "false"}},
	} {
		t.Run(tc.name+"/"+tc.member, func(t *testing.T) {
			e := New(nil)
			e.StartFile()
			p := record.NewParser()
			req := map[string]any{"userPoolId": "us-east-1_EXAMPLE1"}
			for k, v := range tc.req {
				req[k] = v
			}
			raw := c.record(t, "userpool", c.step(t, "userpool", 0, map[string]any{"eventName": tc.name, "requestParameters": req}))
			if got := observe(t, e, p, raw); len(got) != 0 {
				t.Errorf("findings %+v from a wrongly typed setting", got)
			}
			err := e.Rejected()
			if !errors.Is(err, ErrRequest) || !strings.Contains(err.Error(), tc.member) {
				t.Errorf("Rejected() = %v, want ErrRequest naming %s", err, tc.member)
			}
			// The value was not kept: the next record with a risky value
			// is judged against an unknown previous one.
			if tc.member == "mfaConfiguration" {
				raw = c.record(t, "userpool", c.step(t, "userpool", 1, map[string]any{"eventName": tc.name,
					"requestParameters": map[string]any{"userPoolId": "us-east-1_EXAMPLE1", "mfaConfiguration": "OFF"}}))
				got := observe(t, e, p, raw)
				if e.Rejected() != nil {
					t.Errorf("a good record rejected: %v", e.Rejected())
				}
				if len(got) != 1 || len(got[0].Settings) != 1 || got[0].Settings[0].Previous != PreviousUnknown {
					t.Errorf("findings %+v, want one with previous %q", got, PreviousUnknown)
				}
			}
		})
	}
	// Observe clears the rejection of the record before.
	e := New(nil)
	e.StartFile()
	var r record.Record
	r.EventSource, r.EventName = "cognito-idp.amazonaws.com", "SetUserPoolMfaConfig"
	cl := class.Classify(&r)
	e.Observe(context.Background(), &r, &cl, []byte(`{"requestParameters":{"mfaConfiguration":1}}`))
	if e.Rejected() == nil {
		t.Fatal("not rejected")
	}
	e.Observe(context.Background(), &r, &cl, []byte(`{"requestParameters":{"mfaConfiguration":"ON"}}`))
	if e.Rejected() != nil {
		t.Errorf("rejection kept: %v", e.Rejected())
	}
}

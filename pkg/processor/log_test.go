package processor

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/record"
	"github.com/cognitrail/cognitrail/pkg/scan"
)

func TestNotableReason(t *testing.T) {
	for _, c := range []struct {
		c    class.Class
		want string
	}{
		{class.Class{SignIn: true, Failed: true}, ReasonSignInFailure},
		{class.Class{SignIn: true}, ""},
		{class.Class{ForgotPassword: true, Failed: true}, ReasonForgotPassword},
		{class.Class{ConfigChange: true}, ReasonConfigChange},
		{class.Class{AuthType: class.Unauthenticated}, ReasonUnauthenticatedRoleCall},
		{class.Class{AuthType: class.Authenticated}, ""},
		{class.Class{}, ""},
	} {
		if got := notableReason(&c.c); got != c.want {
			t.Errorf("%+v: %q, want %q", c.c, got, c.want)
		}
	}
}

func TestNotableLineDropsHiddenAndEmpty(t *testing.T) {
	var buf bytes.Buffer
	h := New(nil, nil, nil, &Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	r := &record.Record{
		EventTime: time.Date(2026, 11, 20, 10, 0, 43, 0, time.UTC), EventSource: "cognito-idp.amazonaws.com",
		EventName: "InitiateAuth", SourceIPAddress: "192.0.2.65", Sub: record.HiddenValue, AWSRegion: "us-east-1",
	}
	c := &class.Class{Category: class.UserPoolAPI, SignIn: true, Failed: true, ErrorCode: "NotAuthorizedException", Account: "123456789012"}
	l := eventLines{max: 10}
	l.add(&scan.Event{Record: r, Class: c})
	h.writeEvents(context.Background(), &l)
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"msg": NotableMsg, "reason": ReasonSignInFailure, "eventTime": "2026-11-20T10:00:43Z",
		"eventSource": "cognito-idp.amazonaws.com", "eventName": "InitiateAuth", "category": "user-pool-api",
		"errorCode": "NotAuthorizedException", "sourceIPAddress": "192.0.2.65", "awsRegion": "us-east-1", "account": "123456789012",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	for _, k := range []string{"sub", "userPoolId", "identityPoolId"} {
		if _, ok := m[k]; ok {
			t.Errorf("%s logged: %s", k, buf.String())
		}
	}
	if strings.Contains(buf.String(), "HIDDEN") {
		t.Error("hidden value logged")
	}
}

func TestFindingLine(t *testing.T) {
	var buf bytes.Buffer
	// As deployed: Lambda's JSON log format renames every top-level "time"
	// attribute to "timestamp" (lambdacontext.ReplaceAttr).
	h := New(nil, nil, nil, &Options{Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: lambdacontext.ReplaceAttr}))})
	f := finding.Finding{
		Time: time.Date(2026, 11, 20, 10, 0, 43, 0, time.UTC), Severity: finding.High, Name: "identity-pool-guest-access-enabled",
		Account: "123456789012", Region: "us-east-1", IdentityPoolID: "us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE",
		Operation: "UpdateIdentityPool", Actor: "arn:aws:iam::123456789012:user/Admin", SourceIP: record.HiddenValue,
		EventID: "e1", Settings: []finding.Setting{{Name: "allowUnauthenticatedIdentities", Value: "true", Previous: "false"}, {Name: "x", Value: record.HiddenValueDoc}},
	}
	h.finding(context.Background(), &f)
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"message": FindingMsg, "eventTime": "2026-11-20T10:00:43Z", "severity": "high", "finding": "identity-pool-guest-access-enabled",
		"account": "123456789012", "region": "us-east-1", "identityPoolId": "us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE",
		"operation": "UpdateIdentityPool", "actor": "arn:aws:iam::123456789012:user/Admin", "eventID": "e1",
		"settings": "allowUnauthenticatedIdentities=true (previous false)",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if strings.Contains(buf.String(), "HIDDEN") {
		t.Errorf("hidden value logged: %s", buf.String())
	}
	if n := strings.Count(buf.String(), `"timestamp":`); n != 1 {
		t.Errorf("%d timestamp keys, want the line's own only: %s", n, buf.String())
	}
}

package aggregate_test

import (
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/record"
)

// The sign-up counts an SMS pumping attack shows in: successful sign-ups,
// confirmations and code-sending calls, API and endpoints, by pool, else by
// app client; a failed sign-up (the name is taken: no code sent) and other
// calls are in none.
func TestSignUpCounts(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	const pool, client = "us-east-1_EXAMPLE1", "1example23456789"
	api := func(name, code string) record.Record {
		return record.Record{EventTime: t0, EventSource: class.SourceUserPool, EventName: name, ErrorCode: code, AWSRegion: "us-east-1", ClientID: client}
	}
	endpoint := func(name string, status int) record.Record {
		return record.Record{EventTime: t0, EventSource: class.SourceUserPool, EventType: "AwsServiceEvent", EventName: name,
			UserPoolID: pool, HTTPStatus: status, AWSRegion: "us-east-1"}
	}
	recs := []record.Record{
		api("SignUp", ""), api("SignUp", ""), api("SignUp", "UsernameExistsException"),
		api("ResendConfirmationCode", ""), api("ConfirmSignUp", ""), api("ConfirmSignUp", "CodeMismatchException"),
		api("ForgotPassword", ""), api("InitiateAuth", ""),
		endpoint("signup_POST", 200), endpoint("Signup_POST", 400), endpoint("signup_confirm_POST", 200),
		endpoint("mfa_phone_resendCode_POST", 200), endpoint("Login_GET", 200),
	}
	for _, tc := range []struct {
		name                string
		total, pool, client float64
	}{
		{metric.SignUps, 3, 1, 2},
		{metric.SignUpConfirmations, 2, 1, 1},
		{metric.CodeDeliveryRequests, 6, 2, 4},
	} {
		ds := aggregateAll(recs, &aggregate.Options{Level: metric.Standard}, time.Time{})
		if got := sum(ds, tc.name); got != tc.total {
			t.Errorf("%s %v, want %v", tc.name, got, tc.total)
		}
		if got := sum(ds, tc.name, metric.DimUserPoolID); got != tc.pool {
			t.Errorf("%s by pool %v, want %v", tc.name, got, tc.pool)
		}
		if got := sum(ds, tc.name, metric.DimClientID); got != tc.client {
			t.Errorf("%s by client %v, want %v", tc.name, got, tc.client)
		}
		basic := aggregateAll(recs, &aggregate.Options{Level: metric.Basic}, time.Time{})
		if got := sum(basic, tc.name); got != tc.total || sum(basic, tc.name, metric.DimUserPoolID) != 0 {
			t.Errorf("basic: %s %v, want %v and no pool series", tc.name, got, tc.total)
		}
	}
}

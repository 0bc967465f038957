package lambdaapp

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/metric"
)

const findingsPrefix = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/22/"

// guestAccessRecord is an UpdateIdentityPool record, in the shape of AWS's
// published CreateIdentityPool example, that restates guest access on.
func guestAccessRecord(eventID string, at time.Time) map[string]any {
	return map[string]any{
		"eventVersion": "1.08",
		"userIdentity": map[string]any{
			"type": "IAMUser", "principalId": "AIDACKCEVSQ6C2EXAMPLE",
			"arn": "arn:aws:iam::123456789012:user/Alice", "accountId": "123456789012",
			"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "userName": "Alice",
		},
		"eventTime":          at.UTC().Format(time.RFC3339),
		"eventSource":        "cognito-identity.amazonaws.com",
		"eventName":          "UpdateIdentityPool",
		"awsRegion":          "us-east-1",
		"sourceIPAddress":    "192.0.2.1",
		"userAgent":          "aws-cli/2.1.4 Python/3.8.5 Linux/4.14.203 exec-env/CloudShell",
		"requestParameters":  map[string]any{"identityPoolId": "us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE", "identityPoolName": "TestIdentityPool", "allowUnauthenticatedIdentities": true},
		"responseElements":   map[string]any{"identityPoolId": "us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE", "identityPoolName": "TestIdentityPool", "allowUnauthenticatedIdentities": true},
		"requestID":          "15cc73a1-0780-460c-91e8-e12ef034e116",
		"eventID":            eventID,
		"readOnly":           false,
		"eventType":          "AwsApiCall",
		"managementEvent":    true,
		"eventCategory":      "Management",
		"recipientAccountId": "123456789012",
	}
}

func recordsFile(t testing.TB, recs ...map[string]any) []byte {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"Records": recs})
	if err != nil {
		t.Fatal(err)
	}
	return gz(raw)
}

// highFindings reads the Findings count with Severity=high.
func (e *env) highFindings() float64 {
	e.t.Helper()
	dims := []metric.Dimension{{Name: metric.DimSeverity, Value: "high"}}
	k := keyOf(metric.Findings, dims)
	x := expectation{dims: map[seriesKey][]metric.Dimension{k: dims}, name: map[seriesKey]string{k: metric.Findings}}
	return e.read([]seriesKey{k}, x)[k]
}

// TestRestatedSettingAcrossColdStarts: two trail files restate the same
// pool's guest access, each processed by a handler built anew (a cold
// start). With the ledger table the second handler knows the value and is
// quiet; without it, each execution environment raises it once.
func TestRestatedSettingAcrossColdStarts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ledger bool
		want   float64
	}{{"ledger", true, 1}, {"memory", false, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.state = nil // the function's own choice
			if !tc.ledger {
				e.cfg.IdempotencyTable = ""
			}
			at := time.Now().Add(-time.Hour).Truncate(time.Minute)
			for i := range 2 {
				key := fmt.Sprintf("%s123456789012_CloudTrail_us-east-1_20261122T10%02dZ_restate.json.gz", findingsPrefix, i)
				body := recordsFile(t, guestAccessRecord(fmt.Sprintf("aaaaaaaa-0000-4000-8000-%012d", i), at.Add(time.Duration(i)*time.Minute)))
				e.deliver(key, body)
			}
			if got := e.highFindings(); got != tc.want {
				t.Fatalf("Findings{Severity=high} = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestOutOfOrderFilesJudgedByEventTime is issue 14's case through the
// function with the ledger table, each file a cold start: guest access off
// (F0), off at :25 (F2), on at :20 (F1, its file processed late), on again
// at :50 (F3, a re-enable after the :25 disable). Both enables are raised:
// 2 high findings (1 when the state was the last file processed).
func TestOutOfOrderFilesJudgedByEventTime(t *testing.T) {
	e := newEnv(t)
	e.state = nil // the ledger's
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Hour)
	for i, f := range []struct {
		minute int
		on     bool
	}{{0, false}, {25, false}, {20, true}, {50, true}} {
		rec := guestAccessRecord(fmt.Sprintf("bbbbbbbb-0000-4000-8000-%012d", i), base.Add(time.Duration(f.minute)*time.Minute))
		for _, k := range []string{"requestParameters", "responseElements"} {
			rec[k].(map[string]any)["allowUnauthenticatedIdentities"] = f.on
		}
		key := fmt.Sprintf("%s123456789012_CloudTrail_us-east-1_20261122T11%02dZ_order%d.json.gz", findingsPrefix, f.minute, i)
		body := recordsFile(t, rec)
		e.deliver(key, body)
	}
	if got := e.highFindings(); got != 2 {
		t.Fatalf("Findings{Severity=high} = %v, want 2 (the enables at :20 and :50)", got)
	}
}

// TestSignInThresholdWired: SIGNIN_IP_THRESHOLD reaches the engine: three
// failed sign-ins from one IP raise sign-in-failures-from-one-ip with a
// threshold of 3, and nothing with the default 15.
func TestSignInThresholdWired(t *testing.T) {
	for _, tc := range []struct {
		threshold int
		want      float64
	}{{3, 1}, {0, 0}} {
		e := newEnv(t)
		e.cfg.SignInThreshold = tc.threshold
		at := time.Now().Add(-time.Hour).Truncate(time.Minute)
		var recs []map[string]any
		for i := range 3 {
			recs = append(recs, map[string]any{
				"eventVersion": "1.08", "userIdentity": map[string]any{"type": "Unknown", "principalId": "Anonymous"},
				"eventTime": at.Add(time.Duration(i) * time.Second).UTC().Format(time.RFC3339), "eventSource": "cognito-idp.amazonaws.com",
				"eventName": "InitiateAuth", "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.9", "userAgent": "Mozilla/5.0",
				"errorCode": "NotAuthorizedException", "errorMessage": "Incorrect username or password.",
				"requestParameters":   map[string]any{"authFlow": "USER_PASSWORD_AUTH", "authParameters": "HIDDEN_DUE_TO_SECURITY_REASONS", "clientId": "1example23456789"},
				"additionalEventData": map[string]any{"userPoolId": "us-east-1_EXAMPLE1"},
				"requestID":           fmt.Sprintf("c1b2c3d4-0000-0000-0000-%012d", i), "eventID": fmt.Sprintf("d1b2c3d4-0000-0000-0000-%012d", i),
				"readOnly": false, "eventType": "AwsApiCall", "managementEvent": true, "eventCategory": "Management", "recipientAccountId": "123456789012",
			})
		}
		key := findingsPrefix + "123456789012_CloudTrail_us-east-1_20261122T1300Z_signin.json.gz"
		body := recordsFile(t, recs...)
		e.deliver(key, body)
		if got := e.highFindings(); got != tc.want {
			t.Errorf("threshold %d: Findings{Severity=high} = %v, want %v", tc.threshold, got, tc.want)
		}
	}
}

// signInFailures makes n failed sign-ins from ip at `at`, one a second,
// in the shape of AWS's published wrong-password InitiateAuth record.
func signInFailures(at time.Time, ip string, n int, tag string) []map[string]any {
	var recs []map[string]any
	for i := range n {
		recs = append(recs, map[string]any{
			"eventVersion": "1.10", "userIdentity": map[string]any{"type": "Unknown", "principalId": "Anonymous"},
			"eventTime": at.Add(time.Duration(i) * time.Second).UTC().Format(time.RFC3339), "eventSource": "cognito-idp.amazonaws.com",
			"eventName": "InitiateAuth", "awsRegion": "us-east-1", "sourceIPAddress": ip,
			"errorCode": "NotAuthorizedException", "errorMessage": "Incorrect username or password.",
			"requestParameters":   map[string]any{"authFlow": "USER_PASSWORD_AUTH", "authParameters": "HIDDEN_DUE_TO_SECURITY_REASONS", "clientId": "4u37654rhubjei088dj85clscq"},
			"additionalEventData": map[string]any{"sub": "87a42a58-6051-7076-79e2-fe9208b6ae3c"},
			"eventID":             fmt.Sprintf("5b0e1c2d-%s-4b5c-8d6e-%012d", tag, i),
			"readOnly":            false, "eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": "123456789012", "eventCategory": "Management",
		})
	}
	return recs
}

// deliverLaterFirst delivers two trail files of 13:00 and 13:05, the later
// first, each to a handler built anew (a cold start).
func (e *env) deliverLaterFirst(first, second []byte) {
	e.t.Helper()
	e.deliver(findingsPrefix+"123456789012_CloudTrail_us-east-1_20261122T1305Z_second.json.gz", second)
	e.deliver(findingsPrefix+"123456789012_CloudTrail_us-east-1_20261122T1300Z_first.json.gz", first)
}

// TestAttackAcrossFilesAndColdStarts: 8 failed sign-ins from one address
// in each of two trail files 6 minutes apart, each file processed by a
// handler built anew (a cold start), the later file first: with the ledger
// table the counts outlive the execution environment and the second file
// raises sign-in-failures-from-one-ip over the 15-minute window, once. With
// ATTACK_WINDOWS window=5m the files fall in different windows: nothing.
// Without the table (each environment forgets), nothing either.
func TestAttackAcrossFilesAndColdStarts(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ledger  bool
		windows finding.Windows
		want    float64
	}{
		{"ledger", true, finding.Windows{}, 1},
		{"ledger, 5-minute window", true, finding.Windows{Window: 5 * time.Minute}, 0},
		{"no ledger", false, finding.Windows{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.ledger {
				e.state = nil // the ledger table's
			}
			e.cfg.Windows = tc.windows
			at := time.Now().Add(-time.Hour).Truncate(time.Hour)
			e.deliverLaterFirst(
				recordsFile(t, signInFailures(at, "203.0.113.9", 8, "0000")...),
				recordsFile(t, signInFailures(at.Add(6*time.Minute), "203.0.113.9", 8, "1111")...),
			)
			if got := e.highFindings(); got != tc.want {
				t.Errorf("Findings{Severity=high} = %v, want %v\n%s", got, tc.want, e.logs.String())
			}
			lines := strings.Count(e.logs.String(), `"finding":"sign-in-failures-from-one-ip"`)
			if lines != int(tc.want) {
				t.Errorf("%d finding lines, want %v", lines, tc.want)
			}
		})
	}
}

// TestDistinctFailingSourcesAcrossColdStarts: failed sign-ins against one
// app client from 3 addresses in one file and 4 (one of them again) in a
// file 6 minutes later, the later first, each by a handler built anew.
// With the ledger table the second handler counts both files' addresses in
// the window: DistinctFailingSources, read back by its Maximum as the
// CredentialStuffing alarm reads it, is 6. Without it each file sees its
// own: 4.
func TestDistinctFailingSourcesAcrossColdStarts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ledger bool
		want   float64
	}{{"ledger", true, 6}, {"no ledger", false, 4}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.ledger {
				e.state = nil // the ledger table's
			}
			at := time.Now().Add(-time.Hour).Truncate(time.Hour)
			var first, second []map[string]any
			for i, ip := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"} {
				first = append(first, signInFailures(at.Add(time.Duration(i)*time.Minute), ip, 1, fmt.Sprintf("000%d", i))...)
			}
			for i, ip := range []string{"203.0.113.3", "198.51.100.4", "198.51.100.5", "198.51.100.6"} {
				second = append(second, signInFailures(at.Add(time.Duration(6+i)*time.Minute), ip, 1, fmt.Sprintf("111%d", i))...)
			}
			e.deliverLaterFirst(recordsFile(t, first...), recordsFile(t, second...))
			end := time.Now().Add(3 * time.Hour).Truncate(time.Hour)
			out, err := e.cw.GetMetricStatistics(context.Background(), &cw.GetMetricStatisticsInput{
				Namespace: aws.String(e.namespace), MetricName: aws.String(metric.DistinctFailingSources),
				Dimensions: []cwtypes.Dimension{{Name: aws.String(metric.DimClientID), Value: aws.String("4u37654rhubjei088dj85clscq")}},
				StartTime:  aws.Time(end.Add(-24 * time.Hour)), EndTime: aws.Time(end),
				Period: aws.Int32(86400), Statistics: []cwtypes.Statistic{cwtypes.StatisticMaximum},
			})
			if err != nil {
				t.Fatal(err)
			}
			var got float64
			for _, d := range out.Datapoints {
				got = max(got, aws.ToFloat64(d.Maximum))
			}
			if got != tc.want {
				t.Errorf("DistinctFailingSources{ClientId} Maximum = %v, want %v", got, tc.want)
			}
		})
	}
}

// guestCalls are GetCredentialsForIdentity calls without logins (the
// published unauthenticated shape): guests given credentials.
func guestCalls(at time.Time, n int, tag string) []map[string]any {
	var recs []map[string]any
	for i := range n {
		recs = append(recs, map[string]any{
			"eventVersion": "1.09", "userIdentity": map[string]any{"type": "Unknown"},
			"eventTime": at.Add(time.Duration(i) * time.Second).UTC().Format(time.RFC3339), "eventSource": "cognito-identity.amazonaws.com",
			"eventName": "GetCredentialsForIdentity", "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.7",
			"userAgent":         "aws-sdk-js/3",
			"requestParameters": map[string]any{"identityId": "us-east-1:2d9c8f1b-0000-4000-8000-000000EXAMPLE"},
			"responseElements": map[string]any{"credentials": map[string]any{"accessKeyId": "ASIAIOSFODNN7EXAMPLE", "sessionToken": "HIDDEN_DUE_TO_SECURITY_REASONS"},
				"identityId": "us-east-1:2d9c8f1b-0000-4000-8000-000000EXAMPLE"},
			"eventID": fmt.Sprintf("7c1d2e3f-%s-4b5c-8d6e-%012d", tag, i), "readOnly": false,
			"resources": []any{map[string]any{"accountId": "123456789012", "type": "AWS::Cognito::IdentityPool",
				"ARN": "arn:aws:cognito-identity:us-east-1:123456789012:identitypool/us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE"}},
			"eventType": "AwsApiCall", "managementEvent": false, "recipientAccountId": "123456789012", "eventCategory": "Data",
		})
	}
	return recs
}

// TestGuestCredentialsAcrossColdStarts: an identity pool's guest calls in
// two files a day apart, each processed by a handler built anew (a cold
// start): with the ledger table the pool's guest history outlives the
// execution environment, so only the first file's are first seen;
// forgetting it, each file raises.
func TestGuestCredentialsAcrossColdStarts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ledger bool
		want   int
	}{
		{"ledger", true, 1},
		{"no ledger", false, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.ledger {
				e.state = nil // the ledger table's
			}
			at := time.Now().Add(-time.Hour).Truncate(time.Hour)
			keys := []string{
				findingsPrefix + "123456789012_CloudTrail_us-east-1_20261121T1300Z_guests.json.gz",
				findingsPrefix + "123456789012_CloudTrail_us-east-1_20261122T1300Z_guests.json.gz",
			}
			bodies := [][]byte{
				recordsFile(t, guestCalls(at.Add(-24*time.Hour), 3, "0000")...),
				recordsFile(t, guestCalls(at, 3, "1111")...),
			}
			for i := range keys {
				e.deliver(keys[i], bodies[i])
			}
			if got := strings.Count(e.logs.String(), `"finding":"guest-credentials-first-seen"`); got != tc.want {
				t.Errorf("%d finding lines, want %d\n%s", got, tc.want, e.logs.String())
			}
			if strings.Contains(e.logs.String(), "HIDDEN_") {
				t.Error("a hidden value was logged")
			}
		})
	}
}

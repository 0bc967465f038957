package alert

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/cognitrail/cognitrail/pkg/fault"
	"github.com/cognitrail/cognitrail/pkg/finding"
)

func guest() finding.Finding {
	return finding.Finding{
		Time: time.Date(2021, 1, 19, 23, 7, 5, 0, time.UTC), Severity: finding.High,
		Name: finding.IdentityPoolGuestAccessEnabled, Account: "123456789012", Region: "us-east-1",
		IdentityPoolID: "us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE", Operation: "CreateIdentityPool",
		Actor: "arn:aws:iam::123456789012:user/Alice", SourceIP: "192.0.2.1", UserAgent: "aws-cli/2.1.4",
		EventID:  "f1d47f93-c708-495b-bff1-cb935a6064b2",
		Settings: []finding.Setting{{Name: "allowUnauthenticatedIdentities", Value: "true"}},
	}
}

func TestSubject(t *testing.T) {
	short := guest()
	short.IdentityPoolID, short.Actor = "us-east-1:1cf6", "arn:aws:iam::1:user/A"
	if got, want := Subject(&short), "HIGH identity-pool-guest-access-enabled us-east-1:1cf6 by arn:aws:iam::1:user/A"; got != want {
		t.Errorf("short subject %q, want %q", got, want)
	}
	f := guest()
	got := Subject(&f)
	// Too long whole: the pool is cut (its region stays), the actor kept.
	if want := "HIGH identity-pool-guest-access-enabled us-east-1:1cf667... by arn:aws:iam::123456789012:user/Alice"; got != want {
		t.Errorf("subject %q (%d bytes), want %q", got, len(got), want)
	}
	long := guest()
	long.Actor = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/alice@example.com"
	if got := Subject(&long); len(got) > MaxSubject || !strings.HasSuffix(got, "/alice@example.com") || !strings.Contains(got, " by arn:aws:sts") {
		t.Errorf("long actor: subject %q (%d bytes) lost the ARN's head or principal", got, len(got))
	}
	for _, tc := range []finding.Finding{
		{Severity: finding.Medium, Name: finding.AppClientRedirectsChanged, UserPoolID: "us-east-1_EXAMPLE1",
			Actor: "arn:aws:sts::123456789012:assumed-role/" + strings.Repeat("VeryLongRoleName", 10) + "/session\nX-Injected: yes"},
		{Severity: finding.High, Name: finding.SignInFailuresFromOneIP},
		{Severity: finding.High, Name: finding.UserPoolDeleted, UserPoolID: "eu-west-1_ÄÖÜ\r\n" + strings.Repeat("x", 200), Actor: "AWSService svc"},
	} {
		s := Subject(&tc)
		if len(s) == 0 || len(s) > MaxSubject {
			t.Errorf("subject %q: %d bytes", s, len(s))
		}
		for _, c := range []byte(s) {
			if c < 0x20 || c > 0x7e {
				t.Errorf("subject %q: byte %#x", s, c)
			}
		}
		if !strings.HasPrefix(s, strings.ToUpper(tc.Severity.String())+" "+tc.Name) {
			t.Errorf("subject %q lost severity or name", s)
		}
	}
}

func TestBody(t *testing.T) {
	f := guest()
	b, err := Body(&f)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{
		"time": "2021-01-19T23:07:05Z", "severity": "high", "finding": finding.IdentityPoolGuestAccessEnabled,
		"account": "123456789012", "region": "us-east-1", "pool": f.IdentityPoolID,
		"actor": f.Actor, "sourceIPAddress": "192.0.2.1", "userAgent": "aws-cli/2.1.4", "eventID": f.EventID,
	} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	if s, _ := m["settings"].([]any); len(s) != 1 {
		t.Errorf("settings %v", m["settings"])
	}
}

type fakeSNS struct {
	in   []*sns.PublishInput
	fail bool
}

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	if f.fail {
		return nil, errors.New("throttled")
	}
	f.in = append(f.in, in)
	return &sns.PublishOutput{}, nil
}

type memDedup struct{ st map[string]string }

func (d *memDedup) First(_ context.Context, ev, name string, _ time.Time) (string, bool, error) {
	if s, ok := d.st[ev+"#"+name]; ok && s != "failed" {
		return "", false, nil
	}
	d.st[ev+"#"+name] = "sending"
	return "tok", true, nil
}

func (d *memDedup) Sent(_ context.Context, ev, name, tok string) error {
	d.st[ev+"#"+name] = "sent"
	return nil
}

func (d *memDedup) Failed(_ context.Context, ev, name, tok string) error {
	d.st[ev+"#"+name] = "failed"
	return nil
}

func TestNotifySeverityAndDedup(t *testing.T) {
	ctx := context.Background()
	api := &fakeSNS{}
	d := &memDedup{st: map[string]string{}}
	n := New(api, Options{TopicARN: "arn:aws:sns:us-east-1:123456789012:findings", Dedup: d})
	high := guest()
	medium := guest()
	medium.Severity, medium.Name = finding.Medium, finding.IdentityPoolClassicFlowEnabled
	st, err := n.Notify(ctx, []finding.Finding{high, medium}, time.Time{})
	if err != nil || st.Sent != 1 || st.Below != 1 || len(api.in) != 1 {
		t.Fatalf("first: %+v, %v, %d published", st, err, len(api.in))
	}
	in := api.in[0]
	if aws.ToString(in.TopicArn) != "arn:aws:sns:us-east-1:123456789012:findings" || !strings.HasPrefix(aws.ToString(in.Subject), "HIGH ") ||
		aws.ToString(in.MessageAttributes["severity"].StringValue) != "high" {
		t.Errorf("publish input %+v", in)
	}
	// The same record again (a retry, the trail file after EventBridge).
	if st, err := n.Notify(ctx, []finding.Finding{high}, time.Time{}); err != nil || st.Duplicates != 1 || len(api.in) != 1 {
		t.Fatalf("again: %+v, %v, %d published", st, err, len(api.in))
	}
	// NOTIFY_SEVERITY=medium sends the medium one.
	nm := New(api, Options{TopicARN: "t", MinSeverity: finding.Medium, Dedup: d})
	if st, err := nm.Notify(ctx, []finding.Finding{high, medium}, time.Time{}); err != nil || st.Sent != 1 || st.Duplicates != 1 {
		t.Fatalf("medium: %+v, %v", st, err)
	}
	// A failed publish is marked so that the next pass sends it.
	other := guest()
	other.EventID = "other"
	api.fail = true
	if _, err := n.Notify(ctx, []finding.Finding{other}, time.Time{}); err == nil || !strings.Contains(err.Error(), "other") {
		t.Fatalf("failed publish: %v", err)
	}
	api.fail = false
	if st, err := n.Notify(ctx, []finding.Finding{other}, time.Time{}); err != nil || st.Sent != 1 {
		t.Fatalf("after failure: %+v, %v", st, err)
	}
}

// answers is an SNS that answers each Publish with the next error.
type answers struct{ errs []error }

func (a *answers) Publish(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error) {
	err := a.errs[0]
	a.errs = a.errs[1:]
	return &sns.PublishOutput{}, err
}

// TestRefusalsArePermanent: Notify's error is permanent (package fault)
// when every failure is a refusal no retry cures, and not when one may be
// cured: the caller then fails the object, and the retry sends what was
// not sent.
func TestRefusalsArePermanent(t *testing.T) {
	refused := &smithy.GenericAPIError{Code: "AuthorizationError", Message: "not authorized to publish"}
	kms := &smithy.GenericAPIError{Code: "KMSDisabled"}
	throttled := &smithy.GenericAPIError{Code: "Throttling"}
	for _, tc := range []struct {
		name string
		errs []error
		want bool
	}{
		{"sent", []error{nil, nil}, false},
		{"both refused", []error{refused, kms}, true},
		{"one refused, one sent", []error{refused, nil}, true},
		{"one refused, one throttled", []error{refused, throttled}, false},
		{"throttled", []error{throttled, nil}, false},
		{"network", []error{errors.New("connection reset"), nil}, false},
	} {
		a, b := guest(), guest()
		b.EventID = "other"
		_, err := New(&answers{tc.errs}, Options{TopicARN: "arn:aws:sns:us-east-1:123456789012:t"}).
			Notify(context.Background(), []finding.Finding{a, b}, time.Time{})
		if got := fault.Permanent(err); got != tc.want {
			t.Errorf("%s: permanent %v, want %v (%v)", tc.name, got, tc.want, err)
		}
	}
}

package posture

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	citypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognitrail/cognitrail/pkg/alert"
	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/record"
)

const (
	fakePool     = "us-east-1_Fake1"
	fakeIdentity = "us-east-1:11111111-2222-3333-4444-555555555555"
	fakeAccount  = "123456789012"
)

// fakeUserPools is one user pool, safe but for its MFA setting, with no
// app client.
type fakeUserPools struct{ mfa types.UserPoolMfaType }

func (f *fakeUserPools) ListUserPools(context.Context, *cip.ListUserPoolsInput, ...func(*cip.Options)) (*cip.ListUserPoolsOutput, error) {
	return &cip.ListUserPoolsOutput{UserPools: []types.UserPoolDescriptionType{{Id: aws.String(fakePool)}}}, nil
}

func (f *fakeUserPools) DescribeUserPool(context.Context, *cip.DescribeUserPoolInput, ...func(*cip.Options)) (*cip.DescribeUserPoolOutput, error) {
	return &cip.DescribeUserPoolOutput{UserPool: &types.UserPoolType{Id: aws.String(fakePool),
		DeletionProtection:    types.DeletionProtectionTypeActive,
		UserPoolAddOns:        &types.UserPoolAddOnsType{AdvancedSecurityMode: types.AdvancedSecurityModeTypeEnforced},
		AdminCreateUserConfig: &types.AdminCreateUserConfigType{AllowAdminCreateUserOnly: true},
		Policies:              &types.UserPoolPolicyType{PasswordPolicy: &types.PasswordPolicyType{MinimumLength: aws.Int32(14)}},
	}}, nil
}

func (f *fakeUserPools) GetUserPoolMfaConfig(context.Context, *cip.GetUserPoolMfaConfigInput, ...func(*cip.Options)) (*cip.GetUserPoolMfaConfigOutput, error) {
	return &cip.GetUserPoolMfaConfigOutput{MfaConfiguration: f.mfa}, nil
}

func (f *fakeUserPools) GetLogDeliveryConfiguration(_ context.Context, in *cip.GetLogDeliveryConfigurationInput, _ ...func(*cip.Options)) (*cip.GetLogDeliveryConfigurationOutput, error) {
	return &cip.GetLogDeliveryConfigurationOutput{LogDeliveryConfiguration: &types.LogDeliveryConfigurationType{UserPoolId: in.UserPoolId,
		LogConfigurations: []types.LogConfigurationType{{EventSource: types.EventSourceNameUserAuthEvents, LogLevel: types.LogLevelInfo}}}}, nil
}

func (f *fakeUserPools) ListUserPoolClients(context.Context, *cip.ListUserPoolClientsInput, ...func(*cip.Options)) (*cip.ListUserPoolClientsOutput, error) {
	return &cip.ListUserPoolClientsOutput{}, nil
}

func (f *fakeUserPools) DescribeUserPoolClient(context.Context, *cip.DescribeUserPoolClientInput, ...func(*cip.Options)) (*cip.DescribeUserPoolClientOutput, error) {
	return nil, errors.New("no client")
}

// fakeIdentityPools is one identity pool whose guest access is guest.
type fakeIdentityPools struct{ guest bool }

func (f *fakeIdentityPools) ListIdentityPools(context.Context, *ci.ListIdentityPoolsInput, ...func(*ci.Options)) (*ci.ListIdentityPoolsOutput, error) {
	return &ci.ListIdentityPoolsOutput{IdentityPools: []citypes.IdentityPoolShortDescription{{IdentityPoolId: aws.String(fakeIdentity)}}}, nil
}

func (f *fakeIdentityPools) DescribeIdentityPool(context.Context, *ci.DescribeIdentityPoolInput, ...func(*ci.Options)) (*ci.DescribeIdentityPoolOutput, error) {
	return &ci.DescribeIdentityPoolOutput{IdentityPoolId: aws.String(fakeIdentity), IdentityPoolName: aws.String("app"),
		AllowUnauthenticatedIdentities: f.guest}, nil
}

func (f *fakeIdentityPools) GetIdentityPoolRoles(context.Context, *ci.GetIdentityPoolRolesInput, ...func(*ci.Options)) (*ci.GetIdentityPoolRolesOutput, error) {
	return &ci.GetIdentityPoolRolesOutput{IdentityPoolId: aws.String(fakeIdentity)}, nil
}

// fakeNotifier keeps what it is asked to send; fail fails every call.
type fakeNotifier struct {
	sent []finding.Finding
	fail error
}

func (n *fakeNotifier) Notify(_ context.Context, fs []finding.Finding, _ time.Time) (alert.Stats, error) {
	if n.fail != nil {
		return alert.Stats{}, n.fail
	}
	n.sent = append(n.sent, fs...)
	return alert.Stats{Sent: len(fs)}, nil
}

func names(fs []finding.Finding) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.Name+" "+finding.FormatSettings(f.Settings))
	}
	return strings.Join(s, "; ")
}

// change runs one CloudTrail record through a finding engine on state, as
// the processor does with a trail file, and commits it.
func change(t *testing.T, state finding.State, at time.Time, id, source, op string, req map[string]any) []finding.Finding {
	t.Helper()
	raw, err := json.Marshal(map[string]any{
		"eventVersion": "1.08", "eventTime": at.UTC().Format(time.RFC3339), "eventSource": source, "eventName": op,
		"awsRegion": "us-east-1", "recipientAccountId": fakeAccount, "eventType": "AwsApiCall", "eventID": id,
		"userIdentity":      map[string]any{"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/admin", "accountId": fakeAccount},
		"requestParameters": req,
	})
	if err != nil {
		t.Fatal(err)
	}
	var rec record.Record
	if _, err := record.NewParser().Parse(raw, &rec); err != nil {
		t.Fatal(err)
	}
	c := class.Classify(&rec)
	eng := finding.New(&finding.Options{State: state})
	eng.StartFile()
	fs := append([]finding.Finding(nil), eng.Observe(context.Background(), &rec, &c, raw)...)
	if err := eng.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	return fs
}

func guestAccess(at time.Time, id string, on bool, state finding.State, t *testing.T) []finding.Finding {
	return change(t, state, at, id, "cognito-identity.amazonaws.com", "UpdateIdentityPool",
		map[string]any{"identityPoolId": fakeIdentity, "identityPoolName": "app", "allowUnauthenticatedIdentities": on})
}

// TestScheduledNotifiesOnce: the first run notifies the risky settings,
// the second (same values) notifies nothing but still lists them; the
// state keeps one entry per setting, not one per run.
func TestScheduledNotifiesOnce(t *testing.T) {
	state := finding.NewMemoryState()
	n := &fakeNotifier{}
	var logs bytes.Buffer
	now := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	s := &Scheduled{UserPools: &fakeUserPools{mfa: types.UserPoolMfaTypeOff}, IdentityPools: &fakeIdentityPools{guest: true},
		State: state, Notifier: n, Region: "us-east-1", RequestsPerSecond: -1, Now: func() time.Time { return now },
		Log: slog.New(slog.NewJSONHandler(&logs, nil))}
	sum, err := s.Run(context.Background(), fakeAccount, "run-1")
	if err != nil {
		t.Fatal(err)
	}
	want := "user-pool-mfa-disabled mfaConfiguration=OFF (previous unknown); identity-pool-guest-access-enabled allowUnauthenticatedIdentities=true (previous unknown)"
	if got := names(n.sent); got != want {
		t.Fatalf("first run notified %q, want %q", got, want)
	}
	if sum.Rows != 2 || sum.New != 2 || sum.Notified != 2 {
		t.Errorf("first run %+v", sum)
	}
	for _, f := range n.sent {
		if f.Operation != Source || f.Actor != "" || f.Account != fakeAccount || f.Region != "us-east-1" || !strings.HasPrefix(f.EventID, "posture-run-1-") {
			t.Errorf("notified %+v", f)
		}
	}
	now = now.Add(24 * time.Hour)
	sum, err = s.Run(context.Background(), fakeAccount, "run-2")
	if err != nil {
		t.Fatal(err)
	}
	if len(n.sent) != 2 || sum.New != 0 || sum.Rows != 2 {
		t.Errorf("second run: %+v, notified in all %s", sum, names(n.sent))
	}
	h, _ := state.Get(context.Background(), fakeAccount+"/identitypool/"+fakeIdentity+"/allowUnauthenticatedIdentities")
	if len(h) != 1 || h[0].Value != "true" || !h[0].Time.Equal(now.Add(-24*time.Hour)) {
		t.Errorf("guest access history %+v, want the first run's entry only", h)
	}
	if c := strings.Count(logs.String(), `"msg":"posture"`); c != 4 {
		t.Errorf("%d row lines in two runs, want 4:\n%s", c, logs.String())
	}
}

// TestScheduledGivesTheNextChangeATruePrevious: with the snapshot in the
// state, a change event restating the value raises nothing (it raised with
// previous unknown before), a setting made safe is recorded, and its next
// turn to risky names the safe value as previous.
func TestScheduledGivesTheNextChangeATruePrevious(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	if fs := guestAccess(t0.Add(time.Hour), "e1", true, finding.NewMemoryState(), t); len(fs) != 1 || fs[0].Settings[0].Previous != finding.PreviousUnknown {
		t.Fatalf("without a snapshot: %+v", fs)
	}
	state := finding.NewMemoryState()
	ip := &fakeIdentityPools{guest: true}
	now := t0
	s := &Scheduled{UserPools: &fakeUserPools{mfa: types.UserPoolMfaTypeOn}, IdentityPools: ip, State: state, Region: "us-east-1",
		RequestsPerSecond: -1, Now: func() time.Time { return now }}
	if _, err := s.Run(context.Background(), fakeAccount, "a"); err != nil {
		t.Fatal(err)
	}
	if fs := guestAccess(t0.Add(time.Hour), "e1", true, state, t); len(fs) != 0 {
		t.Errorf("a restatement after the snapshot raised %s", names(fs))
	}
	// Made safe, then seen by the next run: resolved.
	ip.guest = false
	now = t0.Add(24 * time.Hour)
	sum, err := s.Run(context.Background(), fakeAccount, "b")
	if err != nil || sum.New != 0 || sum.Rows != 0 {
		t.Fatalf("run after the fix: %+v %v", sum, err)
	}
	fs := guestAccess(t0.Add(25*time.Hour), "e2", true, state, t)
	if len(fs) != 1 || fs[0].Settings[0].Previous != "false" {
		t.Errorf("guest access on again: %+v, want previous false", fs)
	}
}

// TestChangeNewerThanSnapshotWins: a change event newer than the snapshot
// stays the newest value, whatever order they are written in; a late trail
// file older than the snapshot is judged against the value as of its time.
func TestChangeNewerThanSnapshotWins(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	state := finding.NewMemoryState()
	// Guest access turned off at 06:10; the run that read it on at 06:05
	// commits afterwards.
	guestAccess(t0.Add(10*time.Minute), "off", false, state, t)
	s := &Scheduled{UserPools: &fakeUserPools{mfa: types.UserPoolMfaTypeOn}, IdentityPools: &fakeIdentityPools{guest: true},
		State: state, Region: "us-east-1", RequestsPerSecond: -1, Now: func() time.Time { return t0.Add(5 * time.Minute) }}
	if _, err := s.Run(context.Background(), fakeAccount, "r"); err != nil {
		t.Fatal(err)
	}
	h, _ := state.Get(context.Background(), fakeAccount+"/identitypool/"+fakeIdentity+"/allowUnauthenticatedIdentities")
	if newest, _ := finding.Newest(h); newest.Value != "false" || newest.EventID != "off" {
		t.Errorf("newest %+v, want the 06:10 change", newest)
	}
	// Turned on again at 06:20: raised, previous false (the change's), not
	// a restatement of the snapshot.
	if fs := guestAccess(t0.Add(20*time.Minute), "on", true, state, t); len(fs) != 1 || fs[0].Settings[0].Previous != "false" {
		t.Errorf("06:20: %+v", fs)
	}
	// A late file: guest access set on at 06:01, before the snapshot, with
	// nothing known before it: raised (previous unknown), and the newest
	// value stays 06:20's.
	if fs := guestAccess(t0.Add(time.Minute), "early", true, state, t); len(fs) != 1 {
		t.Errorf("06:01: %+v", fs)
	}
	h, _ = state.Get(context.Background(), fakeAccount+"/identitypool/"+fakeIdentity+"/allowUnauthenticatedIdentities")
	if newest, _ := finding.Newest(h); newest.EventID != "on" {
		t.Errorf("newest %+v, want 06:20's", newest)
	}
}

// TestScheduledFailedNotifyIsNotCommitted: a run whose notification
// failed writes nothing, so its retry (the same event) raises the same
// findings, with the same event ids, for the dedup to send once.
func TestScheduledFailedNotifyIsNotCommitted(t *testing.T) {
	state := finding.NewMemoryState()
	n := &fakeNotifier{fail: errors.New("throttled")}
	s := &Scheduled{UserPools: &fakeUserPools{mfa: types.UserPoolMfaTypeOff}, IdentityPools: &fakeIdentityPools{},
		State: state, Notifier: n, Region: "us-east-1", RequestsPerSecond: -1}
	if _, err := s.Run(context.Background(), fakeAccount, "ev"); err == nil {
		t.Fatal("a failed notification was not an error")
	}
	if h, _ := state.Get(context.Background(), fakeAccount+"/userpool/"+fakePool+"/mfaConfiguration"); len(h) != 0 {
		t.Errorf("state written after a failed notification: %+v", h)
	}
	n.fail = nil
	if _, err := s.Run(context.Background(), fakeAccount, "ev"); err != nil {
		t.Fatal(err)
	}
	if len(n.sent) != 1 || n.sent[0].EventID != "posture-ev-"+fakePool {
		t.Errorf("retry sent %+v", n.sent)
	}
}

// failingState fails every read.
type failingState struct{}

func (failingState) Get(context.Context, string) ([]finding.Entry, error) {
	return nil, errors.New("table unreachable")
}
func (failingState) Put(context.Context, map[string][]finding.Entry) error { return nil }

// TestScheduledStateErrorFails: a state that cannot be read fails the run
// (to be retried) and raises nothing from it.
func TestScheduledStateErrorFails(t *testing.T) {
	n := &fakeNotifier{}
	s := &Scheduled{UserPools: &fakeUserPools{mfa: types.UserPoolMfaTypeOff}, State: failingState{}, Notifier: n,
		Region: "us-east-1", RequestsPerSecond: -1}
	sum, err := s.Run(context.Background(), fakeAccount, "x")
	if !errors.Is(err, finding.ErrState) || len(n.sent) != 0 || sum.Rows != 1 {
		t.Errorf("run on a failing state: %+v %v, sent %s", sum, err, names(n.sent))
	}
}

// TestScheduledAfterChangeFinding: a setting a change finding raised
// already (the state's newest value is the one read) is not raised again
// by the run, and nothing is written for it.
func TestScheduledAfterChangeFinding(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	state := finding.NewMemoryState()
	if fs := guestAccess(t0, "change", true, state, t); len(fs) != 1 {
		t.Fatalf("change: %+v", fs)
	}
	n := &fakeNotifier{}
	s := &Scheduled{UserPools: &fakeUserPools{mfa: types.UserPoolMfaTypeOn}, IdentityPools: &fakeIdentityPools{guest: true},
		State: state, Notifier: n, Region: "us-east-1", RequestsPerSecond: -1, Now: func() time.Time { return t0.Add(time.Hour) }}
	sum, err := s.Run(context.Background(), fakeAccount, "r")
	if err != nil || sum.Rows != 1 || sum.New != 0 || len(n.sent) != 0 {
		t.Errorf("run after the change finding: %+v %v, sent %s", sum, err, names(n.sent))
	}
	if h, _ := state.Get(context.Background(), fakeAccount+"/identitypool/"+fakeIdentity+"/allowUnauthenticatedIdentities"); len(h) != 1 || h[0].EventID != "change" {
		t.Errorf("history %+v, want the change's entry only", h)
	}
}

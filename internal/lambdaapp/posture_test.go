package lambdaapp

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/cognitrail/cognitrail/pkg/ledger"
	"github.com/cognitrail/cognitrail/pkg/posture"
)

// Calls moto_server (5.2.1) lacks, at the interfaces pkg/posture owns:
// GetLogDeliveryConfiguration (every pool logs here) and
// GetIdentityPoolRoles (no roles). Everything else is moto's.
type motoUserPools struct{ posture.UserPoolAPI }

func (motoUserPools) GetLogDeliveryConfiguration(_ context.Context, in *cip.GetLogDeliveryConfigurationInput, _ ...func(*cip.Options)) (*cip.GetLogDeliveryConfigurationOutput, error) {
	return &cip.GetLogDeliveryConfigurationOutput{LogDeliveryConfiguration: &ciptypes.LogDeliveryConfigurationType{UserPoolId: in.UserPoolId,
		LogConfigurations: []ciptypes.LogConfigurationType{{EventSource: ciptypes.EventSourceNameUserAuthEvents, LogLevel: ciptypes.LogLevelInfo}}}}, nil
}

type motoIdentityPools struct{ posture.IdentityPoolAPI }

func (motoIdentityPools) GetIdentityPoolRoles(_ context.Context, in *ci.GetIdentityPoolRolesInput, _ ...func(*ci.Options)) (*ci.GetIdentityPoolRolesOutput, error) {
	return &ci.GetIdentityPoolRolesOutput{IdentityPoolId: in.IdentityPoolId}, nil
}

// onMoto stands in for the calls moto_server lacks and lifts the rate limit.
func onMoto(p *posture.Scheduled) {
	p.UserPools = motoUserPools{p.UserPools}
	p.IdentityPools = motoIdentityPools{p.IdentityPools}
	p.RequestsPerSecond = -1
}

// function builds the function as main does, against e.endpoint.
func (e *env) function() *Function {
	e.t.Helper()
	awsCfg := server.AWSConfig()
	awsCfg.BaseEndpoint = aws.String(e.endpoint)
	f, err := NewFunction(e.cfg, awsCfg, &e.logs, NewLogger(e.cfg, &e.logs), e.options()...)
	if err != nil {
		e.t.Fatal(err)
	}
	return f
}

// runScheduled hands f EventBridge's scheduled event id, as Lambda would.
func runScheduled(t *testing.T, f *Function, id string) any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: id,
		InvokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:cognitrail-processor"})
	resp, err := f.Handle(ctx, scheduledEvent(t, id))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// createNoMFAPool creates the user pool "no-mfa": MFA off, its other
// settings as posture wants them.
func createNoMFAPool(t *testing.T, idp *cip.Client) *cip.CreateUserPoolOutput {
	t.Helper()
	pool, err := idp.CreateUserPool(context.Background(), &cip.CreateUserPoolInput{PoolName: aws.String("no-mfa"),
		MfaConfiguration:      ciptypes.UserPoolMfaTypeOff,
		DeletionProtection:    ciptypes.DeletionProtectionTypeActive,
		UserPoolAddOns:        &ciptypes.UserPoolAddOnsType{AdvancedSecurityMode: ciptypes.AdvancedSecurityModeTypeEnforced},
		AdminCreateUserConfig: &ciptypes.AdminCreateUserConfigType{AllowAdminCreateUserOnly: true},
		Policies:              &ciptypes.UserPoolPolicyType{PasswordPolicy: &ciptypes.PasswordPolicyType{MinimumLength: aws.Int32(14)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return pool
}

// TestScheduledPostureThroughTheHandler: the function's handler, built as
// main builds it (POSTURE, the ledger table, the findings topic), gets
// EventBridge's scheduled event twice. A user pool without MFA and an
// identity pool open to guests, made before any trail file, are notified
// once, by the first run; the ledger table's settings then hold their
// values, so a trail file restating guest access afterwards raises
// nothing (it would, previous unknown, without the run).
func TestScheduledPostureThroughTheHandler(t *testing.T) {
	e := newEnv(t)
	e.state = nil // the ledger table's
	e.cfg.Posture = true
	tp := e.topic("posture")
	e.cfg.FindingsTopicARN = tp.arn
	ctx := context.Background()
	awsCfg := server.AWSConfig()
	pool := createNoMFAPool(t, cip.NewFromConfig(awsCfg))
	guest, err := ci.NewFromConfig(awsCfg).CreateIdentityPool(ctx, &ci.CreateIdentityPoolInput{IdentityPoolName: aws.String("guests"),
		AllowUnauthenticatedIdentities: true})
	if err != nil {
		t.Fatal(err)
	}
	pid, gid := aws.ToString(pool.UserPool.Id), aws.ToString(guest.IdentityPoolId)

	f := e.function()
	if f.Posture == nil || f.Posture.Trails == nil || f.Posture.Notifier == nil || f.Posture.Region != "us-east-1" {
		t.Fatalf("posture run %+v", f.Posture)
	}
	onMoto(f.Posture)

	// moto has no trail: both coverage rows, besides the two settings.
	if sum := runScheduled(t, f, "run-1").(posture.RunSummary); sum.Rows != 4 || sum.New != 2 || sum.Notified != 2 {
		t.Errorf("first run %+v", sum)
	}
	var got []string
	for _, body := range tp.drain(t, tp.raw) {
		var m map[string]any
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatal(err)
		}
		got = append(got, m["finding"].(string)+" "+m["pool"].(string)+" "+m["operation"].(string))
	}
	slices.Sort(got)
	want := []string{"identity-pool-guest-access-enabled " + gid + " posture", "user-pool-mfa-disabled " + pid + " posture"}
	if !slices.Equal(got, want) {
		t.Errorf("first run notified %q, want %q", got, want)
	}
	// The next day's run, and a retry of the first: nothing new.
	for _, id := range []string{"run-2", "run-1"} {
		if sum := runScheduled(t, f, id).(posture.RunSummary); sum.New != 0 || sum.Rows != 4 {
			t.Errorf("%s: %+v", id, sum)
		}
	}
	if more := tp.drain(t, tp.raw); len(more) != 0 {
		t.Errorf("later runs notified %q", more)
	}

	// The values are in the ledger table's settings, one entry each.
	settings := ledger.NewSettings(dynamodb.NewFromConfig(server.AWSConfig()), ledger.Options{Table: e.cfg.IdempotencyTable})
	for key, value := range map[string]string{
		"123456789012/identitypool/" + gid + "/allowUnauthenticatedIdentities": "true",
		"123456789012/userpool/" + pid + "/mfaConfiguration":                   "OFF",
	} {
		h, err := settings.Get(context.Background(), key)
		if err != nil || len(h) != 1 || h[0].Value != value || !strings.HasPrefix(h[0].EventID, "posture-run-1-") {
			t.Errorf("setting %s: %+v %v, want the first run's %s", key, h, err, value)
		}
	}
	if c := strings.Count(e.logs.String(), `"message":"posture_coverage"`); c != 1 {
		t.Errorf("%d coverage lines in three invocations, want 1 (the cold start's)", c)
	}

	// A trail file restating guest access after the runs read it (event
	// time, to the second, past theirs): known, so neither raised nor
	// notified. (One older than the first run would be judged against
	// what came before it: nothing, so raised.)
	rec := guestAccessRecord("cccccccc-0000-4000-8000-000000000001", time.Now().Add(time.Second))
	for _, k := range []string{"requestParameters", "responseElements"} {
		rec[k].(map[string]any)["identityPoolId"] = gid
	}
	key := findingsPrefix + "123456789012_CloudTrail_us-east-1_20261122T1300Z_posture.json.gz"
	body := recordsFile(t, rec)
	e.put(key, body)
	if _, err := f.Handle(context.Background(), json.RawMessage(s3Event(s3Record(key, e.etag(key), len(body))))); err != nil {
		t.Fatal(err)
	}
	if got := e.highFindings(); got != 0 {
		t.Errorf("Findings{Severity=high} = %v after the run, want 0: the restatement was judged new", got)
	}
	if more := tp.drain(t, tp.raw); len(more) != 0 {
		t.Errorf("the trail file notified %q", more)
	}
}

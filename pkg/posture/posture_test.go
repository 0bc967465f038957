package posture

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	citypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognitrail/cognitrail/internal/motoserver"
)

// missingInMoto stands in for the calls moto_server 5.2.1 does not have
// (GetLogDeliveryConfiguration, GetIdentityPoolRoles), at the interfaces
// this package owns; everything else is moto's.
type missingInMoto struct {
	*cip.Client
	logs map[string]bool // pools with a log configuration
}

func (m missingInMoto) GetLogDeliveryConfiguration(_ context.Context, in *cip.GetLogDeliveryConfigurationInput, _ ...func(*cip.Options)) (*cip.GetLogDeliveryConfigurationOutput, error) {
	out := &cip.GetLogDeliveryConfigurationOutput{}
	if m.logs[aws.ToString(in.UserPoolId)] {
		out.LogDeliveryConfiguration = &types.LogDeliveryConfigurationType{UserPoolId: in.UserPoolId,
			LogConfigurations: []types.LogConfigurationType{{EventSource: types.EventSourceNameUserAuthEvents, LogLevel: types.LogLevelInfo}}}
	}
	return out, nil
}

type identityWithRoles struct {
	*ci.Client
	roles map[string]map[string]string
	// classic: moto_server keeps no AllowClassicFlow; the pools that have
	// it on.
	classic map[string]bool
}

func (m identityWithRoles) DescribeIdentityPool(ctx context.Context, in *ci.DescribeIdentityPoolInput, o ...func(*ci.Options)) (*ci.DescribeIdentityPoolOutput, error) {
	out, err := m.Client.DescribeIdentityPool(ctx, in, o...)
	if err == nil && m.classic[aws.ToString(in.IdentityPoolId)] {
		out.AllowClassicFlow = aws.Bool(true)
	}
	return out, err
}

func (m identityWithRoles) GetIdentityPoolRoles(_ context.Context, in *ci.GetIdentityPoolRolesInput, _ ...func(*ci.Options)) (*ci.GetIdentityPoolRolesOutput, error) {
	return &ci.GetIdentityPoolRolesOutput{IdentityPoolId: in.IdentityPoolId, Roles: m.roles[aws.ToString(in.IdentityPoolId)]}, nil
}

// TestReadAgainstMoto creates risky and safe pools, clients and identity
// pools in moto_server and reads them back: exactly the risky settings are
// rows, with their controls, and no secret is in the output.
func TestReadAgainstMoto(t *testing.T) {
	srv := motoserver.StartT(t)
	ctx := context.Background()
	cfg := srv.AWSConfig()
	idp := cip.NewFromConfig(cfg)
	ident := ci.NewFromConfig(cfg)

	risky, err := idp.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("risky"),
		MfaConfiguration:      types.UserPoolMfaTypeOff,
		AdminCreateUserConfig: &types.AdminCreateUserConfigType{AllowAdminCreateUserOnly: false},
		Policies:              &types.UserPoolPolicyType{PasswordPolicy: &types.PasswordPolicyType{MinimumLength: aws.Int32(6)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	safe, err := idp.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("safe"),
		MfaConfiguration:      types.UserPoolMfaTypeOn,
		SmsConfiguration:      &types.SmsConfigurationType{SnsCallerArn: aws.String("arn:aws:iam::123456789012:role/sms")},
		DeletionProtection:    types.DeletionProtectionTypeActive,
		UserPoolAddOns:        &types.UserPoolAddOnsType{AdvancedSecurityMode: types.AdvancedSecurityModeTypeEnforced},
		AdminCreateUserConfig: &types.AdminCreateUserConfigType{AllowAdminCreateUserOnly: true},
		Policies:              &types.UserPoolPolicyType{PasswordPolicy: &types.PasswordPolicyType{MinimumLength: aws.Int32(12)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rp, sp := aws.ToString(risky.UserPool.Id), aws.ToString(safe.UserPool.Id)
	bad, err := idp.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(rp), ClientName: aws.String("bad"),
		GenerateSecret:             true,
		ExplicitAuthFlows:          []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
		CallbackURLs:               []string{"http://app.example.com/cb", "https://app.example.com/cb"},
		PreventUserExistenceErrors: types.PreventUserExistenceErrorTypesLegacy,
		EnableTokenRevocation:      aws.Bool(false),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := idp.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(sp), ClientName: aws.String("good"),
		ExplicitAuthFlows:          []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserSrpAuth},
		CallbackURLs:               []string{"https://app.example.com/cb", "http://localhost:3000/cb"},
		PreventUserExistenceErrors: types.PreventUserExistenceErrorTypesEnabled,
		EnableTokenRevocation:      aws.Bool(true),
	}); err != nil {
		t.Fatal(err)
	}
	guest, err := ident.CreateIdentityPool(ctx, &ci.CreateIdentityPoolInput{IdentityPoolName: aws.String("guest"),
		AllowUnauthenticatedIdentities: true, AllowClassicFlow: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	closed, err := ident.CreateIdentityPool(ctx, &ci.CreateIdentityPoolInput{IdentityPoolName: aws.String("closed"),
		AllowUnauthenticatedIdentities: false,
		CognitoIdentityProviders:       []citypes.CognitoIdentityProvider{{ProviderName: aws.String("cognito-idp.us-east-1.amazonaws.com/" + sp), ClientId: aws.String("x")}}})
	if err != nil {
		t.Fatal(err)
	}
	gp, cp := aws.ToString(guest.IdentityPoolId), aws.ToString(closed.IdentityPoolId)

	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	rows, err := Read(ctx, missingInMoto{idp, map[string]bool{sp: true}},
		identityWithRoles{ident, map[string]map[string]string{
			gp: {"authenticated": "arn:aws:iam::123456789012:role/auth", "unauthenticated": "arn:aws:iam::123456789012:role/guest"},
			cp: {"authenticated": "arn:aws:iam::123456789012:role/auth"},
		}, map[string]bool{gp: true}},
		Options{Account: "123456789012", Region: "us-east-1", RequestsPerSecond: -1, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%s %s %s %s=%s %s", r.Resource, r.Finding, r.Severity, r.Setting, r.Value, r.Control))
		if r.Account != "123456789012" || r.Region != "us-east-1" || r.Source != "posture" || !r.Time.Equal(now) {
			t.Errorf("row %+v", r)
		}
	}
	bc := aws.ToString(bad.UserPoolClient.ClientId)
	want := []string{
		bc + " app-client-insecure-flow-enabled medium insecureFlows=ALLOW_USER_PASSWORD_AUTH ",
		bc + " app-client-redirects-changed high callbackURLs=http://app.example.com/cb ",
		bc + " app-client-tokens-weakened medium enableTokenRevocation=false ",
		bc + " app-client-tokens-weakened medium preventUserExistenceErrors=LEGACY ",
		gp + " identity-pool-classic-flow-enabled medium allowClassicFlow=true ",
		gp + " identity-pool-guest-access-enabled high allowUnauthenticatedIdentities=true Cognito.2",
		gp + " identity-pool-guest-role-set high roles.unauthenticated=arn:aws:iam::123456789012:role/guest ",
		rp + " user-pool-deletion-protection-disabled high deletionProtection=INACTIVE Cognito.6",
		rp + " user-pool-log-delivery-off medium logConfigurations=none ",
		rp + " user-pool-mfa-disabled high mfaConfiguration=OFF Cognito.5",
		rp + " user-pool-self-signup-enabled medium adminCreateUserConfig.allowAdminCreateUserOnly=false ",
		rp + " user-pool-threat-protection-reduced high userPoolAddOns.advancedSecurityMode=OFF Cognito.1",
		rp + " user-pool-weak-password-policy medium policies.passwordPolicy.minimumLength=6 Cognito.3",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	out, _ := json.Marshal(rows)
	secret, err := idp.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(rp), ClientId: aws.String(bc)})
	if err != nil {
		t.Fatal(err)
	}
	if s := aws.ToString(secret.UserPoolClient.ClientSecret); s == "" || strings.Contains(string(out), s) {
		t.Errorf("client secret %q: in the output or not generated", s)
	}
}

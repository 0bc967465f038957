package finding

import (
	"fmt"

	"github.com/cognitrail/cognitrail/pkg/class"
)

// Severity grades a finding.
type Severity uint8

// Severities, lowest first.
const (
	Medium Severity = iota + 1
	High
)

// String returns the severity's name, part of the output and metric contract.
func (s Severity) String() string {
	switch s {
	case Medium:
		return "medium"
	case High:
		return "high"
	}
	return fmt.Sprintf("Severity(%d)", uint8(s))
}

// MarshalText makes severities print by name in JSON.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads what MarshalText wrote (a finding kept to be sent
// later is read back).
func (s *Severity) UnmarshalText(b []byte) error {
	v, ok := ParseSeverity(string(b))
	if !ok {
		return fmt.Errorf("finding: unknown severity %q", b)
	}
	*s = v
	return nil
}

// ParseSeverity parses "medium" or "high".
func ParseSeverity(v string) (Severity, bool) {
	switch v {
	case "medium":
		return Medium, true
	case "high":
		return High, true
	}
	return 0, false
}

// Finding names: part of the output contract (CLI, logs, metrics).
const (
	IdentityPoolGuestAccessEnabled     = "identity-pool-guest-access-enabled"
	IdentityPoolClassicFlowEnabled     = "identity-pool-classic-flow-enabled"
	IdentityPoolGuestRoleSet           = "identity-pool-guest-role-set"
	IdentityPoolRolesChanged           = "identity-pool-roles-changed"
	IdentityPoolLoginProvidersChanged  = "identity-pool-login-providers-changed"
	IdentityPoolDeleted                = "identity-pool-deleted"
	UserPoolMFADisabled                = "user-pool-mfa-disabled"
	UserPoolThreatProtectionReduced    = "user-pool-threat-protection-reduced"
	UserPoolDeletionProtectionDisabled = "user-pool-deletion-protection-disabled"
	UserPoolDeleted                    = "user-pool-deleted"
	UserPoolTriggersChanged            = "user-pool-triggers-changed"
	UserPoolSelfSignupEnabled          = "user-pool-self-signup-enabled"
	UserPoolWeakPasswordPolicy         = "user-pool-weak-password-policy"
	AppClientInsecureFlowEnabled       = "app-client-insecure-flow-enabled"
	AppClientRedirectsChanged          = "app-client-redirects-changed"
	AppClientSecretAdded               = "app-client-secret-added"
	AppClientTokensWeakened            = "app-client-tokens-weakened"
	IdentityProviderChanged            = "identity-provider-changed"
	UserPoolDomainChanged              = "user-pool-domain-changed"
	UserPoolLoggingChanged             = "user-pool-logging-changed"
	AdminPasswordSet                   = "admin-password-set"
	AdminUserAddedToGroup              = "admin-user-added-to-group"
	AdminMFAPreferenceChanged          = "admin-mfa-preference-changed"
	UserImportJobCreated               = "user-import-job-created"
	GroupRoleChanged                   = "group-role-changed"
	UserPoolRiskConfigurationWeakened  = "user-pool-risk-configuration-weakened"
	UserPoolWAFRemoved                 = "user-pool-waf-removed"
	UserIdentityChangedByAdmin         = "user-identity-changed-by-admin"
	SignInFailuresFromOneIP            = "sign-in-failures-from-one-ip"
	AccountEnumeration                 = "account-enumeration"
	SignInSuccessAfterFailures         = "sign-in-success-after-failures"
	UserPoolLogDeliveryOff             = "user-pool-log-delivery-off"
	CoverageManagementEventsOff        = "coverage-management-events-off"
	CoverageIdentityPoolDataEventsOff  = "coverage-identity-pool-data-events-off"
)

// API reference pages the catalog cites. CloudTrail logs an operation's
// request with the API's member names, first letter lower case; the Engine
// accepts either case (encoding/json matches names case-insensitively).
const (
	idpRef      = "https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_"
	identityRef = "https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_"
	trailRef    = "https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_"
	// ExamplesRef is AWS's page of published CloudTrail records for Cognito
	// (CreateIdentityPool among them), the shape the test corpus follows.
	ExamplesRef = "https://docs.aws.amazon.com/cognito/latest/developerguide/understanding-amazon-cognito-entries.html"
	loggingRef  = "https://docs.aws.amazon.com/cognito/latest/developerguide/logging-using-cloudtrail.html"
)

// Spec describes one finding of the catalog.
type Spec struct {
	Name     string
	Severity Severity // the default; app-client-redirects-changed may raise it
	Trigger  string   // one line, as the README table shows it
	// Sources are the AWS reference pages for the fields the trigger reads.
	Sources []string
}

// Catalog lists every finding, in the order the README documents them.
var Catalog = []Spec{
	{IdentityPoolGuestAccessEnabled, High, "CreateIdentityPool / UpdateIdentityPool with `allowUnauthenticatedIdentities` true",
		[]string{identityRef + "CreateIdentityPool.html", identityRef + "UpdateIdentityPool.html", ExamplesRef}},
	{IdentityPoolClassicFlowEnabled, Medium, "Create/UpdateIdentityPool with `allowClassicFlow` true",
		[]string{identityRef + "CreateIdentityPool.html", identityRef + "UpdateIdentityPool.html"}},
	{IdentityPoolGuestRoleSet, High, "SetIdentityPoolRoles whose `roles` include `unauthenticated`, unless the same roles are restated",
		[]string{identityRef + "SetIdentityPoolRoles.html"}},
	{IdentityPoolRolesChanged, Medium, "any other SetIdentityPoolRoles (roles or `roleMappings`) that changes them",
		[]string{identityRef + "SetIdentityPoolRoles.html"}},
	{IdentityPoolLoginProvidersChanged, Medium, "Create/UpdateIdentityPool with `supportedLoginProviders`, `cognitoIdentityProviders`, `openIdConnectProviderARNs`, `samlProviderARNs` or `developerProviderName` that changes them (a social provider's app id counts, shown as a digest)",
		[]string{identityRef + "CreateIdentityPool.html", identityRef + "UpdateIdentityPool.html"}},
	{IdentityPoolDeleted, High, "DeleteIdentityPool",
		[]string{identityRef + "DeleteIdentityPool.html"}},
	{UserPoolMFADisabled, High, "SetUserPoolMfaConfig, CreateUserPool or UpdateUserPool with `mfaConfiguration` OFF",
		[]string{idpRef + "SetUserPoolMfaConfig.html", idpRef + "CreateUserPool.html", idpRef + "UpdateUserPool.html"}},
	{UserPoolThreatProtectionReduced, High, "Create/UpdateUserPool with `userPoolAddOns.advancedSecurityMode` OFF or AUDIT",
		[]string{idpRef + "UserPoolAddOnsType.html", idpRef + "UpdateUserPool.html"}},
	{UserPoolDeletionProtectionDisabled, High, "UpdateUserPool with `deletionProtection` INACTIVE",
		[]string{idpRef + "UpdateUserPool.html"}},
	{UserPoolDeleted, High, "DeleteUserPool",
		[]string{idpRef + "DeleteUserPool.html"}},
	{UserPoolTriggersChanged, High, "Create/UpdateUserPool with `lambdaConfig`, compared trigger by trigger (a pre-token-generation trigger can mint any claim)",
		[]string{idpRef + "LambdaConfigType.html", idpRef + "UpdateUserPool.html"}},
	{UserPoolSelfSignupEnabled, Medium, "Create/UpdateUserPool with `adminCreateUserConfig.allowAdminCreateUserOnly` false",
		[]string{idpRef + "AdminCreateUserConfigType.html", idpRef + "CreateUserPool.html"}},
	{UserPoolWeakPasswordPolicy, Medium, "Create/UpdateUserPool with `policies.passwordPolicy.minimumLength` below 8",
		[]string{idpRef + "PasswordPolicyType.html", idpRef + "UpdateUserPool.html"}},
	{AppClientInsecureFlowEnabled, Medium, "Create/UpdateUserPoolClient whose `explicitAuthFlows` include `ALLOW_USER_PASSWORD_AUTH` / `USER_PASSWORD_AUTH` / `ADMIN_NO_SRP_AUTH`, or whose `allowedOAuthFlows` include `implicit`",
		[]string{idpRef + "CreateUserPoolClient.html", idpRef + "UpdateUserPoolClient.html"}},
	{AppClientRedirectsChanged, Medium, "Create/UpdateUserPoolClient with `callbackURLs` or `logoutURLs` (high when one is plain `http://` to a host other than localhost)",
		[]string{idpRef + "CreateUserPoolClient.html", idpRef + "UpdateUserPoolClient.html"}},
	{AppClientSecretAdded, Medium, "AddUserPoolClientSecret",
		[]string{idpRef + "AddUserPoolClientSecret.html"}},
	{AppClientTokensWeakened, Medium, "Create/UpdateUserPoolClient with `enableTokenRevocation` false, `preventUserExistenceErrors` LEGACY, or a token or session validity lengthened (`refreshTokenValidity`, `accessTokenValidity`, `idTokenValidity` in `tokenValidityUnits`, `authSessionValidity`: longer than before, or than the default when nothing earlier is known)",
		[]string{idpRef + "CreateUserPoolClient.html", idpRef + "UpdateUserPoolClient.html"}},
	{IdentityProviderChanged, High, "Create/Update/DeleteIdentityProvider",
		[]string{idpRef + "CreateIdentityProvider.html", idpRef + "UpdateIdentityProvider.html", idpRef + "DeleteIdentityProvider.html"}},
	{UserPoolDomainChanged, Medium, "Create/Update/DeleteUserPoolDomain",
		[]string{idpRef + "CreateUserPoolDomain.html", idpRef + "UpdateUserPoolDomain.html", idpRef + "DeleteUserPoolDomain.html"}},
	{UserPoolLoggingChanged, Medium, "SetLogDeliveryConfiguration",
		[]string{idpRef + "SetLogDeliveryConfiguration.html"}},
	{AdminPasswordSet, High, "AdminSetUserPassword",
		[]string{idpRef + "AdminSetUserPassword.html"}},
	{AdminUserAddedToGroup, Medium, "AdminAddUserToGroup",
		[]string{idpRef + "AdminAddUserToGroup.html"}},
	{AdminMFAPreferenceChanged, Medium, "AdminSetUserMFAPreference",
		[]string{idpRef + "AdminSetUserMFAPreference.html"}},
	{UserImportJobCreated, Medium, "CreateUserImportJob / StartUserImportJob: users, with their attributes, brought in from a file, past sign-up and its triggers",
		[]string{idpRef + "CreateUserImportJob.html", idpRef + "StartUserImportJob.html"}},
	{UserPoolWAFRemoved, High, "wafv2 DisassociateWebACL of a user pool (`resourceArn` `arn:aws:cognito-idp:...:userpool/...`): the pool loses its web ACL's rate limits and IP rules; from trail files only (the realtime rule matches Cognito's own calls)",
		[]string{"https://docs.aws.amazon.com/waf/latest/APIReference/API_DisassociateWebACL.html", "https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-waf.html"}},
	{UserPoolRiskConfigurationWeakened, High, "SetRiskConfiguration that sets compromised-credentials or a high or medium account-takeover response to NO_ACTION, turns a high or medium risk's notification off, or adds IP ranges to `skippedIPRangeList`, judged against the pool's or app client's earlier value",
		[]string{idpRef + "SetRiskConfiguration.html", idpRef + "RiskExceptionConfigurationType.html"}},
	{GroupRoleChanged, High, "CreateGroup / UpdateGroup with a `roleArn`: every member's ID token may then be exchanged for that role's credentials",
		[]string{idpRef + "CreateGroup.html", idpRef + "UpdateGroup.html"}},
	{UserIdentityChangedByAdmin, Medium, "AdminLinkProviderForUser, AdminDisableProviderForUser, or AdminUpdateUserAttributes whose record shows `email` or `phone_number` among the attributes (their names, never values): a way to take an account over",
		[]string{idpRef + "AdminLinkProviderForUser.html", idpRef + "AdminDisableProviderForUser.html", idpRef + "AdminUpdateUserAttributes.html"}},
	{SignInFailuresFromOneIP, High, "at least the threshold (default 15) failed sign-ins from one `sourceIPAddress` in one trail file, or in a window of event time across files (default 15 minutes); an AWS service named as the source is no address",
		[]string{loggingRef}},
	{CredentialStuffing, High, "one user pool (or an app client not resolved to one) fails at least 50 sign-ins from at least 10 distinct addresses, and more than it issues tokens (a sign-in answered with a challenge is no success), in a window across files (default 15 minutes)",
		[]string{idpRef + "InitiateAuth.html", loggingRef}},
	{PasswordSpray, High, "one `sourceIPAddress` fails sign-in for at least 10 distinct users (`additionalEventData.sub`, which CloudTrail records on a wrong password) in a window across files (default 60 minutes)",
		[]string{idpRef + "InitiateAuth.html", loggingRef}},
	{TargetedBruteForce, High, "one user (`additionalEventData.sub`) fails sign-in from at least 5 distinct addresses in a window across files (default 60 minutes); the finding names the sub, never a user name",
		[]string{idpRef + "InitiateAuth.html", loggingRef}},
	{CodeBruteForce, High, "at least 10 `CodeMismatchException` / `ExpiredCodeException` errors (MFA, confirmation, reset and verification codes) from one `sourceIPAddress`, or for one user (`additionalEventData.sub`) from at least 2 addresses, in a window across files (default 15 minutes)",
		[]string{idpRef + "RespondToAuthChallenge.html", idpRef + "ConfirmForgotPassword.html", idpRef + "ConfirmSignUp.html"}},
	{SMSPumping, High, "code-sending calls (SignUp, ResendConfirmationCode, ForgotPassword, GetUserAttributeVerificationCode, AdminResetUserPassword and the endpoints that send codes) in a window across files (default 60 minutes): at least 50 for one pool or app client with under 20 % as many sign-up confirmations, or at least 10 from one `sourceIPAddress`",
		[]string{idpRef + "SignUp.html", idpRef + "ResendConfirmationCode.html", idpRef + "ForgotPassword.html", "https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-sms-settings.html"}},
	{ConfigChangeDenied, Medium, "one principal (`userIdentity.arn`) makes at least 5 user or identity pool configuration calls that fail (AccessDeniedException and the like) in a window across files (default 15 minutes): probing what it may change",
		[]string{idpRef + "UpdateUserPool.html", identityRef + "UpdateIdentityPool.html"}},
	{RefreshFromManyIPs, Medium, "one user (`additionalEventData.sub`) refreshes tokens (InitiateAuth / AdminInitiateAuth with `REFRESH_TOKEN_AUTH`, answered with tokens) from at least 5 distinct addresses in a window across files (default 60 minutes): the refresh token is on several machines. Where the records name the user: the token endpoint's refresh (`Token_POST`) names none",
		[]string{idpRef + "InitiateAuth.html", loggingRef}},
	{GuestCredentialsFirstSeen, Medium, "an identity pool issues guest credentials (GetCredentialsForIdentity without `logins`, an identity pool data event) with none in the 7 days before: guest access nobody used is being used; where the `userIdentity.type` is `Unknown` for guests and users alike, the absent `logins` is what marks a guest",
		[]string{identityRef + "GetCredentialsForIdentity.html", loggingRef}},
	{AccountEnumeration, Medium, "at least 10 `UserNotFoundException` errors, or `UsernameExistsException` refusals of SignUp / AdminCreateUser (which tell that a user exists even with `PreventUserExistenceErrors`), from one `sourceIPAddress` in one trail file",
		[]string{loggingRef}},
	{SignInSuccessAfterFailures, High, "a sign-in that issued tokens from an IP that failed at least the threshold earlier in the same trail file, or, across files, in the window (default 15 minutes) up to the sign-in's 5-minute bucket; a call answered with a challenge (`responseElements.challengeName`: SRP's `PASSWORD_VERIFIER`, an MFA code) issued none and is no success",
		[]string{loggingRef}},
	{UserPoolLogDeliveryOff, Medium, "posture only: GetLogDeliveryConfiguration of a user pool lists no log configuration (`cognitrail posture`)",
		[]string{idpRef + "GetLogDeliveryConfiguration.html"}},
	{CoverageManagementEventsOff, High, "posture only: no trail of the Region logs Cognito management events (every finding and metric is blind)",
		[]string{trailRef + "GetEventSelectors.html", loggingRef}},
	{CoverageIdentityPoolDataEventsOff, Medium, "posture only: no trail of the Region logs identity pool data events (`resources.type` `AWS::Cognito::IdentityPool`): guest credentials and identity pool role calls go unseen",
		[]string{trailRef + "GetEventSelectors.html", loggingRef}},
}

var bySpec = func() map[string]*Spec {
	m := make(map[string]*Spec, len(Catalog))
	for i := range Catalog {
		m[Catalog[i].Name] = &Catalog[i]
	}
	return m
}()

// Lookup returns the spec of the finding named name.
func Lookup(name string) (Spec, bool) {
	s, ok := bySpec[name]
	if !ok {
		return Spec{}, false
	}
	return *s, true
}

// Severities returns every severity, lowest first: the values of the
// Findings metric's Severity dimension.
func Severities() []Severity { return []Severity{Medium, High} }

// Operations returns the Cognito operations that can yield a configuration
// finding, by CloudTrail eventSource, sorted: what an EventBridge rule for
// the realtime path must match (the sign-in findings need a whole trail
// file; WAF's DisassociateWebACL is judged from trail files, as a rule on it
// would receive every web ACL disassociation of the account).
func Operations() map[string][]string {
	return map[string][]string{
		class.SourceUserPool:     sortedKeys(userPoolOps),
		class.SourceIdentityPool: sortedKeys(identityPoolOps),
	}
}

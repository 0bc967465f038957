package class

// This file is the one place that lists operation names. The endpoint tables
// are copied from the seed document "Amazon Cognito logging in AWS
// CloudTrail" (shared/seeds/000_98442a216834a844.txt): "Hosted UI (classic)
// events" and "Managed login events". TestOperationTablesMatchSeed checks
// them against that document when it is present.

// HostedUIOperations are the hosted UI (classic) endpoint operations.
var HostedUIOperations = []string{
	"Login_GET", "CognitoAuthentication",
	"OAuth2_Authorize_GET", "Beta_Authorize_GET",
	"OAuth2Response_GET", "OAuth2Response_POST",
	"SAML2Response_POST", "Beta_SAML2Response_POST",
	"Login_OIDC_SAML_POST",
	"Token_POST", "Beta_Token_POST",
	"Signup_GET", "Signup_POST",
	"Confirm_GET", "Confirm_POST",
	"ResendCode_POST",
	"ForgotPassword_GET", "ForgotPassword_POST",
	"ConfirmForgotPassword_GET", "ConfirmForgotPassword_POST",
	"ResetPassword_GET", "ResetPassword_POST",
	"Mfa_GET", "Mfa_POST",
	"MfaOption_GET", "MfaOption_POST",
	"MfaRegister_GET", "MfaRegister_POST",
	"Logout",
	"SAML2Logout_POST",
	"Error_GET",
	"UserInfo_GET", "UserInfo_POST",
	"Confirm_With_Link_GET",
	"Event_Feedback_GET",
}

// ManagedLoginOperations are the managed login endpoint operations.
var ManagedLoginOperations = []string{
	"login_POST",
	"login_continue_POST",
	"selectChallenge_POST",
	"confirmUser_GET",
	"mfa_back_POST",
	"mfa_options_POST",
	"mfa_phone_register_POST",
	"mfa_phone_verify_POST",
	"mfa_phone_resendCode_POST",
	"mfa_totp_POST",
	"signup_POST",
	"signup_confirm_POST",
	"verifyCode_POST",
	"passkeys_add_POST",
	"passkeys_add_GET",
	"login_passkey_POST",
}

// IdentityPoolDataOperations are the cognito-identity operations CloudTrail
// logs as data events (eventCategory Data). The category is decided by the
// record's eventCategory; this list is what the seed names, used to decide
// records from before eventCategory existed.
var IdentityPoolDataOperations = []string{
	"GetId",
	"GetCredentialsForIdentity",
	"GetOpenIdToken",
	"GetOpenIdTokenForDeveloperIdentity",
	"UnlinkIdentity",
}

// UserPoolConfigOperations create, update or delete user pool configuration:
// pools, app clients and their secrets, domains, identity providers, resource
// servers, groups, MFA, threat protection, UI and branding, log delivery,
// terms, webauthn settings and tags. User data (users, group membership,
// devices) and sign-ins are not configuration.
var UserPoolConfigOperations = []string{
	"CreateUserPool", "UpdateUserPool", "DeleteUserPool",
	"AddCustomAttributes",
	"CreateUserPoolClient", "UpdateUserPoolClient", "DeleteUserPoolClient",
	"AddUserPoolClientSecret", "DeleteUserPoolClientSecret",
	"CreateUserPoolDomain", "UpdateUserPoolDomain", "DeleteUserPoolDomain",
	"CreateIdentityProvider", "UpdateIdentityProvider", "DeleteIdentityProvider",
	"CreateResourceServer", "UpdateResourceServer", "DeleteResourceServer",
	"CreateGroup", "UpdateGroup", "DeleteGroup",
	"SetUserPoolMfaConfig",
	"SetRiskConfiguration",
	"SetUICustomization",
	"SetLogDeliveryConfiguration",
	"CreateManagedLoginBranding", "UpdateManagedLoginBranding", "DeleteManagedLoginBranding",
	"CreateTerms", "UpdateTerms", "DeleteTerms",
	"TagResource", "UntagResource",
}

// IdentityPoolConfigOperations create, update or delete identity pool
// configuration: the pools, their roles and role mappings, principal tag
// maps and tags.
var IdentityPoolConfigOperations = []string{
	"CreateIdentityPool", "UpdateIdentityPool", "DeleteIdentityPool",
	"SetIdentityPoolRoles",
	"SetPrincipalTagAttributeMap",
	"TagResource", "UntagResource",
}

// SyncConfigOperations are the Cognito Sync operations that change an
// identity pool's settings (push sync, streams, and the Lambda triggered on
// sync events); they count as identity pool configuration changes.
var SyncConfigOperations = []string{
	"SetIdentityPoolConfiguration",
	"SetCognitoEvents",
}

// MutatingVerbs start the names of API operations that change something. A
// cognito-idp or cognito-identity operation that no table lists and whose
// name starts with one of them is counted as a configuration change and
// flagged Unlisted: an operation AWS adds later is seen, not dropped.
var MutatingVerbs = []string{
	"Create", "Update", "Delete", "Set", "Add", "Put", "Tag", "Untag",
	"Associate", "Disassociate", "Start", "Stop", "Enable", "Disable", "Revoke",
}

// UserDataOperations change users, their devices, MFA factors, sessions and
// identities, not pool configuration, although many names start with a
// mutating verb. Listing them keeps them out of the configuration counts.
var UserDataOperations = []string{
	// cognito-idp
	"SignUp", "ConfirmSignUp", "ResendConfirmationCode", "AdminConfirmSignUp",
	"AdminCreateUser", "AdminDeleteUser", "AdminDisableUser", "AdminEnableUser",
	"AdminUpdateUserAttributes", "AdminDeleteUserAttributes",
	"UpdateUserAttributes", "DeleteUserAttributes", "DeleteUser",
	"VerifyUserAttribute", "GetUserAttributeVerificationCode",
	"ChangePassword", "ConfirmForgotPassword", "AdminSetUserPassword",
	"AdminAddUserToGroup", "AdminRemoveUserFromGroup",
	"AdminLinkProviderForUser", "AdminDisableProviderForUser",
	"SetUserMFAPreference", "AdminSetUserMFAPreference",
	"SetUserSettings", "AdminSetUserSettings",
	"AssociateSoftwareToken", "VerifySoftwareToken",
	"ConfirmDevice", "ForgetDevice", "AdminForgetDevice",
	"UpdateDeviceStatus", "AdminUpdateDeviceStatus",
	"UpdateAuthEventFeedback", "AdminUpdateAuthEventFeedback",
	"GlobalSignOut", "AdminUserGlobalSignOut", "RevokeToken",
	"StartWebAuthnRegistration", "CompleteWebAuthnRegistration", "DeleteWebAuthnCredential",
	"CreateUserImportJob", "StartUserImportJob", "StopUserImportJob",
	// cognito-identity
	"DeleteIdentities", "MergeDeveloperIdentities", "UnlinkDeveloperIdentity",
}

// SignInOperations are sign-in attempts: user pool API authentication calls
// and the endpoint requests that submit credentials, an IdP response, an MFA
// code or a passkey. A failed one counts in SignInFailures.
var SignInOperations = []string{
	// user pool API
	"InitiateAuth", "AdminInitiateAuth",
	"RespondToAuthChallenge", "AdminRespondToAuthChallenge",
	// hosted UI (classic)
	"CognitoAuthentication", "Login_POST",
	"OAuth2Response_GET", "OAuth2Response_POST",
	"SAML2Response_POST", "Beta_SAML2Response_POST",
	"Mfa_POST",
	// managed login
	"login_POST", "login_continue_POST", "selectChallenge_POST",
	"mfa_phone_verify_POST", "mfa_totp_POST", "verifyCode_POST",
	"login_passkey_POST",
}

// ForgotPasswordOperations start a password reset.
var ForgotPasswordOperations = []string{
	"ForgotPassword", "AdminResetUserPassword", "ForgotPassword_POST",
}

// SignUpOperations register a user by themselves (self-service sign-up),
// API and endpoints.
var SignUpOperations = []string{"SignUp", "Signup_POST", "signup_POST"}

// SignUpConfirmationOperations confirm a sign-up: the code a sign-up sent
// came back (or an administrator confirmed it).
var SignUpConfirmationOperations = []string{
	"ConfirmSignUp", "AdminConfirmSignUp", "Confirm_POST", "Confirm_With_Link_GET", "signup_confirm_POST",
}

// CodeDeliveryOperations make Cognito send a code by SMS or email: what an
// SMS pumping attack calls, since each call is a message the account pays
// for.
var CodeDeliveryOperations = []string{
	"SignUp", "ResendConfirmationCode", "ForgotPassword", "GetUserAttributeVerificationCode", "AdminResetUserPassword",
	"Signup_POST", "ResendCode_POST", "ForgotPassword_POST",
	"signup_POST", "mfa_phone_resendCode_POST",
}

// SignUp, SignUpConfirmation and CodeDelivery report whether an operation
// is in SignUpOperations, SignUpConfirmationOperations and
// CodeDeliveryOperations.
func SignUp(op string) bool             { return signUp[op] }
func SignUpConfirmation(op string) bool { return signUpConfirmation[op] }
func CodeDelivery(op string) bool       { return codeDelivery[op] }

func set(lists ...[]string) map[string]bool {
	m := make(map[string]bool)
	for _, l := range lists {
		for _, v := range l {
			m[v] = true
		}
	}
	return m
}

var (
	hostedUI           = set(HostedUIOperations)
	managedLogin       = set(ManagedLoginOperations)
	identityData       = set(IdentityPoolDataOperations)
	userPoolConfig     = set(UserPoolConfigOperations)
	identityConfig     = set(IdentityPoolConfigOperations)
	signIn             = set(SignInOperations)
	forgotPassword     = set(ForgotPasswordOperations)
	signUp             = set(SignUpOperations)
	signUpConfirmation = set(SignUpConfirmationOperations)
	codeDelivery       = set(CodeDeliveryOperations)
	syncConfig         = set(SyncConfigOperations)
	anyTable           = set(HostedUIOperations, ManagedLoginOperations, IdentityPoolDataOperations,
		UserPoolConfigOperations, IdentityPoolConfigOperations, SignInOperations,
		ForgotPasswordOperations, UserDataOperations)
)

func listed(name string) bool { return anyTable[name] }

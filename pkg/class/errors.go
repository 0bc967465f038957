package class

// The error codes Amazon Cognito documents, as CloudTrail records them in
// errorCode. A value on these lists is one of a fixed, AWS-defined set, so
// the series budget (pkg/aggregate ApplyBudget) never spends on it: calls
// made by anyone (a guest's denied calls to other services among them)
// cannot fill the month's ErrorCode budget and fold Cognito's own errors
// into "other".
//
// Sources: the "Errors" sections of each operation, and "Common Errors",
// in the API references:
//   - Amazon Cognito user pools API Reference (cognito-idp), every
//     operation's errors; the same set as the error types of
//     github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider
//     (types/errors.go), which TestUserPoolErrorCodesAsTheSDK checks
//     against the version in go.mod;
//   - Amazon Cognito Federated Identities API Reference (cognito-identity),
//     e.g. GetCredentialsForIdentity's Errors;
//   - Amazon Cognito Sync API Reference (cognito-sync);
//   - the Common Errors page shared by the three references.
var (
	UserPoolErrorCodes = []string{
		"AccessDeniedException", "AliasExistsException", "CodeDeliveryFailureException",
		"CodeMismatchException", "ConcurrentModificationException", "DeviceKeyExistsException",
		"DuplicateProviderException", "EnableSoftwareTokenMFAException", "ExpiredCodeException",
		"FeatureUnavailableInTierException", "ForbiddenException", "GroupExistsException",
		"InternalErrorException", "InternalServerException", "InvalidEmailRoleAccessPolicyException",
		"InvalidLambdaResponseException", "InvalidOAuthFlowException", "InvalidParameterException",
		"InvalidPasswordException", "InvalidSmsRoleAccessPolicyException",
		"InvalidSmsRoleTrustRelationshipException", "InvalidUserPoolConfigurationException",
		"LimitExceededException", "MFAMethodNotFoundException", "ManagedLoginBrandingExistsException",
		"NotAuthorizedException", "OperationNotEnabledException", "PasswordHistoryPolicyViolationException",
		"PasswordResetRequiredException", "PreconditionNotMetException", "RefreshTokenReuseException",
		"ResourceNotFoundException", "ScopeDoesNotExistException", "SoftwareTokenMFANotFoundException",
		"TermsExistsException", "TierChangeNotAllowedException", "TooManyFailedAttemptsException",
		"TooManyRequestsException", "UnauthorizedException", "UnexpectedLambdaException",
		"UnsupportedIdentityProviderException", "UnsupportedOperationException",
		"UnsupportedTokenTypeException", "UnsupportedUserStateException", "UserImportInProgressException",
		"UserLambdaValidationException", "UserNotConfirmedException", "UserNotFoundException",
		"UserPoolAddOnNotEnabledException", "UserPoolTaggingException", "UsernameExistsException",
		"WebAuthnChallengeNotFoundException", "WebAuthnClientMismatchException",
		"WebAuthnConfigurationMissingException", "WebAuthnCredentialNotSupportedException",
		"WebAuthnNotEnabledException", "WebAuthnOriginNotAllowedException",
		"WebAuthnRelyingPartyMismatchException",
	}
	IdentityPoolErrorCodes = []string{
		"ConcurrentModificationException", "DeveloperUserAlreadyRegisteredException",
		"ExternalServiceException", "InternalErrorException", "InvalidIdentityPoolConfigurationException",
		"InvalidParameterException", "LimitExceededException", "NotAuthorizedException",
		"ResourceConflictException", "ResourceNotFoundException", "TooManyRequestsException",
	}
	SyncErrorCodes = []string{
		"AlreadyStreamedException", "ConcurrentModificationException", "DuplicateRequestException",
		"InternalErrorException", "InvalidConfigurationException", "InvalidLambdaFunctionOutputException",
		"InvalidParameterException", "LambdaThrottledException", "LimitExceededException",
		"NotAuthorizedException", "ResourceConflictException", "ResourceNotFoundException",
		"TooManyRequestsException",
	}
	CommonErrorCodes = []string{
		"AccessDeniedException", "IncompleteSignature", "InternalFailure", "InvalidAction",
		"InvalidClientTokenId", "NotAuthorized", "OptInRequired", "RequestExpired",
		"ServiceUnavailable", "ThrottlingException", "ValidationError",
	}
)

var documentedErrors = set(UserPoolErrorCodes, IdentityPoolErrorCodes, SyncErrorCodes, CommonErrorCodes)

// DocumentedErrorCode reports whether code is one Amazon Cognito documents.
func DocumentedErrorCode(code string) bool { return documentedErrors[code] }

// ListedOperation reports whether an operation (a record's eventName) is on
// one of this package's tables: a fixed, AWS-defined set, which the series
// budget never spends on.
func ListedOperation(name string) bool { return anyTable[name] || syncConfig[name] }

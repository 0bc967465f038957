package class

import (
	"strings"

	"github.com/cognitrail/cognitrail/pkg/record"
)

// Category is the kind of Cognito activity a record is. Exactly one per
// record.
type Category uint8

// Categories, in the order reports list them.
const (
	Other Category = iota
	UserPoolAPI
	HostedUI
	ManagedLogin
	IdentityPoolData
	IdentityPoolManagement
	CognitoSync
	IdentityPoolRoleCall
	STSWebIdentity
	numCategories
)

// NumCategories is the number of categories, for arrays indexed by Category.
const NumCategories = int(numCategories)

var categoryNames = [numCategories]string{
	Other:                  "other",
	UserPoolAPI:            "user-pool-api",
	HostedUI:               "hosted-ui",
	ManagedLogin:           "managed-login",
	IdentityPoolData:       "identity-pool-data",
	IdentityPoolManagement: "identity-pool-management",
	CognitoSync:            "cognito-sync",
	IdentityPoolRoleCall:   "identity-pool-role-call",
	STSWebIdentity:         "sts-web-identity",
}

// String returns the category's name, part of the CLI and metric contract.
func (c Category) String() string {
	if int(c) < len(categoryNames) {
		return categoryNames[c]
	}
	return "invalid"
}

// MarshalText makes categories print by name in JSON.
func (c Category) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// Categories returns every category, in order.
func Categories() []Category {
	cs := make([]Category, numCategories)
	for i := range cs {
		cs[i] = Category(i)
	}
	return cs
}

// ParseCategory returns the category named s.
func ParseCategory(s string) (Category, bool) {
	for i, n := range categoryNames {
		if n == s {
			return Category(i), true
		}
	}
	return Other, false
}

// AuthType says which identity pool role vended the credentials.
type AuthType string

// Auth types: the values of the AuthType metric dimension.
const (
	Authenticated   AuthType = "authenticated"
	Unauthenticated AuthType = "unauthenticated"
	// UnknownAuth: identity pool credentials whose amr attribute was absent.
	UnknownAuth AuthType = "unknown"
)

// Class is what the classifier says of one record. It is the one
// description of a classified record: package aggregate counts shapes of it,
// `scan --format jsonl` writes it under these JSON names (part of the CLI's
// output contract, in this order), and the function's notable-event lines
// log some of it (pkg/processor). A new fact is a field here; see
// pkg/metric's doc for the rest of the recipe.
type Class struct {
	Category Category `json:"category"`
	// Operation is the eventName; for identity-pool-role-call it is prefixed
	// with the service ("s3:GetObject") because any service may appear.
	Operation string `json:"operation"`
	// ConfigChange: the call creates, updates or deletes user pool or
	// identity pool configuration (not sign-ins, not user data).
	ConfigChange bool `json:"configChange"`
	// Unlisted: an operation no table lists, classified by naming
	// convention: a cognito-idp endpoint (AwsServiceEvent) operation that
	// neither seed table lists, or a cognito-idp / cognito-identity API
	// operation whose name starts with a mutating verb (counted as a
	// configuration change, so a new AWS operation cannot pass unnoticed).
	Unlisted       bool   `json:"unlistedOperation,omitempty"`
	Failed         bool   `json:"failed"`
	ErrorCode      string `json:"errorCode"`
	SignIn         bool   `json:"signIn,omitempty"`
	ForgotPassword bool   `json:"forgotPassword,omitempty"`
	UserPoolID     string `json:"userPoolId,omitempty"`
	// ClientID is the user pool app client of a cognito-idp record, when the
	// record names one (record.Record.ClientID).
	ClientID       string `json:"clientId,omitempty"`
	IdentityPoolID string `json:"identityPoolId,omitempty"`
	// AuthType is set for every record made with identity pool credentials
	// and for Cognito AssumeRoleWithWebIdentity calls, when the amr says.
	AuthType AuthType `json:"authType,omitempty"`
	// Account is the account the call was made in; the jsonl line names the
	// file's account already (in its key), so it is not written again.
	Account string `json:"-"`
}

// Event sources.
const (
	SourceUserPool     = "cognito-idp.amazonaws.com"
	SourceIdentityPool = "cognito-identity.amazonaws.com"
	SourceSync         = "cognito-sync.amazonaws.com"
	SourceSTS          = "sts.amazonaws.com"
	// cognitoProviderAlt is how some AWS documentation spells the provider.
	cognitoProviderAlt = "cognito-identity.amazon.com"
)

func isCognitoProvider(p string) bool {
	return p == SourceIdentityPool || p == cognitoProviderAlt
}

// Classify classifies one record.
//
// Precedence: a call to a Cognito service is classified by that service even
// when identity pool credentials made it (Cognito Sync always is), because
// the service says what was done; AuthType still records the credentials, so
// IdentityPoolRoleCalls counts every call made with them. identity-pool-role-
// call is for the other services.
func Classify(r *record.Record) Class {
	c := Class{
		Operation:      r.EventName,
		ErrorCode:      r.ErrorCode,
		Failed:         r.ErrorCode != "",
		UserPoolID:     r.UserPoolID,
		IdentityPoolID: r.IdentityPoolID,
		Account:        r.RecipientAccountID,
	}
	if c.Account == "" {
		c.Account = r.UserIdentity.AccountID
	}
	if isCognitoProvider(r.UserIdentity.WebIDProvider) {
		c.AuthType = authType(r.UserIdentity.AMR)
	}
	switch r.EventSource {
	case SourceUserPool:
		endpoint := r.EventType == "AwsServiceEvent" ||
			r.EventType == "" && (hostedUI[r.EventName] || managedLogin[r.EventName])
		switch {
		case !endpoint:
			c.Category = UserPoolAPI
			c.ConfigChange = userPoolConfig[r.EventName]
			c.unlistedMutation(r.EventName)
		case hostedUI[r.EventName]:
			c.Category = HostedUI
		case managedLogin[r.EventName]:
			c.Category = ManagedLogin
		default:
			// Managed login names start lower case (login_POST), hosted UI
			// (classic) names upper case (Login_GET): a new endpoint
			// operation is most likely to follow its generation's rule.
			c.Unlisted = true
			if n := r.EventName; n != "" && n[0] >= 'a' && n[0] <= 'z' {
				c.Category = ManagedLogin
			} else {
				c.Category = HostedUI
			}
		}
		c.ClientID = r.ClientID
		c.SignIn = signIn[r.EventName]
		c.ForgotPassword = forgotPassword[r.EventName]
		if endpoint && !c.Failed && r.HTTPStatus >= 400 {
			// Endpoint events may carry the failure only as an HTTP status.
			c.Failed = true
		}
	case SourceIdentityPool:
		if r.EventCategory == "Data" || r.EventCategory == "" && identityData[r.EventName] {
			c.Category = IdentityPoolData
		} else {
			c.Category = IdentityPoolManagement
			c.ConfigChange = identityConfig[r.EventName]
			c.unlistedMutation(r.EventName)
		}
	case SourceSync:
		c.Category = CognitoSync
		c.ConfigChange = syncConfig[r.EventName]
	case SourceSTS:
		if r.EventName == "AssumeRoleWithWebIdentity" &&
			(isCognitoProvider(r.UserIdentity.IdentityProvider) || isCognitoProvider(r.Provider)) {
			c.Category = STSWebIdentity
			break
		}
		fallthrough
	default:
		if c.AuthType != "" {
			c.Category = IdentityPoolRoleCall
			c.Operation = service(r.EventSource) + ":" + r.EventName
		}
	}
	return c
}

// unlistedMutation makes an operation that no table lists and whose name
// starts with a mutating verb a configuration change, flagged Unlisted.
// TokensIssued reports a sign-in that succeeded: it issued tokens (or,
// for a hosted UI or managed login endpoint, which logs no tokens, was
// not refused). A user pool API call answered with a challenge
// (responseElements.challengeName: PASSWORD_VERIFIER of SRP, an MFA code,
// a new password) issued none: the user has not signed in yet, and a
// stolen password answered with an MFA challenge is no success.
func TokensIssued(r *record.Record, c *Class) bool {
	return c.SignIn && !c.Failed && r.Challenge == ""
}

func (c *Class) unlistedMutation(name string) {
	if c.ConfigChange || listed(name) || !mutating(name) {
		return
	}
	c.ConfigChange = true
	c.Unlisted = true
}

// mutating reports whether name starts with one of MutatingVerbs followed by
// an upper-case letter (or nothing): "SetFoo" is, "Settle" is not.
func mutating(name string) bool {
	for _, v := range MutatingVerbs {
		if rest, ok := strings.CutPrefix(name, v); ok && (rest == "" || rest[0] >= 'A' && rest[0] <= 'Z') {
			return true
		}
	}
	return false
}

// authType reads the amr attribute, logged as a string such as
// `["unauthenticated"]` or `["authenticated","cognito-idp...","..."]`.
func authType(amr string) AuthType {
	switch {
	case strings.Contains(amr, `unauthenticated`):
		return Unauthenticated
	case strings.Contains(amr, `authenticated`):
		return Authenticated
	}
	return UnknownAuth
}

// service turns "s3.amazonaws.com" into "s3".
func service(eventSource string) string {
	if i := strings.IndexByte(eventSource, '.'); i > 0 {
		return eventSource[:i]
	}
	return eventSource
}

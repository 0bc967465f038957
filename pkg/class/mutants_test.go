package class_test

// Tests that pin down behaviours the other tests of this package left open
// (issue 19: each was a mutant of the code that no test noticed).

import (
	"encoding/json"
	"testing"

	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/record"
)

// TestHTTPStatusFailsOnlyEndpointCalls: an HTTP status of 400 or more marks
// an endpoint (hosted UI, managed login) request failed; an API call's
// failure is its errorCode alone, and a redirect is no failure.
func TestHTTPStatusFailsOnlyEndpointCalls(t *testing.T) {
	for _, tc := range []struct {
		eventType, name string
		status          int
		failed          bool
	}{
		{"AwsServiceEvent", "Login_POST", 400, true},
		{"AwsServiceEvent", "Login_POST", 500, true},
		{"AwsServiceEvent", "Login_POST", 399, false},
		{"AwsServiceEvent", "Login_POST", 302, false},
		{"AwsServiceEvent", "Login_POST", 0, false},
		{"", "login_POST", 401, true},
		{"AwsApiCall", "InitiateAuth", 400, false},
		{"AwsApiCall", "InitiateAuth", 500, false},
		{"", "InitiateAuth", 400, false},
	} {
		r := record.Record{EventSource: class.SourceUserPool, EventType: tc.eventType, EventName: tc.name, HTTPStatus: tc.status}
		if c := class.Classify(&r); c.Failed != tc.failed || c.ErrorCode != "" {
			t.Errorf("%s %s status %d: failed %v, want %v", tc.eventType, tc.name, tc.status, c.Failed, tc.failed)
		}
	}
}

// TestEndpointByEventType: an endpoint operation's name logged as an API
// call (eventType AwsApiCall) is an API call; without an eventType the
// tables decide.
func TestEndpointByEventType(t *testing.T) {
	for _, tc := range []struct {
		eventType, name string
		want            class.Category
	}{
		{"AwsApiCall", "Login_GET", class.UserPoolAPI},
		{"AwsApiCall", "login_POST", class.UserPoolAPI},
		{"", "Login_GET", class.HostedUI},
		{"", "login_POST", class.ManagedLogin},
		{"", "Consent_POST", class.UserPoolAPI}, // on no table: an API call
		{"AwsServiceEvent", "Login_GET", class.HostedUI},
	} {
		r := record.Record{EventSource: class.SourceUserPool, EventType: tc.eventType, EventName: tc.name}
		if c := class.Classify(&r); c.Category != tc.want {
			t.Errorf("%q %s: %s, want %s", tc.eventType, tc.name, c.Category, tc.want)
		}
	}
}

// TestUnlistedEndpointGeneration: a new endpoint operation whose name starts
// with a lower-case letter is managed login's, any other hosted UI's.
func TestUnlistedEndpointGeneration(t *testing.T) {
	for name, want := range map[string]class.Category{
		"aNew_POST": class.ManagedLogin, "zNew_POST": class.ManagedLogin, "mNew_POST": class.ManagedLogin,
		"ANew_POST": class.HostedUI, "ZNew_POST": class.HostedUI, "`New_POST": class.HostedUI,
		"{New_POST": class.HostedUI, "_New_POST": class.HostedUI, "": class.HostedUI,
	} {
		r := record.Record{EventSource: class.SourceUserPool, EventType: "AwsServiceEvent", EventName: name}
		if c := class.Classify(&r); c.Category != want || !c.Unlisted {
			t.Errorf("%q: %s unlisted %v, want %s unlisted", name, c.Category, c.Unlisted, want)
		}
	}
}

// TestMutatingVerbBoundary: a verb counts when an upper-case letter or
// nothing follows it.
func TestMutatingVerbBoundary(t *testing.T) {
	for name, mutating := range map[string]bool{
		"SetA": true, "SetZ": true, "SetM": true, "Set": true, "Revoke": true, "DisassociateX": true,
		"Set@": false, "Set[": false, "Seta": false, "Setz": false, "Set_A": false, "ListA": false,
	} {
		r := record.Record{EventSource: class.SourceUserPool, EventType: "AwsApiCall", EventName: name}
		if c := class.Classify(&r); c.ConfigChange != mutating || c.Unlisted != mutating {
			t.Errorf("%q: config change %v unlisted %v, want %v", name, c.ConfigChange, c.Unlisted, mutating)
		}
	}
}

func TestAuthTypeAndService(t *testing.T) {
	for _, tc := range []struct {
		provider, amr, source string
		auth                  class.AuthType
		op                    string
	}{
		{"cognito-identity.amazonaws.com", `["authenticated","cognito-idp.us-east-1.amazonaws.com/us-east-1_X"]`, "s3.amazonaws.com", class.Authenticated, "s3:Op"},
		{"cognito-identity.amazon.com", `["unauthenticated"]`, "execute-api.amazonaws.com", class.Unauthenticated, "execute-api:Op"},
		{"cognito-identity.amazonaws.com", `[]`, "noperiod", class.UnknownAuth, "noperiod:Op"},
		{"cognito-identity.amazonaws.com", "", ".amazonaws.com", class.UnknownAuth, ".amazonaws.com:Op"},
		{"graph.facebook.com", `["authenticated"]`, "s3.amazonaws.com", "", "Op"},
	} {
		r := record.Record{EventSource: tc.source, EventName: "Op", UserIdentity: record.UserIdentity{WebIDProvider: tc.provider, AMR: tc.amr}}
		c := class.Classify(&r)
		if c.AuthType != tc.auth || c.Operation != tc.op {
			t.Errorf("%s %s %s: auth %q op %q, want %q %q", tc.provider, tc.amr, tc.source, c.AuthType, c.Operation, tc.auth, tc.op)
		}
		if want := tc.auth != ""; (c.Category == class.IdentityPoolRoleCall) != want {
			t.Errorf("%s: category %s", tc.source, c.Category)
		}
	}
}

// TestSTSWebIdentityByResponseProvider: a Cognito AssumeRoleWithWebIdentity
// call is known by responseElements.provider as well as by the identity's
// provider; another STS call is not one.
func TestSTSWebIdentityByResponseProvider(t *testing.T) {
	for _, tc := range []struct {
		name, provider string
		want           class.Category
	}{
		{"AssumeRoleWithWebIdentity", "cognito-identity.amazonaws.com", class.STSWebIdentity},
		{"AssumeRoleWithWebIdentity", "cognito-identity.amazon.com", class.STSWebIdentity},
		{"AssumeRoleWithWebIdentity", "accounts.google.com", class.Other},
		{"AssumeRole", "cognito-identity.amazonaws.com", class.Other},
	} {
		r := record.Record{EventSource: class.SourceSTS, EventName: tc.name, Provider: tc.provider}
		if c := class.Classify(&r); c.Category != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.name, tc.provider, c.Category, tc.want)
		}
	}
}

func TestAccountPrefersRecipient(t *testing.T) {
	r := record.Record{EventSource: class.SourceUserPool, RecipientAccountID: "111111111111", UserIdentity: record.UserIdentity{AccountID: "222222222222"}}
	if c := class.Classify(&r); c.Account != "111111111111" {
		t.Errorf("account %q, want the recipient's", c.Account)
	}
}

func TestCategoryNames(t *testing.T) {
	cs := class.Categories()
	if len(cs) != class.NumCategories {
		t.Fatalf("%d categories, want %d", len(cs), class.NumCategories)
	}
	seen := map[string]bool{}
	for i, c := range cs {
		if int(c) != i {
			t.Errorf("Categories()[%d] = %d", i, c)
		}
		name := c.String()
		if name == "invalid" || seen[name] {
			t.Errorf("category %d named %q", c, name)
		}
		seen[name] = true
		if back, ok := class.ParseCategory(name); !ok || back != c {
			t.Errorf("ParseCategory(%q) = %v, %v", name, back, ok)
		}
		text, err := c.MarshalText()
		if err != nil || string(text) != name {
			t.Errorf("MarshalText(%d) = %q, %v", c, text, err)
		}
	}
	if cs[0] != class.Other || cs[len(cs)-1] != class.STSWebIdentity || class.HostedUI.String() != "hosted-ui" {
		t.Errorf("order %v", cs)
	}
	for _, bad := range []string{"", "Other", "hosted_ui", "invalid"} {
		if c, ok := class.ParseCategory(bad); ok || c != class.Other {
			t.Errorf("ParseCategory(%q) = %v, %v", bad, c, ok)
		}
	}
	if s := class.Category(class.NumCategories).String(); s != "invalid" {
		t.Errorf("Category(NumCategories) = %q", s)
	}
	if s := class.Category(255).String(); s != "invalid" {
		t.Errorf("Category(255) = %q", s)
	}
	b, err := json.Marshal(map[string]class.Category{"c": class.ManagedLogin})
	if err != nil || string(b) != `{"c":"managed-login"}` {
		t.Errorf("JSON %s, %v", b, err)
	}
}

package class_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/internal/golden"
	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/record"
)

// groupOf is the oracle for the published-shape records: each file's name
// says which documentation group it was taken from (see testdata/aws/
// SOURCES.md), and each group maps to one category.
var groupOf = []struct {
	prefix string
	want   class.Category
}{
	{"idp-", class.UserPoolAPI},
	{"hostedui-", class.HostedUI},
	{"managedlogin-", class.ManagedLogin},
	{"identity-get", class.IdentityPoolData},
	{"identity-unlink", class.IdentityPoolData},
	{"identity-", class.IdentityPoolManagement},
	{"sync-", class.CognitoSync},
	{"webid-", class.IdentityPoolRoleCall},
	{"sts-assumerolewithwebidentity-cognito", class.STSWebIdentity},
	{"sts-", class.Other},
	{"insight-", class.Other},
	{"old-1.03-identity-", class.IdentityPoolManagement},
	{"old-", class.Other},
	{"hidden-", class.Other},
}

func parseFile(t *testing.T, path string) *record.Record {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r record.Record
	if _, err := record.NewParser().Parse(data, &r); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &r
}

// goldenRow is a classification under its jsonl names (class.Class's JSON
// tags), with the account, which the jsonl line leaves out.
type goldenRow struct {
	File    string
	Class   class.Class
	Account string
}

// TestPublishedRecords classifies every record in testdata/aws: its
// category must match its documentation group, and the full classification
// must match testdata/classes.golden (rewrite with -update, then review).
func TestPublishedRecords(t *testing.T) {
	files, _ := filepath.Glob("testdata/aws/*.json")
	if len(files) < 30 {
		t.Fatalf("only %d records in testdata/aws", len(files))
	}
	var out bytes.Buffer
	seen := map[class.Category]bool{}
	for _, f := range files {
		base := filepath.Base(f)
		c := class.Classify(parseFile(t, f))
		seen[c.Category] = true
		matched := false
		for _, g := range groupOf {
			if strings.HasPrefix(base, g.prefix) {
				matched = true
				if c.Category != g.want {
					t.Errorf("%s: category %s, want %s", base, c.Category, g.want)
				}
				break
			}
		}
		if !matched && !strings.HasPrefix(base, "messy-") {
			t.Errorf("%s: no documentation group for this file name", base)
		}
		line, _ := json.Marshal(goldenRow{base, c, c.Account})
		out.Write(line)
		out.WriteByte('\n')
	}
	for _, cat := range class.Categories() {
		if !seen[cat] {
			t.Errorf("no published record classified as %s", cat)
		}
	}
	golden.Check(t, "testdata/classes.golden", out.Bytes())
}

// classifyCases pin the rules that the published records do not all show.
// The same table seeds FuzzClassify.
var classifyCases = []struct {
	name string
	rec  record.Record
	want func(c class.Class) error
}{
	{"unlisted managed login operation", record.Record{EventSource: class.SourceUserPool, EventType: "AwsServiceEvent", EventName: "passkeys_delete_POST"},
		func(c class.Class) error {
			return expect(c.Category == class.ManagedLogin && c.Unlisted, c)
		}},
	{"unlisted hosted UI operation", record.Record{EventSource: class.SourceUserPool, EventType: "AwsServiceEvent", EventName: "Consent_POST"},
		func(c class.Class) error { return expect(c.Category == class.HostedUI && c.Unlisted, c) }},
	{"endpoint operation without eventType", record.Record{EventSource: class.SourceUserPool, EventName: "login_POST"},
		func(c class.Class) error { return expect(c.Category == class.ManagedLogin && c.SignIn, c) }},
	{"API call without eventType", record.Record{EventSource: class.SourceUserPool, EventName: "ListUsers"},
		func(c class.Class) error { return expect(c.Category == class.UserPoolAPI && !c.ConfigChange, c) }},
	{"endpoint failure only in the HTTP status", record.Record{EventSource: class.SourceUserPool, EventType: "AwsServiceEvent", EventName: "CognitoAuthentication", HTTPStatus: 400},
		func(c class.Class) error { return expect(c.Failed && c.SignIn && c.ErrorCode == "", c) }},
	{"user pool config change", record.Record{EventSource: class.SourceUserPool, EventType: "AwsApiCall", EventName: "UpdateUserPoolClient"},
		func(c class.Class) error { return expect(c.ConfigChange, c) }},
	{"user data is not configuration", record.Record{EventSource: class.SourceUserPool, EventType: "AwsApiCall", EventName: "AdminCreateUser"},
		func(c class.Class) error { return expect(!c.ConfigChange, c) }},
	{"unlisted mutating user pool operation is a flagged config change", record.Record{EventSource: class.SourceUserPool, EventType: "AwsApiCall", EventName: "SetUserPoolPasskeyPolicy"},
		func(c class.Class) error {
			return expect(c.Category == class.UserPoolAPI && c.ConfigChange && c.Unlisted, c)
		}},
	{"unlisted mutating identity pool operation is a flagged config change", record.Record{EventSource: class.SourceIdentityPool, EventCategory: "Management", EventName: "UpdateIdentityPoolSettings"},
		func(c class.Class) error {
			return expect(c.Category == class.IdentityPoolManagement && c.ConfigChange && c.Unlisted, c)
		}},
	{"listed user data with a mutating verb is not configuration", record.Record{EventSource: class.SourceUserPool, EventType: "AwsApiCall", EventName: "UpdateUserAttributes"},
		func(c class.Class) error { return expect(!c.ConfigChange && !c.Unlisted, c) }},
	{"a verb must end at a word boundary", record.Record{EventSource: class.SourceUserPool, EventType: "AwsApiCall", EventName: "Settlement"},
		func(c class.Class) error { return expect(!c.ConfigChange && !c.Unlisted, c) }},
	{"unlisted read operation is not configuration", record.Record{EventSource: class.SourceUserPool, EventType: "AwsApiCall", EventName: "DescribeNewThing"},
		func(c class.Class) error { return expect(!c.ConfigChange && !c.Unlisted, c) }},
	{"listed configuration is not flagged", record.Record{EventSource: class.SourceUserPool, EventType: "AwsApiCall", EventName: "UpdateUserPool"},
		func(c class.Class) error { return expect(c.ConfigChange && !c.Unlisted, c) }},
	{"Cognito Sync settings are configuration", record.Record{EventSource: class.SourceSync, EventName: "SetIdentityPoolConfiguration"},
		func(c class.Class) error { return expect(c.Category == class.CognitoSync && c.ConfigChange, c) }},
	{"Cognito Sync events trigger is configuration", record.Record{EventSource: class.SourceSync, EventName: "SetCognitoEvents"},
		func(c class.Class) error { return expect(c.ConfigChange, c) }},
	{"Cognito Sync data is not configuration", record.Record{EventSource: class.SourceSync, EventName: "UpdateRecords"},
		func(c class.Class) error { return expect(!c.ConfigChange && !c.Unlisted, c) }},
	{"identity pool data event by category", record.Record{EventSource: class.SourceIdentityPool, EventCategory: "Data", EventName: "GetId"},
		func(c class.Class) error { return expect(c.Category == class.IdentityPoolData, c) }},
	{"identity pool data event before eventCategory existed", record.Record{EventSource: class.SourceIdentityPool, EventName: "GetCredentialsForIdentity"},
		func(c class.Class) error { return expect(c.Category == class.IdentityPoolData, c) }},
	{"identity pool tag change", record.Record{EventSource: class.SourceIdentityPool, EventCategory: "Management", EventName: "TagResource"},
		func(c class.Class) error {
			return expect(c.Category == class.IdentityPoolManagement && c.ConfigChange, c)
		}},
	{"unauthenticated role call", record.Record{EventSource: "dynamodb.amazonaws.com", EventName: "Scan",
		UserIdentity: record.UserIdentity{WebIDProvider: "cognito-identity.amazonaws.com", AMR: `["unauthenticated"]`}},
		func(c class.Class) error {
			return expect(c.Category == class.IdentityPoolRoleCall && c.AuthType == class.Unauthenticated && c.Operation == "dynamodb:Scan", c)
		}},
	{"role call without amr", record.Record{EventSource: "s3.amazonaws.com", EventName: "GetObject",
		UserIdentity: record.UserIdentity{WebIDProvider: "cognito-identity.amazonaws.com"}},
		func(c class.Class) error { return expect(c.AuthType == class.UnknownAuth, c) }},
	{"other web identity provider", record.Record{EventSource: "s3.amazonaws.com", EventName: "GetObject",
		UserIdentity: record.UserIdentity{WebIDProvider: "accounts.google.com"}},
		func(c class.Class) error { return expect(c.Category == class.Other && c.AuthType == "", c) }},
	{"sync call keeps its category", record.Record{EventSource: class.SourceSync, EventName: "ListRecords",
		UserIdentity: record.UserIdentity{WebIDProvider: "cognito-identity.amazonaws.com", AMR: `["authenticated","cognito-idp"]`}},
		func(c class.Class) error {
			return expect(c.Category == class.CognitoSync && c.AuthType == class.Authenticated, c)
		}},
	{"STS web identity, documentation spelling", record.Record{EventSource: class.SourceSTS, EventName: "AssumeRoleWithWebIdentity",
		UserIdentity: record.UserIdentity{IdentityProvider: "cognito-identity.amazon.com"}},
		func(c class.Class) error { return expect(c.Category == class.STSWebIdentity, c) }},
	{"STS web identity, other provider", record.Record{EventSource: class.SourceSTS, EventName: "AssumeRoleWithWebIdentity",
		UserIdentity: record.UserIdentity{IdentityProvider: "accounts.google.com"}},
		func(c class.Class) error { return expect(c.Category == class.Other, c) }},
	{"forgot password", record.Record{EventSource: class.SourceUserPool, EventType: "AwsServiceEvent", EventName: "ForgotPassword_POST"},
		func(c class.Class) error { return expect(c.ForgotPassword && c.Category == class.HostedUI, c) }},
	{"account falls back to the identity's", record.Record{EventSource: class.SourceUserPool, UserIdentity: record.UserIdentity{AccountID: "111122223333"}},
		func(c class.Class) error { return expect(c.Account == "111122223333", c) }},
}

func expect(ok bool, c class.Class) error {
	if ok {
		return nil
	}
	return fmt.Errorf("got %+v", c)
}

func TestClassifyRules(t *testing.T) {
	for _, tc := range classifyCases {
		r := tc.rec
		if err := tc.want(class.Classify(&r)); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// TestOperationTablesMatchSeed checks the endpoint tables against the seed
// document they were copied from, where the checkout has it beside it.
func TestOperationTablesMatchSeed(t *testing.T) {
	const seed = "../../../shared/seeds/000_98442a216834a844.txt"
	f, err := os.Open(seed)
	if err != nil {
		t.Skipf("seed document not beside the checkout: %v", err)
	}
	defer f.Close()
	tables := map[string][]string{}
	var current string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "Hosted UI (classic) events in CloudTrail"):
			current = "hosted"
			continue
		case strings.HasPrefix(line, "Managed login events in CloudTrail"):
			current = "managed"
			continue
		case line == "Note" || strings.HasPrefix(line, "Managed login events") || strings.HasPrefix(line, "Identity pools events"):
			current = ""
			continue
		case current == "" || line == "Operation Description":
			continue
		}
		// "Op1, Op2 Description..." or "Op Description..."
		words := strings.Fields(line)
		for _, w := range words {
			tables[current] = append(tables[current], strings.TrimSuffix(w, ","))
			if !strings.HasSuffix(w, ",") {
				break
			}
		}
	}
	for name, ours := range map[string][]string{"hosted": class.HostedUIOperations, "managed": class.ManagedLoginOperations} {
		got := slices.Sorted(slices.Values(ours))
		want := slices.Sorted(slices.Values(tables[name]))
		if !slices.Equal(got, want) {
			t.Errorf("%s table differs from the seed:\n ours %v\n seed %v", name, got, want)
		}
	}
}

// FuzzClassify: any record classifies into exactly one valid category
// without panicking, and the flags are consistent with it.
func FuzzClassify(f *testing.F) {
	for _, tc := range classifyCases {
		f.Add(tc.rec.EventSource, tc.rec.EventName, tc.rec.EventType, tc.rec.EventCategory, tc.rec.UserIdentity.WebIDProvider, tc.rec.UserIdentity.AMR, tc.rec.ErrorCode)
	}
	f.Fuzz(func(t *testing.T, source, name, typ, category, provider, amr, code string) {
		r := record.Record{EventSource: source, EventName: name, EventType: typ, EventCategory: category, ErrorCode: code,
			UserIdentity: record.UserIdentity{WebIDProvider: provider, AMR: amr}}
		c := class.Classify(&r)
		if int(c.Category) >= class.NumCategories {
			t.Fatalf("invalid category %d", c.Category)
		}
		if c.Failed != (code != "") {
			t.Fatalf("failed %v with errorCode %q", c.Failed, code)
		}
		if c.ConfigChange && c.Category != class.UserPoolAPI && c.Category != class.IdentityPoolManagement && c.Category != class.CognitoSync {
			t.Fatalf("config change in category %s", c.Category)
		}
		if c.Category == class.Other && c.AuthType != "" && source != class.SourceSTS {
			t.Fatalf("identity pool credentials classified as other: %+v", c)
		}
		if _, ok := class.ParseCategory(c.Category.String()); !ok {
			t.Fatalf("category %s does not round-trip", c.Category)
		}
	})
}

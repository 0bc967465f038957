package record_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cognitrail/cognitrail/internal/jsonscan"
	"github.com/cognitrail/cognitrail/pkg/record"
)

// parseCases drive TestParse and seed FuzzParse: messy shapes seen in real
// trails, each with the fields it must yield.
var parseCases = []struct {
	name  string
	in    string
	check func(t *testing.T, r *record.Record)
	err   error
}{
	{"http status as float", `{"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-idp.amazonaws.com","eventName":"Login_GET","additionalEventData":{"responseParameters":{"status":200.0},"userPoolId":"us-east-1_EXAMPLE"}}`,
		func(t *testing.T, r *record.Record) {
			if r.HTTPStatus != 200 || r.UserPoolID != "us-east-1_EXAMPLE" {
				t.Errorf("status %d pool %q", r.HTTPStatus, r.UserPoolID)
			}
		}, nil},
	{"request parameters as a string, response elements null", `{"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-idp.amazonaws.com","requestParameters":"userPoolId=us-east-1_X","responseElements":null,"eventName":"X"}`,
		func(t *testing.T, r *record.Record) {
			if r.EventName != "X" || r.UserPoolID != "" {
				t.Errorf("name %q pool %q", r.EventName, r.UserPoolID)
			}
		}, nil},
	{"hidden values never become pool ids", `{"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-idp.amazonaws.com","requestParameters":{"userPoolId":"HIDDEN_DUE_TO_SECURITY_REASONS"},"additionalEventData":{"userPoolId":"HIDDEN_FOR_SECURITY_REASONS","sub":"HIDDEN_DUE_TO_SECURITY_REASONS"}}`,
		func(t *testing.T, r *record.Record) {
			if r.UserPoolID != "" || r.Sub != "" {
				t.Errorf("pool %q sub %q", r.UserPoolID, r.Sub)
			}
		}, nil},
	{"identity pool from a resource ARN", `{"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-identity.amazonaws.com","eventCategory":"Data","resources":[{"accountId":"1","type":"AWS::Cognito::IdentityPool","ARN":"arn:aws:cognito-identity:us-east-1:123456789012:identitypool/us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE"}]}`,
		func(t *testing.T, r *record.Record) {
			if r.IdentityPoolID != "us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE" || r.EventCategory != "Data" {
				t.Errorf("pool %q category %q", r.IdentityPoolID, r.EventCategory)
			}
		}, nil},
	{"user pool from CreateUserPool's response", `{"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-idp.amazonaws.com","responseElements":{"userPool":{"name":"p","id":"eu-west-1_AbCdEf123"}}}`,
		func(t *testing.T, r *record.Record) {
			if r.UserPoolID != "eu-west-1_AbCdEf123" {
				t.Errorf("pool %q", r.UserPoolID)
			}
		}, nil},
	{"old record without category, readOnly or identity type", `{"eventVersion":"1.03","userIdentity":{"accountId":"123456789012"},"eventTime":"2016-01-02T03:04:05Z","eventSource":"cognito-identity.amazonaws.com","eventName":"CreateIdentityPool","unknownField":{"deep":[1,2,3]}}`,
		func(t *testing.T, r *record.Record) {
			if r.EventVersion != "1.03" || r.UserIdentity.Type != "" || r.UserIdentity.AccountID != "123456789012" || r.ReadOnly != "" {
				t.Errorf("%+v", r)
			}
		}, nil},
	{"identity pool credentials", `{"eventTime":"2026-11-20T10:00:00Z","eventSource":"s3.amazonaws.com","userIdentity":{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::1:role/Unauth"},"webIdFederationData":{"federatedProvider":"cognito-identity.amazonaws.com","attributes":{"cognito-identity.amazonaws.com:amr":"[\"unauthenticated\"]","cognito-identity.amazonaws.com:aud":"us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE"}}}}}`,
		func(t *testing.T, r *record.Record) {
			u := r.UserIdentity
			if u.WebIDProvider != "cognito-identity.amazonaws.com" || u.AMR != `["unauthenticated"]` || r.IdentityPoolID == "" || u.SessionIssuerARN != "arn:aws:iam::1:role/Unauth" {
				t.Errorf("%+v", r)
			}
		}, nil},
	{"empty webIdFederationData", `{"eventTime":"2026-11-20T10:00:00Z","userIdentity":{"sessionContext":{"webIdFederationData":{}}}}`,
		func(t *testing.T, r *record.Record) {
			if r.UserIdentity.WebIDProvider != "" {
				t.Errorf("%+v", r.UserIdentity)
			}
		}, nil},
	{"escaped strings and a boolean readOnly", `{"eventTime":"2026-11-20T10:00:00Z","eventName":"A\u0042\"C","errorCode":"404","readOnly":true}`,
		func(t *testing.T, r *record.Record) {
			if r.EventName != `AB"C` || r.ErrorCode != "404" || r.ReadOnly != "true" {
				t.Errorf("name %q code %q readOnly %q", r.EventName, r.ErrorCode, r.ReadOnly)
			}
		}, nil},
	{"nested fields of the wrong type are ignored", `{"eventTime":"2026-11-20T10:00:00Z","eventName":null,"userIdentity":"root","resources":{"ARN":"x"}}`,
		func(t *testing.T, r *record.Record) {
			if r.EventName != "" || r.UserIdentity.Type != "" {
				t.Errorf("%+v", r)
			}
		}, nil},
	{"fractional eventTime", `{"eventTime":"2026-11-20T10:00:00.5+01:00"}`,
		func(t *testing.T, r *record.Record) {
			if !r.EventTime.Equal(time.Date(2026, 11, 20, 9, 0, 0, 5e8, time.UTC)) {
				t.Errorf("time %v", r.EventTime)
			}
		}, nil},
	{"client id of an end-user API call", `{"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-idp.amazonaws.com","eventName":"InitiateAuth","requestParameters":{"authFlow":"USER_PASSWORD_AUTH","authParameters":"HIDDEN_DUE_TO_SECURITY_REASONS","clientId":"4u37654rhubjei088dj85clscq"}}`,
		func(t *testing.T, r *record.Record) {
			if r.ClientID != "4u37654rhubjei088dj85clscq" || r.UserPoolID != "" {
				t.Errorf("client %q pool %q", r.ClientID, r.UserPoolID)
			}
		}, nil},
	{"client and pool from CreateUserPoolClient's response", `{"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-idp.amazonaws.com","eventName":"CreateUserPoolClient","requestParameters":{"clientName":"web"},"responseElements":{"userPoolClient":{"userPoolId":"us-east-1_EXAMPLE","clientName":"web","clientId":"1example23456789","clientSecret":"HIDDEN_DUE_TO_SECURITY_REASONS"}}}`,
		func(t *testing.T, r *record.Record) {
			if r.ClientID != "1example23456789" || r.UserPoolID != "us-east-1_EXAMPLE" {
				t.Errorf("client %q pool %q", r.ClientID, r.UserPoolID)
			}
		}, nil},
	{"client id of an endpoint event is an array", `{"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-idp.amazonaws.com","eventName":"Token_POST","additionalEventData":{"requestParameters":{"code":["HIDDEN_DUE_TO_SECURITY_REASONS"],"client_id":[7,"1example23456789","2other"]},"userPoolId":"us-west-2_EXAMPLE"}}`,
		func(t *testing.T, r *record.Record) {
			if r.ClientID != "1example23456789" || r.UserPoolID != "us-west-2_EXAMPLE" {
				t.Errorf("client %q pool %q", r.ClientID, r.UserPoolID)
			}
		}, nil},
	{"hidden client id is dropped", `{"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-idp.amazonaws.com","requestParameters":{"clientId":"HIDDEN_DUE_TO_SECURITY_REASONS"},"additionalEventData":{"requestParameters":{"client_id":["HIDDEN_FOR_SECURITY_REASONS"]}}}`,
		func(t *testing.T, r *record.Record) {
			if r.ClientID != "" {
				t.Errorf("client %q", r.ClientID)
			}
		}, nil},
	{"malformed client id is dropped", `{"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-idp.amazonaws.com","requestParameters":{"clientId":"abc def/../x"}}`,
		func(t *testing.T, r *record.Record) {
			if r.ClientID != "" {
				t.Errorf("client %q", r.ClientID)
			}
		}, nil},
	{"client id of a non-Cognito record is not read", `{"eventTime":"2026-11-20T10:00:00Z","eventSource":"s3.amazonaws.com","requestParameters":{"clientId":"abc"}}`,
		func(t *testing.T, r *record.Record) {
			if r.ClientID != "" {
				t.Errorf("client %q", r.ClientID)
			}
		}, nil},
	{"a sign-in answered with a challenge", `{"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-idp.amazonaws.com","eventName":"InitiateAuth","requestParameters":{"authFlow":"USER_SRP_AUTH","authParameters":"HIDDEN_DUE_TO_SECURITY_REASONS","clientId":"1example23456789"},"responseElements":{"challengeName":"PASSWORD_VERIFIER","challengeParameters":{"SALT":"HIDDEN_DUE_TO_SECURITY_REASONS"}}}`,
		func(t *testing.T, r *record.Record) {
			if r.AuthFlow != "USER_SRP_AUTH" || r.Challenge != "PASSWORD_VERIFIER" {
				t.Errorf("flow %q challenge %q", r.AuthFlow, r.Challenge)
			}
		}, nil},
	{"challenge and flow of the wrong type or hidden read as absent", `{"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-idp.amazonaws.com","requestParameters":{"authFlow":{"x":1}},"responseElements":{"challengeName":"HIDDEN_DUE_TO_SECURITY_REASONS"}}`,
		func(t *testing.T, r *record.Record) {
			if r.AuthFlow != "" || r.Challenge != "" {
				t.Errorf("flow %q challenge %q", r.AuthFlow, r.Challenge)
			}
		}, nil},
	{"logins hidden whole name a provider", `{"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-identity.amazonaws.com","eventName":"GetCredentialsForIdentity","requestParameters":{"logins":"HIDDEN_DUE_TO_SECURITY_REASONS"}}`,
		func(t *testing.T, r *record.Record) {
			if !r.Logins {
				t.Error("logins not seen")
			}
		}, nil},
	{"empty or null logins are a guest's", `{"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-identity.amazonaws.com","eventName":"GetId","requestParameters":{"logins":{},"Logins":null}}`,
		func(t *testing.T, r *record.Record) {
			if r.Logins {
				t.Error("logins seen")
			}
		}, nil},
	{"no eventTime", `{"eventSource":"s3.amazonaws.com"}`, nil, record.ErrEventTime},
	{"impossible date", `{"eventTime":"2026-02-31T10:00:00Z"}`, nil, record.ErrEventTime},
	{"not an object", `["a"]`, nil, record.ErrNotObject},
}

func TestParse(t *testing.T) {
	p := record.NewParser()
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			var r record.Record
			n, err := p.Parse([]byte(tc.in+" ,next"), &r)
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if n != len(tc.in) {
				t.Errorf("consumed %d bytes, want %d", n, len(tc.in))
			}
			if tc.check != nil {
				tc.check(t, &r)
			}
			if err == nil {
				compareWithReference(t, []byte(tc.in), &r)
			}
		})
	}
}

// TestParseAWSRecords parses every published-shape record in the classifier's
// test data and compares it with the encoding/json reference.
func TestParseAWSRecords(t *testing.T) {
	files, _ := filepath.Glob("../class/testdata/aws/*.json")
	if len(files) == 0 {
		t.Fatal("no records in ../class/testdata/aws")
	}
	p := record.NewParser()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var r record.Record
		if _, err := p.Parse(data, &r); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		compareWithReference(t, data, &r)
		if c := clientOf(data); c != "" && r.ClientID != c {
			t.Errorf("%s: client %q, encoding/json %q", f, r.ClientID, c)
		}
		var ref map[string]any
		if json.Unmarshal(data, &ref) == nil {
			if got, want := r.AuthFlow, str(path(ref, "requestParameters", "authFlow")); got != want {
				t.Errorf("%s: authFlow %q, encoding/json %q", f, got, want)
			}
			if got, want := r.Challenge, str(path(ref, "responseElements", "challengeName")); got != want {
				t.Errorf("%s: challengeName %q, encoding/json %q", f, got, want)
			}
			logins, _ := path(ref, "requestParameters", "logins").(map[string]any)
			if got, want := r.Logins, len(logins) > 0; got != want {
				t.Errorf("%s: logins %v, encoding/json %v", f, got, want)
			}
		}
		for _, v := range []string{r.UserPoolID, r.IdentityPoolID, r.Sub, r.ClientID} {
			if record.IsHidden(v) {
				t.Errorf("%s: hidden value surfaced", f)
			}
		}
	}
}

// clientOf finds the app client id where the published records carry it,
// with encoding/json: the reference for TestParseAWSRecords.
func clientOf(data []byte) string {
	var ref map[string]any
	if json.Unmarshal(data, &ref) != nil {
		return ""
	}
	for _, v := range []any{
		path(ref, "requestParameters", "clientId"),
		path(ref, "responseElements", "userPoolClient", "clientId"),
	} {
		if s, ok := v.(string); ok && record.IsClientID(s) {
			return s
		}
	}
	if a, ok := path(ref, "additionalEventData", "requestParameters", "client_id").([]any); ok && len(a) > 0 {
		if s, ok := a[0].(string); ok && record.IsClientID(s) {
			return s
		}
	}
	return ""
}

func TestIsClientID(t *testing.T) {
	for v, want := range map[string]bool{
		"1example23456789": true, "a+b_C9": true, "": false, "a-b": false, "a b": false,
		string(bytes.Repeat([]byte("a"), 128)): true, string(bytes.Repeat([]byte("a"), 129)): false,
		record.HiddenValue: false, record.HiddenValueDoc: false,
	} {
		if got := record.IsClientID(v); got != want {
			t.Errorf("IsClientID(%q) = %v", v, got)
		}
	}
}

func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return string(v)
	case bool:
		if v {
			return "true"
		}
		return "false"
	}
	return ""
}

func path(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func compareWithReference(t *testing.T, data []byte, got *record.Record) {
	t.Helper()
	// A map, not a struct: encoding/json matches struct fields without
	// regard to case, CloudTrail keys (and the parser) do not.
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var ref map[string]any
	if err := dec.Decode(&ref); err != nil {
		return
	}
	u := ref["userIdentity"]
	top := func(k string) string { return str(ref[k]) }
	want := map[string][2]string{
		"eventVersion":                  {got.EventVersion, top("eventVersion")},
		"eventSource":                   {got.EventSource, top("eventSource")},
		"eventName":                     {got.EventName, top("eventName")},
		"eventType":                     {got.EventType, top("eventType")},
		"eventCategory":                 {got.EventCategory, top("eventCategory")},
		"eventID":                       {got.EventID, top("eventID")},
		"awsRegion":                     {got.AWSRegion, top("awsRegion")},
		"sourceIPAddress":               {got.SourceIPAddress, top("sourceIPAddress")},
		"errorCode":                     {got.ErrorCode, top("errorCode")},
		"recipientAccountId":            {got.RecipientAccountID, top("recipientAccountId")},
		"readOnly":                      {got.ReadOnly, top("readOnly")},
		"userIdentity.type":             {got.UserIdentity.Type, str(path(u, "type"))},
		"userIdentity.accountId":        {got.UserIdentity.AccountID, str(path(u, "accountId"))},
		"userIdentity.identityProvider": {got.UserIdentity.IdentityProvider, str(path(u, "identityProvider"))},
		"sessionIssuer.arn":             {got.UserIdentity.SessionIssuerARN, str(path(u, "sessionContext", "sessionIssuer", "arn"))},
		"federatedProvider":             {got.UserIdentity.WebIDProvider, str(path(u, "sessionContext", "webIdFederationData", "federatedProvider"))},
		"amr":                           {got.UserIdentity.AMR, str(path(u, "sessionContext", "webIdFederationData", "attributes", "cognito-identity.amazonaws.com:amr"))},
	}
	for field, v := range want {
		if v[0] != v[1] {
			t.Errorf("%s: parser %q, encoding/json %q", field, v[0], v[1])
		}
	}
	if ts, ok := ref["eventTime"].(string); ok {
		rt, err := time.Parse(time.RFC3339Nano, ts)
		if err == nil && !rt.Equal(got.EventTime) {
			t.Errorf("eventTime: parser %v, time.Parse %v", got.EventTime, rt)
		}
	}
}

// hasDuplicateKeys reports whether any object in data repeats a key, where
// "last one wins" (encoding/json) and "each one is read" (the parser, for
// nested elements) may legitimately differ.
func hasDuplicateKeys(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	var walk func() bool
	walk = func() bool {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return false
				}
				ks, _ := k.(string)
				if seen[ks] {
					return true
				}
				seen[ks] = true
				if walk() {
					return true
				}
			}
			dec.Token()
		case json.Delim('['):
			for dec.More() {
				if walk() {
					return true
				}
			}
			dec.Token()
		}
		return false
	}
	return walk()
}

// FuzzParse: the parser never panics, never reads past the buffer, and on a
// valid JSON object agrees with encoding/json on every field both decode.
func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.in))
	}
	files, _ := filepath.Glob("../class/testdata/aws/*.json")
	for _, file := range files[:min(len(files), 10)] {
		data, _ := os.ReadFile(file)
		f.Add(data)
	}
	p := record.NewParser()
	f.Fuzz(func(t *testing.T, data []byte) {
		var r record.Record
		n, err := p.Parse(data, &r)
		if n < 0 || n > len(data) {
			t.Fatalf("consumed %d of %d bytes", n, len(data))
		}
		valid := json.Valid(data) && utf8.Valid(data) && len(bytes.TrimSpace(data)) > 0 && bytes.TrimSpace(data)[0] == '{'
		if !valid {
			return
		}
		if errors.Is(err, jsonscan.ErrShort) {
			// A valid object ends in '}', so the parser must find its end.
			t.Fatalf("valid object reported short: %q", data)
		}
		var syn *jsonscan.SyntaxError
		if errors.As(err, &syn) {
			t.Fatalf("valid object reported malformed: %v", err)
		}
		if err == nil && !hasDuplicateKeys(data) {
			compareWithReference(t, data, &r)
		}
	})
}

func TestUserPoolRegion(t *testing.T) {
	for in, want := range map[string]string{
		"us-east-1_kV3pT9mQx":         "us-east-1",
		"eu-west-1_Rb7nW2yLc":         "eu-west-1",
		"us-gov-west-1_a_b":           "us-gov-west-1",
		"_abc":                        "",
		"us-east-1":                   "",
		"HIDDEN_FOR_SECURITY_REASONS": "",
		"":                            "",
	} {
		if got := record.UserPoolRegion(in); got != want {
			t.Errorf("UserPoolRegion(%q) = %q, want %q", in, got, want)
		}
	}
}

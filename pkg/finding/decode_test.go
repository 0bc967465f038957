package finding

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/cognitrail/cognitrail/pkg/record"
)

// valStrings are JSON string tokens, as encoding/json hands them to
// val.UnmarshalJSON: plain, escaped, hidden, and with bytes that are not
// UTF-8 (which encoding/json reads as U+FFFD).
var valStrings = []string{
	`"OPTIONAL"`, `""`, `"arn:aws:lambda:us-east-1:123456789012:function:f"`,
	`"a\"b"`, `"\u00e9t\u00e9"`, `"tab\there"`, `"\\"`, `"caf` + "\xc3\xa9" + `"`,
	`"bad ` + "\xff\xfe" + ` bytes"`, `"cut ` + "\xc3" + `"`, `"HIDDEN_DUE_TO_SECURITY_REASONS"`,
}

// TestValReadsStringsAsEncodingJSON: a string setting reads as
// encoding/json reads it, with or without the fast path for strings that
// need no unquoting.
func TestValReadsStringsAsEncodingJSON(t *testing.T) {
	for _, tok := range valStrings {
		checkVal(t, []byte(tok))
	}
}

// notStrings are what a userAgent may also be: not a string, or not
// JSON (a control character unescaped, a string cut short).
var notStrings = []string{`5`, `null`, `{"a":"b"}`, `["x"]`, `"a` + "\x01" + `b"`, `"open`, `"`, ` "spaced" `}

// TestJSONStringReadsAsEncodingJSON: the user agent reads as encoding/json
// reads a value into a string ("" when it cannot).
func TestJSONStringReadsAsEncodingJSON(t *testing.T) {
	for _, tok := range append(slices.Clone(valStrings), notStrings...) {
		checkJSONString(t, []byte(tok))
	}
}

func checkJSONString(t *testing.T, b []byte) {
	t.Helper()
	var want string
	if err := json.Unmarshal(b, &want); err != nil {
		want = ""
	}
	if got := jsonString(b); got != want {
		t.Fatalf("%q: read %q, want %q", b, got, want)
	}
}

// TestDecodeResets: the Engine decodes every configuration call into the
// same value, so nothing of one call may remain for the next.
func TestDecodeResets(t *testing.T) {
	var d decoded
	first := `{"userAgent":"ua","userIdentity":{"arn":"arn:aws:iam::123456789012:user/a"},` +
		`"requestParameters":{"mfaConfiguration":"OFF","explicitAuthFlows":["ALLOW_USER_PASSWORD_AUTH"]},` +
		`"responseElements":{"userPoolClient":{"clientId":"c1"}}}`
	if err := d.decode([]byte(first)); err != nil || !d.req.MFAConfiguration.ok || !d.resp.UserPoolClient.ok {
		t.Fatalf("first call: %v %+v", err, d)
	}
	if err := d.decode([]byte(`{"requestParameters":{"clientId":"c2"}}`)); err != nil {
		t.Fatal(err)
	}
	if d.env.UserAgent != "" || d.env.UserIdentity.ARN != "" || d.req.MFAConfiguration.ok ||
		d.req.ExplicitAuthFlows.ok || d.resp.UserPoolClient.ok || d.req.ClientID.get().s != "c2" {
		t.Errorf("second call kept the first's values: %+v", d)
	}
}

// TestDecodeRejectsAWronglyTypedResponse: the response is held to the
// types the request is, so that a CreateUserPoolClient whose new client id
// is a number is refused, not read as no client.
func TestDecodeRejectsAWronglyTypedResponse(t *testing.T) {
	var d decoded
	err := d.decode([]byte(`{"requestParameters":{"clientName":"c"},"responseElements":{"userPoolClient":{"clientId":7}}}`))
	if err == nil {
		t.Fatalf("decoded %+v, want an error for the numeric clientId", d.resp)
	}
}

func FuzzVal(f *testing.F) {
	for _, tok := range append(slices.Clone(valStrings), notStrings...) {
		f.Add([]byte(tok))
	}
	f.Fuzz(func(t *testing.T, tok []byte) {
		checkJSONString(t, tok)
		if len(tok) < 2 || tok[0] != '"' || !json.Valid(tok) {
			return
		}
		checkVal(t, tok)
	})
}

func checkVal(t *testing.T, tok []byte) {
	t.Helper()
	var want string
	if err := json.Unmarshal(tok, &want); err != nil {
		t.Fatalf("%q: %v", tok, err)
	}
	var v val
	if err := v.UnmarshalJSON(tok); err != nil {
		t.Fatalf("%q: %v", tok, err)
	}
	if hidden := record.IsHidden(want); v.ok == hidden || v.ok && v.s != want {
		t.Fatalf("%q: read %q (set %v), want %q", tok, v.s, v.ok, want)
	}
}

package finding

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/pkg/record"
)

// TestTypedSettingsReadNullAsAbsent: a string, boolean or number setting
// that is null or hidden reads as absent, not as a value of the wrong
// type (which would make the whole record unusable).
func TestTypedSettingsReadNullAsAbsent(t *testing.T) {
	var p params
	in := `{"mfaConfiguration":null,"allowUnauthenticatedIdentities":null,"refreshTokenValidity":null,` +
		`"deletionProtection":"` + record.HiddenValue + `"}`
	if err := json.Unmarshal([]byte(in), &p); err != nil {
		t.Fatalf("null and hidden settings: %v", err)
	}
	if p.MFAConfiguration.ok || p.AllowUnauthenticatedIdentities.ok || p.RefreshTokenValidity.ok || p.DeletionProtection.ok {
		t.Errorf("null or hidden read as set: %+v", p)
	}
}

// TestTriggersByName: a trigger is named as the Triggers list spells it,
// whatever the case CloudTrail wrote it in, one AWS adds later keeps its
// own name, and a config object without a function names no trigger.
func TestTriggersByName(t *testing.T) {
	got := triggers(map[string]json.RawMessage{
		"PRESIGNUP":                []byte(`"arn:aws:lambda:us-east-1:111111111111:function:a"`),
		"NewTrigger":               []byte(`"arn:aws:lambda:us-east-1:111111111111:function:b"`),
		"preTokenGenerationConfig": []byte(`{"lambdaVersion":"V2_0"}`),
	})
	want := map[string]string{
		"preSignUp":  "arn:aws:lambda:us-east-1:111111111111:function:a",
		"newTrigger": "arn:aws:lambda:us-east-1:111111111111:function:b",
	}
	if !maps.Equal(got, want) {
		t.Errorf("triggers = %v, want %v", got, want)
	}
}

// TestUserAgentThatIsNotJSONIsNotReported: a user agent that is not a
// JSON string (raw control characters, which encoding/json refuses, as it
// does a token unquoted at one end or with a quote inside unescaped)
// reads as none: a finding never carries raw control characters
// (terminal escapes) from a malformed file.
func TestUserAgentThatIsNotJSONIsNotReported(t *testing.T) {
	raw := cognitoRecord(t, t1, "del", map[string]any{"eventName": "DeleteUserPool", "requestParameters": map[string]any{"userPoolId": poolID}})
	ua := `"userAgent":"aws-cli/2"`
	if !strings.Contains(string(raw), ua) {
		t.Fatalf("no %s in %s", ua, raw)
	}
	raw = []byte(strings.Replace(string(raw), ua, "\"userAgent\":\"\x1b\x07\"", 1))
	e := New(nil)
	e.StartFile()
	got := observe(t, e, record.NewParser(), raw)
	if len(got) != 1 || got[0].Name != UserPoolDeleted || got[0].UserAgent != "" {
		t.Errorf("control characters as the user agent: %+v, want %s with no user agent", got, UserPoolDeleted)
	}
	for _, tok := range []string{"\"\x1b\x07\"", `ab"`, `"""`} {
		checkJSONString(t, []byte(tok))
	}
}

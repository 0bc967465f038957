package finding

import (
	"encoding/json"
	"maps"
	"testing"
)

// TestTypedSettingsReadNullAsAbsent: a string, boolean or number setting
// that is null or hidden reads as absent, not as a value of the wrong
// type (which would make the whole record unusable).
func TestTypedSettingsReadNullAsAbsent(t *testing.T) {
	var p params
	in := `{"mfaConfiguration":null,"allowUnauthenticatedIdentities":null,"refreshTokenValidity":null,` +
		`"deletionProtection":"HIDDEN_DUE_TO_SECURITY_REASONS"}`
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

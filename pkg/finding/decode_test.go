package finding

import (
	"encoding/json"
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

func FuzzVal(f *testing.F) {
	for _, tok := range valStrings {
		f.Add([]byte(tok))
	}
	f.Fuzz(func(t *testing.T, tok []byte) {
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

package finding

// Tests that pin down behaviours the other tests of this package left open
// (issue 19: each was a mutant of the code that no test noticed).
//
// Judged equivalent (no test can tell them apart):
//   - plain's `len(b) < 2` -> `<=` and `c < 0x20` -> `<=`: plain then
//     refuses one token more ("" or one with a space), which goes to
//     json.Unmarshal and reads the same, only slower (the negations of
//     its guards accept tokens json refuses:
//     TestUserAgentThatIsNotJSONIsNotReported);
//   - decode's `len(ua) > 0` -> `>= 0`: an absent user agent then goes to
//     jsonString, which reads nothing as "".
//   - sketch.add's `i >= sketchSize` -> `>` and `len(*s) > sketchSize` ->
//     `>=`: a hash inserted at the end is cut off again, and cutting a
//     full sketch to its size changes nothing;
//   - ipHeap.Less's `weight <` -> `<=` (under `weight !=`) and `ip <` ->
//     `<=` (the table's addresses are distinct);
//   - insert's `e.Value < h[i].Value` -> `<=`: an equal value is the same
//     entry, and Merge reports no change when the result equals h;
//   - cut's `n > 0` -> `>= 0` (twice): Merge calls it only on a history
//     it has just added to;
//   - windows' `len(t.succ) > 0` -> `>= 0` (suspects of nothing is
//     nothing) and the capacity hint of `put`;
//   - judgeWindows' `last` one or two buckets later (`n-1` -> `n+1`): the
//     windows past the last entry's hold no entry and cross nothing.

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/record"
)

const (
	accountA = "111111111111"
	accountB = "222222222222"
	poolID   = "us-east-1_Mutant1"
)

// cognitoRecord is a cognito-idp or cognito-identity API record; set's
// members replace the defaults (nil removes one).
func cognitoRecord(t *testing.T, at time.Time, id string, set map[string]any) []byte {
	t.Helper()
	m := map[string]any{
		"eventVersion": "1.08", "eventTime": at.UTC().Format(time.RFC3339), "eventID": id,
		"eventSource": "cognito-idp.amazonaws.com", "eventType": "AwsApiCall", "awsRegion": "us-east-1",
		"recipientAccountId": accountA, "sourceIPAddress": "203.0.113.7", "userAgent": "aws-cli/2",
		"userIdentity": map[string]any{"type": "IAMUser", "arn": "arn:aws:iam::111111111111:user/admin", "accountId": accountA},
	}
	return withMembers(t, m, set)
}

var t1 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func names(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return out
}

// TestSignInThresholdsAreInclusive: the failures finding is raised on the
// failure that reaches the threshold, a success after exactly that many
// failures raises its finding (once), a success before it none, nor a
// sign-in answered with a challenge (no tokens issued); the
// enumeration finding likewise at exactly its threshold.
func TestSignInThresholdsAreInclusive(t *testing.T) {
	e := New(&Options{SignInThreshold: 3, EnumerationThreshold: 2})
	e.StartFile()
	p := record.NewParser()
	signIn := func(i int, code string) []Finding {
		set := map[string]any{"eventName": "InitiateAuth", "requestParameters": map[string]any{"clientId": "c1"}}
		switch code {
		case "":
		case "challenge": // answered with a challenge (SRP's first step)
			set["responseElements"] = map[string]any{"challengeName": "PASSWORD_VERIFIER"}
		default:
			set["errorCode"] = code
		}
		return observe(t, e, p, cognitoRecord(t, t1.Add(time.Duration(i)*time.Second), "s"+string(rune('a'+i)), set))
	}
	steps := []struct {
		code string
		want []string
	}{
		{"NotAuthorizedException", nil},
		{"NotAuthorizedException", nil},
		{"", nil}, // a success after 2 failures: below the threshold
		{"NotAuthorizedException", []string{SignInFailuresFromOneIP}},
		{"challenge", nil}, // no tokens: no success
		{"", []string{SignInSuccessAfterFailures}},
		{"", nil}, // raised once
		{"NotAuthorizedException", nil},
	}
	for i, st := range steps {
		got := signIn(i, st.code)
		if !slices.Equal(names(got), st.want) {
			t.Fatalf("step %d: %v, want %v", i, names(got), st.want)
		}
		if len(got) == 1 && got[0].Count != 3 {
			t.Errorf("step %d: count %d, want 3", i, got[0].Count)
		}
	}

	e.StartFile()
	forgot := func(i int) []Finding {
		return observe(t, e, p, cognitoRecord(t, t1.Add(time.Duration(i)*time.Second), "f"+string(rune('a'+i)),
			map[string]any{"eventName": "ForgotPassword", "errorCode": "UserNotFoundException", "requestParameters": map[string]any{"clientId": "c1"}}))
	}
	if got := forgot(0); len(got) != 0 {
		t.Fatalf("first UserNotFoundException: %v", names(got))
	}
	if got := forgot(1); !slices.Equal(names(got), []string{AccountEnumeration}) || got[0].Count != 2 {
		t.Fatalf("second UserNotFoundException: %+v, want %s with count 2", got, AccountEnumeration)
	}
	if got := forgot(2); len(got) != 0 {
		t.Fatalf("third: %v, want nothing (raised once)", names(got))
	}
}

// TestSignInWithoutAnIPIsNotCounted: a record with no source IP, or a
// hidden one, counts against no IP.
func TestSignInWithoutAnIPIsNotCounted(t *testing.T) {
	e := New(&Options{SignInThreshold: 1})
	e.StartFile()
	p := record.NewParser()
	for i, ip := range []any{nil, "", record.HiddenValue} {
		raw := cognitoRecord(t, t1, "x", map[string]any{"eventName": "InitiateAuth", "errorCode": "NotAuthorizedException", "sourceIPAddress": ip})
		if got := observe(t, e, p, raw); len(got) != 0 {
			t.Errorf("ip %d: %v", i, names(got))
		}
	}
	if len(e.ips.m) != 0 {
		t.Errorf("%d IPs counted", len(e.ips.m))
	}
}

// TestStateIsPerAccount: a pool id in two accounts is two pools; the
// account is the recipient's, else the caller's.
func TestStateIsPerAccount(t *testing.T) {
	e := New(nil)
	p := record.NewParser()
	mfaOff := func(i int, set map[string]any) []Finding {
		set["eventName"] = "UpdateUserPool"
		set["requestParameters"] = map[string]any{"userPoolId": poolID, "mfaConfiguration": "OFF"}
		return file(t, e, p, cognitoRecord(t, t1.Add(time.Duration(i)*time.Minute), "m"+string(rune('a'+i)), set))
	}
	got := mfaOff(0, map[string]any{})
	if len(got) != 1 || got[0].Name != UserPoolMFADisabled || got[0].Settings[0].Previous != PreviousUnknown || got[0].Account != accountA {
		t.Fatalf("account A: %+v", got)
	}
	got = mfaOff(1, map[string]any{"recipientAccountId": accountB})
	if len(got) != 1 || got[0].Settings[0].Previous != PreviousUnknown || got[0].Account != accountB {
		t.Fatalf("account B, same pool id: %+v, want a finding with previous unknown", got)
	}
	// No recipient: the caller's account, A, where OFF is a restatement.
	if got := mfaOff(2, map[string]any{"recipientAccountId": nil}); len(got) != 0 {
		t.Fatalf("account A by the caller's account: %+v, want none", got)
	}
	// The caller in B, no recipient: B, where OFF is a restatement too.
	caller := map[string]any{"type": "IAMUser", "arn": "arn:aws:iam::222222222222:user/admin", "accountId": accountB}
	if got := mfaOff(3, map[string]any{"recipientAccountId": nil, "userIdentity": caller}); len(got) != 0 {
		t.Fatalf("account B by the caller's account: %+v, want none", got)
	}
	for _, acct := range []string{accountA, accountB} {
		h, err := e.opts.State.Get(context.Background(), acct+"/userpool/"+poolID+"/mfaConfiguration")
		if err != nil || len(h) != 2 {
			t.Errorf("state of %s: %+v, %v; want two entries", acct, h, err)
		}
	}
	// The finding of a record without a recipient names the caller's account.
	e.StartFile()
	f := observe(t, e, p, cognitoRecord(t, t1.Add(time.Hour), "del", map[string]any{"recipientAccountId": nil, "eventName": "DeleteUserPool",
		"requestParameters": map[string]any{"userPoolId": poolID}}))
	if len(f) != 1 || f[0].Account != accountA {
		t.Errorf("DeleteUserPool without a recipient: %+v", f)
	}
}

// TestRoleMappingsSetting: SetIdentityPoolRoles names the role mappings'
// providers, sorted, without hidden ones; a guest role, in any case, makes
// it the guest finding.
func TestRoleMappingsSetting(t *testing.T) {
	pool := "us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE"
	roles := func(roles, mappings any) []Finding {
		e := New(nil)
		e.StartFile()
		req := map[string]any{"identityPoolId": pool, "roles": roles}
		if mappings != nil {
			req["roleMappings"] = mappings
		}
		return observe(t, e, record.NewParser(), cognitoRecord(t, t1, "r", map[string]any{
			"eventSource": "cognito-identity.amazonaws.com", "eventName": "SetIdentityPoolRoles", "requestParameters": req}))
	}
	got := roles(map[string]any{"authenticated": "arn:aws:iam::111111111111:role/Auth"}, map[string]any{
		"graph.facebook.com": map[string]any{"type": "Token"},
		"cognito-idp.us-east-1.amazonaws.com/us-east-1_X:client": map[string]any{"type": "Rules"},
		record.HiddenValue: map[string]any{},
	})
	want := []Setting{
		{Name: "roles.authenticated", Value: "arn:aws:iam::111111111111:role/Auth"},
		{Name: "roleMappings", Value: "cognito-idp.us-east-1.amazonaws.com/us-east-1_X:client graph.facebook.com"},
	}
	if len(got) != 1 || got[0].Name != IdentityPoolRolesChanged || !slices.Equal(got[0].Settings, want) {
		t.Errorf("roles and mappings: %+v, want %s with %+v", got, IdentityPoolRolesChanged, want)
	}
	got = roles(map[string]any{"Unauthenticated": "arn:aws:iam::111111111111:role/Guest"}, map[string]any{record.HiddenValue: map[string]any{}})
	want = []Setting{{Name: "roles.Unauthenticated", Value: "arn:aws:iam::111111111111:role/Guest"}}
	if len(got) != 1 || got[0].Name != IdentityPoolGuestRoleSet || !slices.Equal(got[0].Settings, want) {
		t.Errorf("guest role, hidden mapping only: %+v, want %s with %+v", got, IdentityPoolGuestRoleSet, want)
	}
	got = roles(record.HiddenValue, "not an object")
	if len(got) != 1 || got[0].Name != IdentityPoolRolesChanged || len(got[0].Settings) != 0 {
		t.Errorf("hidden roles: %+v", got)
	}
}

// TestCustomDomainSetting: a custom domain's certificate is a setting of
// the domain finding; a customDomainConfig that is not an object is absent.
func TestCustomDomainSetting(t *testing.T) {
	domain := func(cfg any) []Finding {
		e := New(nil)
		e.StartFile()
		req := map[string]any{"userPoolId": poolID, "domain": "auth.example.com"}
		if cfg != nil {
			req["customDomainConfig"] = cfg
		}
		return observe(t, e, record.NewParser(), cognitoRecord(t, t1, "d", map[string]any{"eventName": "CreateUserPoolDomain", "requestParameters": req}))
	}
	cert := "arn:aws:acm:us-east-1:111111111111:certificate/abc"
	for _, tc := range []struct {
		cfg  any
		want []Setting
	}{
		{map[string]any{"certificateArn": cert}, []Setting{{Name: "domain", Value: "auth.example.com"}, {Name: "customDomainConfig.certificateArn", Value: cert}}},
		{map[string]any{"certificateArn": record.HiddenValue}, []Setting{{Name: "domain", Value: "auth.example.com"}}},
		{record.HiddenValue, []Setting{{Name: "domain", Value: "auth.example.com"}}},
		{nil, []Setting{{Name: "domain", Value: "auth.example.com"}}},
	} {
		got := domain(tc.cfg)
		if len(got) != 1 || got[0].Name != UserPoolDomainChanged || !slices.Equal(got[0].Settings, tc.want) {
			t.Errorf("customDomainConfig %v: %+v, want %+v", tc.cfg, got, tc.want)
		}
	}
}

// TestLenientDecoding: a list that is not an array, an object that is not
// an object, a scalar that is an object, array or null, read as absent
// and never as an error.
func TestLenientDecoding(t *testing.T) {
	for in, want := range map[string]list{
		`"ALLOW_USER_PASSWORD_AUTH"`: {},
		`{"a":"b"}`:                  {},
		`null`:                       {},
		`7`:                          {},
		` []`:                        {ok: true},
		`["a", 1, null, {"x":1}, ["y"], "HIDDEN_DUE_TO_SECURITY_REASONS", true]`: {items: []string{"a", "1", "true"}, ok: true},
	} {
		var l list
		if err := json.Unmarshal([]byte(in), &l); err != nil || l.ok != want.ok || !slices.Equal(l.items, want.items) {
			t.Errorf("list %s: %+v, %v; want %+v", in, l, err, want)
		}
	}
	for in, want := range map[string]val{
		`"x"`: {s: "x", ok: true}, `12.5`: {s: "12.5", ok: true}, `false`: {s: "false", ok: true},
		`null`: {}, `{}`: {}, `[1]`: {}, `"HIDDEN_FOR_SECURITY_REASONS"`: {},
	} {
		var v val
		if err := json.Unmarshal([]byte(in), &v); err != nil || v != want {
			t.Errorf("val %s: %+v, %v; want %+v", in, v, err, want)
		}
	}
	for in, ok := range map[string]bool{`{"certificateArn":"c"}`: true, `"c"`: false, `["c"]`: false, `null`: false} {
		var o obj[struct {
			CertificateARN val `json:"certificateArn"`
		}]
		if err := json.Unmarshal([]byte(in), &o); err != nil || o.ok != ok || (ok && o.v.CertificateARN.s != "c") {
			t.Errorf("obj %s: %+v, %v", in, o, err)
		}
	}
	for in, n := range map[string]int{`[{"logLevel":"ERROR"},"x",null,{"logLevel":"INFO"}]`: 2, `{"logLevel":"ERROR"}`: 0, `"x"`: 0} {
		var l objList[struct {
			LogLevel val `json:"logLevel"`
		}]
		if err := json.Unmarshal([]byte(in), &l); err != nil || len(l) != n {
			t.Errorf("objList %s: %+v, %v; want %d items", in, l, err, n)
		}
	}
	// Through the engine: a client whose flows are logged as a string is
	// neither a finding nor a decode error.
	e := New(nil)
	e.StartFile()
	got := observe(t, e, record.NewParser(), cognitoRecord(t, t1, "c", map[string]any{"eventName": "CreateUserPoolClient",
		"requestParameters": map[string]any{"userPoolId": poolID, "clientName": "web", "explicitAuthFlows": "ALLOW_USER_PASSWORD_AUTH"}}))
	if len(got) != 0 || e.Rejected() != nil {
		t.Errorf("flows as a string: %+v, rejected %v", got, e.Rejected())
	}
}

func TestLowerFirst(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "PreSignUp": "preSignUp", "ZTrigger": "zTrigger", "ATrigger": "aTrigger",
		"@x": "@x", "[x": "[x", "already": "already", "9x": "9x",
	} {
		if got := lowerFirst(in); got != want {
			t.Errorf("lowerFirst(%q) = %q, want %q", in, got, want)
		}
	}
}

package record_test

// Tests that pin down behaviours the other tests of this package left open
// (issue 19: each was a mutant of the code that no test noticed).
//
// Judged equivalent (no test can tell them apart):
//   - the arithmetic of slotOf, the direct-mapped cache's slot (both ends'
//     eight bytes and the length, multiplied and shifted): any function of
//     the bytes picks a slot in range, and a slot only saves a map look-up;
//   - maxInterned's comparison `<` -> `<=`: the table holds 8,192 or 8,193
//     strings; the bound is a memory cap, not a behaviour;
//   - `i >= 0` -> `i > 0` on indexAfter's results in setFromARN: indexAfter
//     returns -1 or at least len(sep);
//   - `i >= 0` -> `i > 0` in indexAfter itself: it differs only for a
//     resource ARN that starts with ":userpool/" or ":identitypool/", which
//     no ARN does (they start with "arn:").
//   - negating one of parseTime's shape tests (b[4] == '-', ...): the
//     common form then goes to time.Parse, which gives the same time, or
//     refuses the same input, without allocating either; only slower;
//   - parseStatus's `n > 999` -> `n >= 999`: overflow protection; no HTTP
//     status has four digits.
//   - parseTime's `h < 24` -> `h <= 24` and dropping `d >= 1`: hour 24 and
//     day 0 are normalised by time.Date into another day, which the
//     t.Day() == d check then refuses (TestEventTimeFields has both).

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/record"
)

func parseOne(t *testing.T, in string) (record.Record, error) {
	t.Helper()
	var r record.Record
	_, err := record.NewParser().Parse([]byte(in), &r)
	return r, err
}

// TestEventTimeFields: the fast path of eventTime parsing takes every valid
// value of each field and refuses the first invalid one, as time.Parse does.
func TestEventTimeFields(t *testing.T) {
	valid := map[string]time.Time{
		"2026-12-31T23:59:59Z": time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC),
		"2026-01-01T00:00:00Z": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		"2029-09-19T19:09:09Z": time.Date(2029, 9, 19, 19, 9, 9, 0, time.UTC),
		"2028-02-29T12:30:45Z": time.Date(2028, 2, 29, 12, 30, 45, 0, time.UTC),
	}
	for in, want := range valid {
		r, err := parseOne(t, `{"eventTime":"`+in+`"}`)
		if err != nil || !r.EventTime.Equal(want) {
			t.Errorf("eventTime %s: %v, %v; want %v", in, r.EventTime, err, want)
		}
		if ref, err := time.Parse(time.RFC3339, in); err != nil || !ref.Equal(want) {
			t.Errorf("eventTime %s: time.Parse %v, %v", in, ref, err)
		}
	}
	invalid := []string{
		"2026-13-01T00:00:00Z", // month 13
		"2026-00-10T00:00:00Z", // month 0
		"2026-11-00T00:00:00Z", // day 0
		"2026-11-32T00:00:00Z", // day 32
		"2027-02-29T00:00:00Z", // not a leap year
		"2026-11-20T24:00:00Z", // hour 24
		"2026-11-20T10:60:00Z", // minute 60
		"2026-11-20T10:00:60Z", // second 60
		"2026-1a-20T10:00:00Z", // letters where digits belong
		"2026-11-2/T10:00:00Z", // '/' is just below '0'
		"2026-11-20T1::00:00Z", // ':' is just above '9'
		"20x6-11-20T10:00:00Z",
		"2026-11-20T10:0-:00Z",
		"2026-11-20T10:00:+0Z",
		"2026-11-20 10:00:00Z", // the fast path's shape, but not RFC 3339
	}
	for _, in := range invalid {
		if r, err := parseOne(t, `{"eventTime":"`+in+`"}`); !errors.Is(err, record.ErrEventTime) {
			t.Errorf("eventTime %s: %v, %v; want ErrEventTime", in, r.EventTime, err)
		}
		if _, err := time.Parse(time.RFC3339, in); err == nil {
			t.Errorf("eventTime %s: time.Parse accepts it", in)
		}
	}
}

const guid = "1cf667a2-49a6-454b-9e45-23199EXAMPLE"

// TestIdentityPoolIDShape: only a REGION:GUID value becomes IdentityPoolID,
// from each of the places a record names one, so free text and hidden
// markers never become a metric dimension.
func TestIdentityPoolIDShape(t *testing.T) {
	cases := map[string]bool{
		"us-east-1:" + guid:                              true,
		"ap-southeast-2:" + guid:                         true,
		"us-gov-west-1:" + guid:                          true,
		":" + guid:                                       false, // no Region
		"us-east-1" + guid:                               false, // no colon
		"us-east-1:" + guid[1:]:                          false, // 35 characters after the colon
		"us-east-1:" + guid + "0":                        false, // 37
		"us-east-1:" + guid[:35] + " ":                   false, // a space
		"us-east-1:" + guid[:35] + "/":                   false,
		"us-east-1:" + guid[:35] + "_":                   false,
		"us-east-1:1cf667a2:49a6-454b-9e45-23199EXAMPLE": false, // a second colon
		"us-east-1:" + guid[:35] + "é":                   false,
		"verylongregionname-1:" + guid:                   false, // 57 characters
		"us-east-1:free text with spaces and words 1234": false, // free text
		record.HiddenValue:                               false,
		record.HiddenValueDoc:                            false,
		"":                                               false,
	}
	for id, ok := range cases {
		want := ""
		if ok {
			want = id
		}
		for _, in := range []string{
			`{"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-identity.amazonaws.com","requestParameters":{"identityPoolId":%q}}`,
			`{"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-identity.amazonaws.com","responseElements":{"IdentityPoolId":%q}}`,
			`{"eventTime":"2026-11-20T10:00:00Z","eventSource":"sts.amazonaws.com","responseElements":{"audience":%q}}`,
			`{"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-identity.amazonaws.com","resources":[{"ARN":"arn:aws:cognito-identity:us-east-1:123456789012:identitypool/%s"}]}`,
			`{"eventTime":"2026-11-20T10:00:00Z","eventSource":"s3.amazonaws.com","userIdentity":{"sessionContext":{"webIdFederationData":{"federatedProvider":"cognito-identity.amazonaws.com","attributes":{"cognito-identity.amazonaws.com:aud":%q}}}}}`,
		} {
			doc := fmt.Sprintf(in, id)
			r, err := parseOne(t, doc)
			if err != nil {
				if ok {
					t.Errorf("%s: %v", doc, err)
				}
				continue
			}
			if r.IdentityPoolID != want {
				t.Errorf("%s: IdentityPoolID %q, want %q", doc, r.IdentityPoolID, want)
			}
		}
	}
}

// TestIdentityPoolFromCredentialsComesLast: the pool a record's parameters
// name is kept over the aud of the credentials that made the call, and an
// aud that is not an identity pool id is not taken.
func TestIdentityPoolFromCredentialsComesLast(t *testing.T) {
	named := "eu-west-1:" + guid
	aud := "us-east-1:" + guid
	r, err := parseOne(t, `{"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-identity.amazonaws.com",`+
		`"userIdentity":{"sessionContext":{"webIdFederationData":{"attributes":{"cognito-identity.amazonaws.com:aud":"`+aud+`"}}}},`+
		`"requestParameters":{"identityPoolId":"`+named+`"}}`)
	if err != nil || r.IdentityPoolID != named || r.UserIdentity.Aud != aud {
		t.Errorf("pool %q aud %q (%v), want the named pool %q", r.IdentityPoolID, r.UserIdentity.Aud, err, named)
	}
	r, err = parseOne(t, `{"eventTime":"2026-11-20T10:00:00Z","eventSource":"s3.amazonaws.com",`+
		`"userIdentity":{"sessionContext":{"webIdFederationData":{"attributes":{"cognito-identity.amazonaws.com:aud":"www.example.com"}}}}}`)
	if err != nil || r.IdentityPoolID != "" || r.UserIdentity.Aud != "www.example.com" {
		t.Errorf("pool %q aud %q (%v), want no pool", r.IdentityPoolID, r.UserIdentity.Aud, err)
	}
}

// TestParserInterns: strings a file repeats are allocated once, even when
// more of them than the cache in front of the intern table has slots
// share a slot, and even with escapes (an amr's quotes), which are also
// unescaped once.
func TestParserInterns(t *testing.T) {
	p := record.NewParser()
	var recs [][]byte
	var names, amrs []string
	for i := range 600 {
		name := fmt.Sprintf("Op%d", i)
		amr := fmt.Sprintf(`[\"authenticated\",\"cognito-idp.us-east-1.amazonaws.com/us-east-1_%d\"]`, i%7)
		recs = append(recs, []byte(`{"eventTime":"2026-11-20T10:00:00Z","eventName":"`+name+`","awsRegion":"us-east-1",`+
			`"userIdentity":{"sessionContext":{"webIdFederationData":{"attributes":{"cognito-identity.amazonaws.com:amr":"`+amr+`"}}}}}`))
		names = append(names, name)
		amrs = append(amrs, fmt.Sprintf(`["authenticated","cognito-idp.us-east-1.amazonaws.com/us-east-1_%d"]`, i%7))
	}
	var r record.Record
	for _, raw := range recs { // the first reading allocates
		if _, err := p.Parse(raw, &r); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(5, func() {
		for i, raw := range recs {
			if _, err := p.Parse(raw, &r); err != nil || r.EventName != names[i] || r.UserIdentity.AMR != amrs[i] {
				t.Fatalf("%q %q %v", r.EventName, r.UserIdentity.AMR, err)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per reading of the records, want 0", allocs)
	}
}

// TestIDCharacterEdges: the characters at each end of the ranges the
// user pool and app client id patterns allow are taken, the ones just
// outside refused.
func TestIDCharacterEdges(t *testing.T) {
	for _, c := range "09azAZ" {
		pool := "us-east-1_a" + string(c)
		if !record.IsUserPoolID(pool) || record.UserPoolRegion(pool) != "us-east-1" {
			t.Errorf("user pool id %q refused", pool)
		}
		if client := "a" + string(c); !record.IsClientID(client) {
			t.Errorf("client id %q refused", client)
		}
	}
	for _, c := range "/:@[`{ .~" {
		if pool := "us-east-1_a" + string(c); record.IsUserPoolID(pool) {
			t.Errorf("user pool id %q taken", pool)
		}
		if client := "a" + string(c); record.IsClientID(client) {
			t.Errorf("client id %q taken", client)
		}
	}
	for v, want := range map[string]bool{
		"us-east-1_":  false, // nothing after the underscore
		"_abc":        false,
		"us-east-1_x": true,
		"us-east-1_" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa":  true,  // 55 characters
		"us-east-1_" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": false, // 56
	} {
		if got := record.IsUserPoolID(v); got != want {
			t.Errorf("IsUserPoolID(%q) = %v, want %v", v, got, want)
		}
	}
}

// TestHTTPStatusForms: an endpoint's status is read from a number, a
// float or a string of digits; anything else, or a number too long to be
// a status, reads as 0. (The guard's exact length, n > 999 before the next
// digit, is overflow protection: judged equivalent at its boundary.)
func TestHTTPStatusForms(t *testing.T) {
	for in, want := range map[string]int{
		`200`: 200, `200.0`: 200, `"302"`: 302, `400.5`: 400, `0`: 0, `599`: 599,
		`"2a0"`: 0, `"2/0"`: 0, `"2:0"`: 0, `-1`: 0, `1e3`: 0, `"x"`: 0, `null`: 0, `true`: 0,
		`123456789012345678901234567890`: 0,
	} {
		r, err := parseOne(t, `{"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-idp.amazonaws.com","additionalEventData":{"responseParameters":{"status":`+in+`}}}`)
		if err != nil || r.HTTPStatus != want {
			t.Errorf("status %s: %d (%v), want %d", in, r.HTTPStatus, err, want)
		}
	}
}

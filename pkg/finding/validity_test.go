package finding

import (
	"slices"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/record"
)

// One table for the validity members' reading, writing and reading back:
// every unit, the default unit, the range's ends, and what reads as absent.
func TestValidity(t *testing.T) {
	const day = 24 * time.Hour
	for _, tc := range []struct {
		n, unit   string
		nOK       bool
		unitOK    bool
		defUnit   string
		want      time.Duration
		ok        bool
		formatted string
	}{
		{"30", "", true, false, "days", 30 * day, true, "30d"},
		{"60", "minutes", true, true, "hours", time.Hour, true, "1h"},
		{"90", "MINUTES", true, true, "hours", 90 * time.Minute, true, "90m"},
		{"3600", "seconds", true, true, "hours", time.Hour, true, "1h"},
		{"61", "seconds", true, true, "hours", 61 * time.Second, true, "61s"},
		{"0", "hours", true, true, "hours", 0, true, "0s"},
		{"36500", "days", true, true, "days", 36500 * day, true, "36500d"},
		{"36501", "days", true, true, "days", 0, false, ""},
		{"-1", "days", true, true, "days", 0, false, ""},
		{"1.5", "days", true, true, "days", 0, false, ""},
		{"1", "weeks", true, true, "days", 0, false, ""},
		{"", "", false, false, "days", 0, false, ""},
	} {
		d, ok := parseValidity(val{tc.n, tc.nOK}, val{tc.unit, tc.unitOK}, tc.defUnit)
		if d != tc.want || ok != tc.ok {
			t.Errorf("parseValidity(%q, %q) = %v, %v; want %v, %v", tc.n, tc.unit, d, ok, tc.want, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		if got := formatValidity(d); got != tc.formatted {
			t.Errorf("formatValidity(%v) = %q, want %q", d, got, tc.formatted)
		}
		if back, ok := parseFormatted(tc.formatted); !ok || back != d {
			t.Errorf("parseFormatted(%q) = %v, %v; want %v", tc.formatted, back, ok, d)
		}
	}
	for _, bad := range []string{"", "d", "5", "5w", "-5d", "x5d"} {
		if d, ok := parseFormatted(bad); ok {
			t.Errorf("parseFormatted(%q) = %v, want not ok", bad, d)
		}
	}
}

// added: new items only, each once, sorted; the earlier value named; none
// or unknown earlier gives them all.
func TestAdded(t *testing.T) {
	e := New(nil)
	e.StartFile()
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	step := func(items ...string) ([]string, string) {
		at = at.Add(time.Minute)
		return (&call{Engine: e, r: recordAt(at)}).added("risk/p/-", "skipped", items)
	}
	if got, prev := step("b", "a", "b"); len(got) != 2 || got[0] != "a" || got[1] != "b" || prev != PreviousUnknown {
		t.Errorf("first: %v, %q", got, prev)
	}
	if got, prev := step("c", "a", "b"); len(got) != 1 || got[0] != "c" || prev != "a b" {
		t.Errorf("one added: %v, %q", got, prev)
	}
	if got, _ := step("a"); len(got) != 0 {
		t.Errorf("removals only: %v", got)
	}
	if got, _ := step(); len(got) != 0 {
		t.Errorf("emptied: %v", got)
	}
	if got, prev := step("d"); len(got) != 1 || prev != PreviousNone {
		t.Errorf("after empty: %v, %q", got, prev)
	}
	if got, prev := (&call{Engine: e, r: recordAt(at)}).added("", "skipped", []string{"x", "x"}); len(got) != 1 || prev != PreviousUnknown {
		t.Errorf("no resource: %v, %q", got, prev)
	}
}

// lengthened: against the default on a create or with nothing known,
// against the known value otherwise; with no resource, the record alone.
func TestLengthened(t *testing.T) {
	e := New(nil)
	e.StartFile()
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	step := func(res string, d time.Duration, create bool) (bool, string) {
		at = at.Add(time.Minute)
		return (&call{Engine: e, r: recordAt(at), create: create}).lengthened(res, "refreshTokenValidity", d, 30*24*time.Hour)
	}
	const day = 24 * time.Hour
	for i, tc := range []struct {
		res    string
		d      time.Duration
		create bool
		raise  bool
		prev   string
	}{
		{"client/p/c", 30 * day, true, false, ""},
		{"client/p/c", 31 * day, false, true, "30d"},
		{"client/p/c", 31 * day, false, false, "31d"},
		{"client/p/c", 2 * day, false, false, "31d"},
		{"client/p/c", 3 * day, false, true, "2d"},
		{"client/p/d", 30 * day, false, false, PreviousUnknown},
		{"client/p/e", 31 * day, false, true, PreviousUnknown},
		{"client/p/f", 31 * day, true, true, ""},
		{"", 31 * day, false, true, PreviousUnknown},
		{"", 30 * day, true, false, ""},
	} {
		raise, prev := step(tc.res, tc.d, tc.create)
		if raise != tc.raise || prev != tc.prev {
			t.Errorf("step %d: %v, %q; want %v, %q", i, raise, prev, tc.raise, tc.prev)
		}
	}
}

// recordAt is a record the engine judges at t (its own event id).
func recordAt(t time.Time) *record.Record {
	return &record.Record{EventTime: t, EventID: t.Format(time.RFC3339)}
}

// Triggers are judged trigger by trigger under transition's one rule: a
// create raises what it sets, an update what it adds, replaces or clears
// against the pool's value as of the record's time; a trigger absent with
// nothing known, or on a create, clears nothing. The settings are checked
// whole, so a spurious "cleared" entry fails.
func TestTriggersJudgedOneByOne(t *testing.T) {
	e := New(nil)
	e.StartFile()
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	step := func(create bool, res string, present map[string]string) []Setting {
		at = at.Add(time.Minute)
		e.out = e.out[:0]
		(&call{Engine: e, r: recordAt(at), create: create}).lambdaConfig(res, present)
		if len(e.out) == 0 {
			return nil
		}
		return e.out[0].Settings
	}
	const a, b = "arn:aws:lambda:us-east-1:111122223333:function:a", "arn:aws:lambda:us-east-1:111122223333:function:b"
	for i, tc := range []struct {
		create  bool
		res     string
		present map[string]string
		want    []Setting
	}{
		{true, "userpool/p1", map[string]string{"preSignUp": a}, []Setting{{Name: "lambdaConfig.preSignUp", Value: a}}},
		{false, "userpool/p1", map[string]string{"preSignUp": a}, nil},
		{false, "userpool/p1", map[string]string{"preSignUp": a, "postConfirmation": b},
			[]Setting{{Name: "lambdaConfig.postConfirmation", Value: b, Previous: PreviousNone}}},
		{false, "userpool/p1", map[string]string{"postConfirmation": b}, []Setting{{Name: "lambdaConfig.preSignUp", Previous: a}}},
		// A create judged against a history that holds its id (ids are
		// new, so only a test shows it) sets what it states and clears
		// nothing.
		{true, "userpool/p1", map[string]string{}, nil},
		{false, "userpool/p2", map[string]string{}, nil},
		{false, "userpool/p3", map[string]string{"customMessage": b}, []Setting{{Name: "lambdaConfig.customMessage", Value: b, Previous: PreviousUnknown}}},
		{true, "userpool/p4", map[string]string{}, nil},
		{false, "", map[string]string{"preSignUp": a}, []Setting{{Name: "lambdaConfig.preSignUp", Value: a, Previous: PreviousUnknown}}},
		{false, "", map[string]string{}, nil},
		{true, "", map[string]string{"preSignUp": a}, []Setting{{Name: "lambdaConfig.preSignUp", Value: a}}},
	} {
		if got := step(tc.create, tc.res, tc.present); !slices.Equal(got, tc.want) {
			t.Errorf("step %d: %+v, want %+v", i, got, tc.want)
		}
	}
}

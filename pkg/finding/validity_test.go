package finding

import (
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
		e.r = recordAt(at)
		defer func() { e.r = nil }()
		return e.added("risk/p/-", "skipped", items)
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
	e.r = recordAt(at)
	if got, prev := e.added("", "skipped", []string{"x", "x"}); len(got) != 1 || prev != PreviousUnknown {
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
		e.r = recordAt(at)
		defer func() { e.r = nil }()
		return e.lengthened(res, "refreshTokenValidity", d, 30*24*time.Hour, create)
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

package finding

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/record"
)

// corpus is testdata/corpus.json: labelled records, each a base record
// (AWS's published shape) with members set or, when null, removed.
type corpus struct {
	Sources map[string]string         `json:"sources"`
	Bases   map[string]map[string]any `json:"bases"`
	Cases   []struct {
		Case   string `json:"case"`
		Source string `json:"source"`
		Steps  []struct {
			Base   string         `json:"base"`
			Set    map[string]any `json:"set"`
			Repeat int            `json:"repeat"`
			Want   []want         `json:"want"`
		} `json:"steps"`
	} `json:"cases"`
}

type want struct {
	Finding  string  `json:"finding"`
	Severity string  `json:"severity"`
	Value    *string `json:"value"`
	Previous *string `json:"previous"`
	Count    int     `json:"count"`
}

func loadCorpus(t testing.TB) *corpus {
	t.Helper()
	b, err := os.ReadFile("testdata/corpus.json")
	if err != nil {
		t.Fatal(err)
	}
	var c corpus
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

func (c *corpus) record(t testing.TB, base string, set map[string]any) []byte {
	t.Helper()
	b, ok := c.Bases[base]
	if !ok {
		t.Fatalf("no base %q", base)
	}
	return withMembers(t, maps.Clone(b), set)
}

// withMembers is the JSON of record m with set's members in place of its
// own (a nil value removes one). m is changed.
func withMembers(t testing.TB, m, set map[string]any) []byte {
	t.Helper()
	for k, v := range set {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// step gives a case's step i a record of its own, as a trail has: its
// base's eventTime plus i seconds and its eventID with "-i", unless set
// names them (the state orders a setting's values by event time and knows
// a record by its eventID).
func (c *corpus) step(t testing.TB, base string, i int, set map[string]any) map[string]any {
	t.Helper()
	at, err := time.Parse(time.RFC3339, c.Bases[base]["eventTime"].(string))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{
		"eventTime": at.Add(time.Duration(i) * time.Second).Format(time.RFC3339),
		"eventID":   c.Bases[base]["eventID"].(string) + "-" + strconv.Itoa(i),
	}
	maps.Copy(out, set)
	return out
}

// observe parses raw as the scanner does and evaluates it.
func observe(t testing.TB, e *Engine, p *record.Parser, raw []byte) []Finding {
	t.Helper()
	var r record.Record
	if _, err := p.Parse(raw, &r); err != nil {
		t.Fatalf("parse: %v\n%s", err, raw)
	}
	c := class.Classify(&r)
	return slices.Clone(e.Observe(context.Background(), &r, &c, raw))
}

func TestCorpus(t *testing.T) {
	c := loadCorpus(t)
	triggered := map[string]bool{}
	for _, tc := range c.Cases {
		t.Run(tc.Case, func(t *testing.T) {
			if c.Sources[tc.Source] == "" {
				t.Fatalf("case has no labelled source (%q)", tc.Source)
			}
			e := New(nil)
			e.StartFile()
			p := record.NewParser()
			for i, st := range tc.Steps {
				raw := c.record(t, st.Base, c.step(t, st.Base, i, st.Set))
				for range max(st.Repeat, 1) {
					got := observe(t, e, p, raw)
					names := make([]string, len(got))
					for j, f := range got {
						names[j] = f.Name
					}
					if len(got) != len(st.Want) {
						t.Fatalf("step %d: got %v, want %d findings %+v", i, names, len(st.Want), st.Want)
					}
					for j, w := range st.Want {
						f := got[j]
						triggered[f.Name] = true
						checkFinding(t, i, f, w)
					}
					out, _ := json.Marshal(got)
					if strings.Contains(string(out), "HIDDEN_") {
						t.Fatalf("step %d: a hidden value was output: %s", i, out)
					}
				}
			}
			if err := e.Err(); err != nil {
				t.Fatal(err)
			}
		})
	}
	// The attacks judged over windows across files are raised by
	// TestWindows, which holds each case to its findings.
	for _, c := range windowCases {
		for name := range c.want {
			triggered[name] = true
		}
	}
	for _, c := range guestCases {
		if slices.Contains(c.want, 1) {
			triggered[GuestCredentialsFirstSeen] = true
		}
	}
	for _, s := range Catalog {
		// A posture-only finding judges a configuration read through the
		// API, which no record carries: package posture's tests raise it.
		if !triggered[s.Name] && !strings.HasPrefix(s.Trigger, "posture only") {
			t.Errorf("no corpus record triggers %s", s.Name)
		}
	}
}

func checkFinding(t *testing.T, step int, f Finding, w want) {
	t.Helper()
	if f.Name != w.Finding {
		t.Fatalf("step %d: finding %s, want %s", step, f.Name, w.Finding)
	}
	sev := bySpec[f.Name].Severity
	if w.Severity != "" {
		sev, _ = ParseSeverity(w.Severity)
	}
	if f.Severity != sev {
		t.Errorf("step %d: %s severity %s, want %s", step, f.Name, f.Severity, sev)
	}
	if w.Count != 0 && f.Count != w.Count {
		t.Errorf("step %d: %s count %d, want %d", step, f.Name, f.Count, w.Count)
	}
	if w.Value != nil || w.Previous != nil {
		ok := slices.ContainsFunc(f.Settings, func(s Setting) bool {
			return (w.Value == nil || s.Value == *w.Value) && (w.Previous == nil || s.Previous == *w.Previous)
		})
		if !ok {
			t.Errorf("step %d: %s settings %+v lack value %v previous %v", step, f.Name, f.Settings, deref(w.Value), deref(w.Previous))
		}
	}
	if f.EventID == "" || f.Account == "" || f.Region == "" || f.Time.IsZero() || f.Actor == "" || f.UserAgent == "" {
		t.Errorf("step %d: %s lacks a context field: %+v", step, f.Name, f)
	}
	if f.UserPoolID == "" && f.IdentityPoolID == "" {
		t.Errorf("step %d: %s names no pool: %+v", step, f.Name, f)
	}
}

func deref(p *string) string {
	if p == nil {
		return "<any>"
	}
	return *p
}

func TestActorWithoutARN(t *testing.T) {
	var e envelope
	e.UserIdentity.Type, e.UserIdentity.PrincipalID = "AWSAccount", "AIDAEXAMPLE"
	if got := e.actor(); got != "AWSAccount:AIDAEXAMPLE" {
		t.Errorf("actor = %q", got)
	}
	e.UserIdentity.ARN = "arn:aws:iam::123456789012:user/Alice"
	if got := e.actor(); got != e.UserIdentity.ARN {
		t.Errorf("actor = %q", got)
	}
}

type failingState struct{}

var errBroken = errors.New("broken")

func (failingState) Get(context.Context, string) ([]Entry, error)  { return nil, errBroken }
func (failingState) Put(context.Context, map[string][]Entry) error { return errBroken }

func TestStateErrorIsReportedAndRaisesNothing(t *testing.T) {
	c := loadCorpus(t)
	e := New(&Options{State: failingState{}})
	raw := c.record(t, "identity", map[string]any{"eventName": "UpdateIdentityPool",
		"requestParameters": map[string]any{"identityPoolId": "us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE", "allowUnauthenticatedIdentities": true}})
	if got := observe(t, e, record.NewParser(), raw); len(got) != 0 {
		t.Errorf("findings %v despite the state error", got)
	}
	if err := e.Err(); !errors.Is(err, ErrState) || !errors.Is(err, errBroken) {
		t.Errorf("Err() = %v, want ErrState wrapping the cause", err)
	}
	e.StartFile()
	if e.Err() != nil {
		t.Error("StartFile kept the error")
	}
}

// TestRetryIsJudgedLikeTheFirstPass: a file evaluated again, without
// Commit (the scan or the publish failed) or after it (a crash before the
// object was marked done), raises the same transition again: a record's
// own entry is never its previous value. A later record restating the
// value is quiet.
func TestRetryIsJudgedLikeTheFirstPass(t *testing.T) {
	c := loadCorpus(t)
	st := NewMemoryState()
	e := New(&Options{State: st})
	raw := c.record(t, "identity", map[string]any{"eventName": "UpdateIdentityPool",
		"requestParameters": map[string]any{"identityPoolId": guestPool, "allowUnauthenticatedIdentities": true}})
	p := record.NewParser()
	for pass := range 2 {
		e.StartFile()
		if got := observe(t, e, p, raw); len(got) != 1 {
			t.Fatalf("pass %d: %d findings, want 1 (no commit in between)", pass, len(got))
		}
	}
	for pass := range 2 {
		if got := file(t, e, p, raw); len(got) != 1 {
			t.Fatalf("committed pass %d: %d findings, want 1 (the record is judged as the first time)", pass, len(got))
		}
	}
	later := c.record(t, "identity", map[string]any{"eventName": "UpdateIdentityPool", "eventTime": "2021-01-19T23:08:05Z", "eventID": "later",
		"requestParameters": map[string]any{"identityPoolId": guestPool, "allowUnauthenticatedIdentities": true}})
	if got := file(t, e, p, later); len(got) != 0 {
		t.Errorf("a later restatement: %v, want none", got)
	}
	h, _ := st.Get(context.Background(), "123456789012/identitypool/"+guestPool+"/allowUnauthenticatedIdentities")
	if n, ok := Newest(h); len(h) != 2 || !ok || n.Value != "true" || n.EventID != "later" {
		t.Errorf("state = %+v, want two entries, the newest the later record's true", h)
	}
}

func TestIPTableIsBoundedAndKeepsTheBusiestIP(t *testing.T) {
	c := loadCorpus(t)
	e := New(&Options{MaxIPs: 8, SignInThreshold: 5})
	p := record.NewParser()
	attacker := c.record(t, "signin", nil)
	var raised int
	// The attacker's 60 failures are interleaved with failures from 200 other
	// IPs, each seen once: the table must stay at 8 and keep the attacker,
	// whose share (60 of 260) is above 1/8, the space-saving guarantee.
	for i := range 200 {
		other := c.record(t, "signin", map[string]any{"sourceIPAddress": "198.18.0." + strconv.Itoa(i)})
		observe(t, e, p, other)
		if i%10 == 0 {
			for range 3 {
				for _, f := range observe(t, e, p, attacker) {
					if f.Name == SignInFailuresFromOneIP {
						raised++
					}
				}
			}
		}
		if len(e.ips.m) > 8 || len(e.ips.h) > 8 {
			t.Fatalf("table grew to %d", len(e.ips.m))
		}
	}
	if raised != 1 {
		t.Errorf("attacker raised %d times, want once (60 failures, threshold 5)", raised)
	}
}

func TestCatalogNamesAreUniqueAndCited(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Catalog {
		if seen[s.Name] {
			t.Errorf("duplicate %s", s.Name)
		}
		seen[s.Name] = true
		if len(s.Sources) == 0 || s.Severity == 0 || s.Trigger == "" {
			t.Errorf("%s: incomplete spec %+v", s.Name, s)
		}
		for _, u := range s.Sources {
			if !strings.HasPrefix(u, "https://docs.aws.amazon.com/") {
				t.Errorf("%s: source %q is not an AWS documentation page", s.Name, u)
			}
		}
	}
}

// FuzzObserve feeds arbitrary records through the request decoder: it must
// not panic, and no hidden marker may reach a finding.
func FuzzObserve(f *testing.F) {
	c := loadCorpus(f)
	for _, tc := range c.Cases {
		for _, st := range tc.Steps {
			f.Add(c.record(f, st.Base, st.Set))
		}
	}
	f.Add([]byte(`{"eventTime":"2024-01-01T00:00:00Z","eventSource":"cognito-idp.amazonaws.com","eventName":"UpdateUserPool","requestParameters":{"lambdaConfig":"HIDDEN_DUE_TO_SECURITY_REASONS","policies":[1]}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var r record.Record
		if _, err := record.NewParser().Parse(raw, &r); err != nil {
			return
		}
		cl := class.Classify(&r)
		e := New(&Options{SignInThreshold: 1, EnumerationThreshold: 1})
		for _, fd := range e.Observe(context.Background(), &r, &cl, raw) {
			for _, s := range fd.Settings {
				if record.IsHidden(s.Value) || record.IsHidden(s.Previous) {
					t.Fatalf("hidden value output: %+v", fd)
				}
			}
		}
	})
}

// BenchmarkObserve evaluates every corpus record (mostly candidates, the
// slow path) once per iteration.
func BenchmarkObserve(b *testing.B) {
	c := loadCorpus(b)
	type rec struct {
		r   record.Record
		c   class.Class
		raw []byte
	}
	var recs []rec
	p := record.NewParser()
	for _, tc := range c.Cases {
		for _, st := range tc.Steps {
			var x rec
			x.raw = c.record(b, st.Base, st.Set)
			if _, err := p.Parse(x.raw, &x.r); err != nil {
				b.Fatal(err)
			}
			x.c = class.Classify(&x.r)
			recs = append(recs, x)
		}
	}
	e := New(nil)
	b.ReportAllocs()
	for b.Loop() {
		e.StartFile()
		for i := range recs {
			e.Observe(context.Background(), &recs[i].r, &recs[i].c, recs[i].raw)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
}

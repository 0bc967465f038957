package finding

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/record"
)

// published reads a record of the project's published-shape corpus
// (pkg/class/testdata/aws) and returns a function that makes variants of
// it: another time, address, user ("" keeps the record's, "-" drops it),
// error.
func published(t testing.TB, name string) func(at time.Time, ip, sub, errorCode string) []byte {
	t.Helper()
	raw, err := os.ReadFile("../class/testdata/aws/" + name)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	return func(at time.Time, ip, sub, errorCode string) []byte {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		n++
		m["eventTime"] = at.UTC().Format(time.RFC3339)
		m["eventID"] = fmt.Sprintf("%s-%s-%06d", name, at.Format("150405"), n)
		m["sourceIPAddress"] = ip
		switch sub {
		case "":
		case "-": // a record that names no user
			delete(m, "additionalEventData")
		default:
			m["additionalEventData"] = map[string]any{"sub": sub}
		}
		if errorCode != "" {
			m["errorCode"] = errorCode
		}
		b, _ := json.Marshal(m)
		return b
	}
}

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// at returns t0 plus minutes and seconds.
func at(min, sec int) time.Time {
	return t0.Add(time.Duration(min)*time.Minute + time.Duration(sec)*time.Second)
}

// judgeFile reads one file with a new engine over state (a cold start:
// all it knows of earlier files is in the state), judges its windows and
// commits it, and returns its findings: the records' own, then the
// windows'.
func judgeFile(t testing.TB, state State, opts Options, recs [][]byte) []Finding {
	t.Helper()
	opts.State = state
	e := New(&opts)
	out := readFile(t, e, recs)
	for _, r := range raisedOnly(e.Windows(context.Background(), e.Tallies())) {
		if r.Index < 0 || r.Index >= len(recs) {
			t.Errorf("%s names record %d of %d", r.Name, r.Index, len(recs))
		}
		out = append(out, r.Finding)
	}
	if err := e.Err(); err != nil {
		t.Fatal(err)
	}
	if err := e.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	return out
}

// readFile starts a file in e and observes recs in it as the scanner
// does, each at its index, and returns the records' own findings.
func readFile(t testing.TB, e *Engine, recs [][]byte) []Finding {
	t.Helper()
	e.StartFile()
	p := record.NewParser()
	var out []Finding
	for i, raw := range recs {
		var r record.Record
		if _, err := p.Parse(raw, &r); err != nil {
			t.Fatalf("parse: %v", err)
		}
		c := class.Classify(&r)
		e.At(i)
		out = append(out, slices.Clone(e.Observe(context.Background(), &r, &c, raw))...)
	}
	return out
}

// windowCase is one attack (or near miss) spread over files: the table
// drives TestWindows, its out-of-order and retried variants, and
// BenchmarkWindows.
type windowCase struct {
	name  string
	files func(t testing.TB) [][][]byte
	// want: finding name -> count (Finding.Count) raised over all files
	want map[string]int
}

func failures(t testing.TB, from, n int, ip func(i int) string, sub func(i int) string) [][]byte {
	mk := published(t, "idp-initiateauth-notauthorized.json")
	var out [][]byte
	for i := range n {
		out = append(out, mk(at(from, i), ip(i), sub(i), ""))
	}
	return out
}

// refreshes are InitiateAuth calls with a refresh token, answered with
// tokens (the SRP sign-in's published shape, its flow and answer a
// refresh's), one per address of ips, from minute from.
func refreshes(t testing.TB, from int, ips []string, sub string) [][]byte {
	mk := published(t, "idp-initiateauth-srp-success.json")
	var out [][]byte
	for i, ip := range ips {
		var m map[string]any
		if err := json.Unmarshal(mk(at(from, i), ip, sub, ""), &m); err != nil {
			t.Fatal(err)
		}
		m["requestParameters"].(map[string]any)["authFlow"] = "REFRESH_TOKEN_AUTH"
		m["responseElements"] = map[string]any{"challengeParameters": map[string]any{},
			"authenticationResult": map[string]any{"accessToken": "HIDDEN_DUE_TO_SECURITY_REASONS", "expiresIn": 3600,
				"tokenType": "Bearer", "idToken": "HIDDEN_DUE_TO_SECURITY_REASONS"}}
		b, _ := json.Marshal(m)
		out = append(out, b)
	}
	return out
}

// busyPool is a file of 60 failed sign-ins of one app client from 60
// addresses, each followed by two sign-ins of the same client shaped as
// the published record named.
func busyPool(t testing.TB, name string) [][]byte {
	ok := published(t, name)
	signIn := func(at time.Time, i int) []byte {
		return []byte(strings.Replace(string(ok(at, fmt.Sprint("192.0.2.", i), "", "")), "1example23456789", "4u37654rhubjei088dj85clscq", 1))
	}
	var f [][]byte
	for i, r := range failures(t, 0, 60, func(i int) string { return fmt.Sprint("198.51.100.", i) }, same("-")) {
		f = append(f, r, signIn(at(0, i), i), signIn(at(1, i), i))
	}
	return f
}

// signUps are 60 sign-ups, none confirmed, from 60 addresses over two
// files 30 minutes apart; mk makes more records of their shape.
func signUps(t testing.TB) (mk func(at time.Time, ip, sub, errorCode string) []byte, a, b [][]byte) {
	mk = published(t, "idp-signup.json")
	for i := range 30 {
		a = append(a, mk(at(0, i), fmt.Sprint("198.51.100.", i), "-", ""))
		b = append(b, mk(at(30, i), fmt.Sprint("192.0.2.", i), "-", ""))
	}
	return mk, a, b
}

// wrongCodes are 12 wrong MFA codes from 12 addresses over two files 7
// minutes apart, for the users subA and subB name in each.
func wrongCodes(t testing.TB, subA, subB func(int) string) [][][]byte {
	mk := published(t, "idp-respondtoauthchallenge-notauthorized.json")
	var a, b [][]byte
	for i := range 6 {
		a = append(a, mk(at(0, i), fmt.Sprint("198.51.100.", i), subA(i), "CodeMismatchException"))
		b = append(b, mk(at(7, i), fmt.Sprint("192.0.2.", i), subB(i), "CodeMismatchException"))
	}
	return [][][]byte{a, b}
}

// failuresThenAnswer is two files of one user's failed sign-ins from one
// address: first of them from minute 0, then more from minute 6 and, at
// minute 7, a sign-in answered as the published record answer.
func failuresThenAnswer(t testing.TB, first, more int, answer string) [][][]byte {
	mk := published(t, answer)
	return [][][]byte{
		failures(t, 0, first, same("203.0.113.9"), same(subN(1))),
		append(failures(t, 6, more, same("203.0.113.9"), same(subN(1))), mk(at(7, 0), "203.0.113.9", "", "")),
	}
}

// filesOf is a case's files, each made by one maker, in order.
func filesOf(makers ...func(testing.TB) [][]byte) func(testing.TB) [][][]byte {
	return func(t testing.TB) [][][]byte {
		files := make([][][]byte, len(makers))
		for i, mk := range makers {
			files[i] = mk(t)
		}
		return files
	}
}

// failing is failures as a maker of one file.
func failing(from, n int, ip func(i int) string, sub func(i int) string) func(testing.TB) [][]byte {
	return func(t testing.TB) [][]byte { return failures(t, from, n, ip, sub) }
}

// refreshing is refreshes as a maker of one file.
func refreshing(from int, ips []string, sub string) func(testing.TB) [][]byte {
	return func(t testing.TB) [][]byte { return refreshes(t, from, ips, sub) }
}

func same(s string) func(int) string { return func(int) string { return s } }
func nth(prefix string) func(int) string {
	return func(i int) string { return fmt.Sprintf("%s%d", prefix, i) }
}
func subN(i int) string { return fmt.Sprintf("87a42a58-6051-7076-79e2-%012d", i) }

var windowCases = []windowCase{
	{"one address over two files", filesOf(
		failing(0, 8, same("203.0.113.9"), same(subN(1))),
		failing(6, 8, same("203.0.113.9"), same(subN(1))),
	), map[string]int{SignInFailuresFromOneIP: 16}},
	{"one address, one short of the threshold", filesOf(
		failing(0, 7, same("203.0.113.9"), same(subN(1))),
		failing(6, 7, same("203.0.113.9"), same(subN(1))),
	), nil},
	{"one address, files 20 minutes apart", filesOf(
		failing(0, 8, same("203.0.113.9"), same(subN(1))),
		failing(20, 8, same("203.0.113.9"), same(subN(1))),
	), nil},
	{"one address raised by its file, then more", filesOf(
		failing(0, 15, same("203.0.113.9"), same(subN(1))),
		failing(6, 5, same("203.0.113.9"), same(subN(1))),
	), map[string]int{SignInFailuresFromOneIP: 15}},
	{"an AWS service as the source is no address", filesOf(
		failing(0, 10, same("apigateway.amazonaws.com"), nth("sub-")),
		failing(6, 10, same("apigateway.amazonaws.com"), nth("sub-")),
	), nil},
	{"password spray", filesOf(
		failing(0, 5, same("203.0.113.20"), subN),
		failing(40, 5, same("203.0.113.20"), func(i int) string { return subN(100 + i) }),
	), map[string]int{PasswordSpray: 10}},
	{"password spray, nine users", filesOf(
		failing(0, 5, same("203.0.113.20"), subN),
		failing(40, 4, same("203.0.113.20"), func(i int) string { return subN(100 + i) }),
	), nil},
	{"password spray, more than an hour apart", filesOf(
		failing(0, 5, same("203.0.113.20"), subN),
		failing(70, 5, same("203.0.113.20"), func(i int) string { return subN(100 + i) }),
	), nil},
	{"targeted brute force", filesOf(
		failing(0, 3, nth("198.51.100."), same(subN(7))),
		failing(30, 2, func(i int) string { return fmt.Sprint("192.0.2.", i) }, same(subN(7))),
	), map[string]int{TargetedBruteForce: 5}},
	{"targeted brute force, four addresses", filesOf(
		failing(0, 3, nth("198.51.100."), same(subN(7))),
		failing(30, 3, same("192.0.2.1"), same(subN(7))),
	), nil},
	{"credential stuffing", filesOf(
		// 36 addresses, few failures each (below every per-address
		// threshold), over two files: the pool sees 72.
		failing(0, 36, func(i int) string { return fmt.Sprint("198.51.100.", i) }, subN),
		failing(5, 36, func(i int) string { return fmt.Sprint("198.51.100.", i) }, func(i int) string { return subN(i + 50) }),
	), map[string]int{CredentialStuffing: 72}},
	{"credential stuffing, nine addresses", filesOf(
		failing(0, 30, func(i int) string { return fmt.Sprint("198.51.100.", i%9) }, same("-")),
		failing(5, 30, func(i int) string { return fmt.Sprint("198.51.100.", i%9) }, same("-")),
	), nil},
	{"a busy pool: more successes than failures", func(t testing.TB) [][][]byte {
		return [][][]byte{busyPool(t, "idp-respondtoauthchallenge-success.json")}
	}, nil},
	{"credential stuffing answered with challenges: no sign-in succeeded", func(t testing.TB) [][][]byte {
		// As the busy pool, but each other sign-in is SRP's first step,
		// answered with PASSWORD_VERIFIER: no tokens, no success.
		return [][][]byte{busyPool(t, "idp-initiateauth-srp-success.json")}
	}, map[string]int{CredentialStuffing: 60}},
	{"success after failures across files", func(t testing.TB) [][][]byte {
		// 14 failures, then 2 more and tokens in the next file
		return failuresThenAnswer(t, 14, 2, "idp-respondtoauthchallenge-success.json")
	}, map[string]int{SignInFailuresFromOneIP: 16, SignInSuccessAfterFailures: 16}},
	{"success after failures, in a file of its own", func(t testing.TB) [][][]byte {
		// the address failed in two files and is given tokens in a
		// third, where it fails no more: its account's failing
		// addresses name it
		ok := published(t, "idp-respondtoauthchallenge-success.json")
		return [][][]byte{
			failures(t, 0, 8, same("203.0.113.9"), same(subN(1))),
			failures(t, 5, 8, same("203.0.113.9"), same(subN(1))),
			{ok(at(11, 0), "198.51.100.200", "", ""), ok(at(11, 5), "203.0.113.9", "", "")},
		}
	}, map[string]int{SignInFailuresFromOneIP: 16, SignInSuccessAfterFailures: 16}},
	{"success after failures hours into a long file", func(t testing.TB) [][][]byte {
		// a file of hours (the CLI's, or one delivered late) whose
		// first failures come five hours before the address's: the
		// sign-in in a later file is matched against the address's
		// own bucket, not the file's first
		ok := published(t, "idp-respondtoauthchallenge-success.json")
		long := append(failures(t, 0, 2, same("198.51.100.7"), same(subN(2))),
			failures(t, 300, 15, same("203.0.113.9"), same(subN(1)))...)
		return [][][]byte{long,
			{ok(at(303, 0), "198.51.100.200", "", "")},
			{ok(at(306, 0), "203.0.113.9", "", "")},
		}
	}, map[string]int{SignInFailuresFromOneIP: 15, SignInSuccessAfterFailures: 15}},
	{"success after failures, two files sharing their first record", func(t testing.TB) [][][]byte {
		// the same first records (a file delivered again with other
		// records after them): each file's failing addresses are kept
		ok := published(t, "idp-respondtoauthchallenge-success.json")
		shared := failures(t, 0, 2, same("203.0.113.50"), same(subN(9)))
		return [][][]byte{
			append(slices.Clone(shared), failures(t, 1, 15, same("198.51.100.1"), same(subN(1)))...),
			append(slices.Clone(shared), failures(t, 2, 15, same("198.51.100.2"), same(subN(2)))...),
			{ok(at(7, 0), "198.51.100.2", "", "")},
		}
	}, map[string]int{SignInFailuresFromOneIP: 30, SignInSuccessAfterFailures: 15}},
	{"success before the failures", func(t testing.TB) [][][]byte {
		ok := published(t, "idp-respondtoauthchallenge-success.json")
		return [][][]byte{
			{ok(at(0, 0), "203.0.113.9", "", "")},
			failures(t, 6, 8, same("203.0.113.9"), same(subN(1))),
			failures(t, 11, 8, same("203.0.113.9"), same(subN(1))),
		}
	}, map[string]int{SignInFailuresFromOneIP: 16}},
	{"success before the failures, in a file that failed too", func(t testing.TB) [][][]byte {
		// the success is kept (its address failed in its file), in a
		// bucket before the failures that cross
		ok := published(t, "idp-respondtoauthchallenge-success.json")
		return [][][]byte{
			append([][]byte{ok(at(0, 0), "203.0.113.9", "", "")}, failures(t, 0, 2, same("203.0.113.9"), same(subN(1)))...),
			failures(t, 6, 14, same("203.0.113.9"), same(subN(1))),
		}
	}, map[string]int{SignInFailuresFromOneIP: 16}},
	{"success after too few failures", func(t testing.TB) [][][]byte {
		return failuresThenAnswer(t, 8, 6, "idp-respondtoauthchallenge-success.json")
	}, nil},
	{"failures answered at last with a challenge", func(t testing.TB) [][][]byte {
		// SRP's first step: no tokens, no success
		return failuresThenAnswer(t, 14, 2, "idp-initiateauth-srp-success.json")
	}, map[string]int{SignInFailuresFromOneIP: 16}},
	{"success after failures in one file: the file's own finding", func(t testing.TB) [][][]byte {
		ok := published(t, "idp-respondtoauthchallenge-success.json")
		return [][][]byte{append(failures(t, 0, 15, same("203.0.113.9"), same(subN(1))), ok(at(1, 0), "203.0.113.9", "", ""))}
	}, map[string]int{SignInFailuresFromOneIP: 15, SignInSuccessAfterFailures: 15}},
	{"refresh from many addresses", func(t testing.TB) [][][]byte {
		// one user's refresh token used from 3 addresses, then 2 more
		// 40 minutes later: 5 in the hour
		return [][][]byte{
			refreshes(t, 0, []string{"203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.1"}, subN(7)),
			refreshes(t, 40, []string{"198.51.100.4", "198.51.100.5"}, subN(7)),
		}
	}, map[string]int{RefreshFromManyIPs: 5}},
	{"refresh from four addresses", filesOf(
		refreshing(0, []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"}, subN(7)),
		refreshing(40, []string{"203.0.113.1", "198.51.100.4"}, subN(7)),
	), nil},
	{"refresh from many addresses, two hours apart", filesOf(
		refreshing(0, []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"}, subN(7)),
		refreshing(120, []string{"198.51.100.4", "198.51.100.5"}, subN(7)),
	), nil},
	{"refreshes that name no user, from many addresses", filesOf(
		refreshing(0, []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"}, "-"),
		refreshing(10, []string{"198.51.100.4", "198.51.100.5"}, "-"),
	), nil},
	{"sms pumping", func(t testing.TB) [][][]byte {
		_, a, b := signUps(t)
		return [][][]byte{a, b}
	}, map[string]int{SMSPumping: 60}},
	{"sms pumping, a fifth confirmed", func(t testing.TB) [][][]byte {
		mk, a, b := signUps(t)
		for i := range 12 {
			// ConfirmSignUp of the same client (the sign-up's shape:
			// the API takes the same clientId) a minute after the
			// sign-ups: a window holds the sends and their confirmations
			// unless it ends between them (at most minutes)
			r := mk(at(31, i), fmt.Sprint("192.0.2.", i), "-", "")
			b = append(b, []byte(strings.Replace(string(r), `"eventName":"SignUp"`, `"eventName":"ConfirmSignUp"`, 1)))
		}
		return [][][]byte{a, b}
	}, nil},
	{"sms pumping from one address", func(t testing.TB) [][][]byte {
		mk := published(t, "idp-signup.json")
		var a, b [][]byte
		for i := range 5 {
			a = append(a, mk(at(0, i), "203.0.113.66", "-", ""))
			b = append(b, mk(at(50, i), "203.0.113.66", "-", ""))
		}
		return [][][]byte{a, b}
	}, map[string]int{SMSPumping: 10}},
	{"config change denied", func(t testing.TB) [][][]byte {
		mk := published(t, "idp-updateuserpool-accessdenied.json")
		return [][][]byte{
			{mk(at(0, 1), "192.0.2.10", "", ""), mk(at(0, 2), "192.0.2.10", "", ""), mk(at(1, 0), "192.0.2.10", "", "")},
			{mk(at(7, 1), "192.0.2.10", "", ""), mk(at(8, 2), "192.0.2.10", "", "")},
		}
	}, map[string]int{ConfigChangeDenied: 5}},
	{"config change denied four times", func(t testing.TB) [][][]byte {
		mk := published(t, "idp-updateuserpool-accessdenied.json")
		return [][][]byte{
			{mk(at(0, 1), "192.0.2.10", "", ""), mk(at(0, 2), "192.0.2.10", "", "")},
			{mk(at(7, 1), "192.0.2.10", "", ""), mk(at(8, 2), "192.0.2.10", "", "")},
		}
	}, nil},
	{"a busy pool: its successes before its failures", func(t testing.TB) [][][]byte {
		ok := published(t, "idp-respondtoauthchallenge-success.json")
		var f [][]byte
		for i := range 120 {
			f = append(f, []byte(strings.Replace(string(ok(at(0, i), fmt.Sprint("192.0.2.", i), "", "")), "1example23456789", "4u37654rhubjei088dj85clscq", 1)))
		}
		f = append(f, failures(t, 2, 60, func(i int) string { return fmt.Sprint("198.51.100.", i) }, same("-"))...)
		return [][][]byte{f}
	}, nil},
	{"code brute force", func(t testing.TB) [][][]byte {
		mk := published(t, "idp-respondtoauthchallenge-notauthorized.json")
		var a, b [][]byte
		for i := range 6 {
			a = append(a, mk(at(0, i), "203.0.113.77", "", "CodeMismatchException"))
		}
		for i := range 4 {
			b = append(b, mk(at(7, i), "203.0.113.77", "", "ExpiredCodeException"))
		}
		return [][][]byte{a, b}
	}, map[string]int{CodeBruteForce: 10}},
	{"code brute force on one user from many addresses", func(t testing.TB) [][][]byte {
		// 12 wrong MFA codes for one user (the published failure names
		// its sub), from 12 addresses over two files; an MFA code is a
		// sign-in step, so the user's failures from 6 addresses (the
		// first file) are a targeted brute force too
		return wrongCodes(t, same(subN(3)), same(subN(3)))
	}, map[string]int{CodeBruteForce: 12, TargetedBruteForce: 6}},
	{"wrong codes of many users from many addresses", func(t testing.TB) [][][]byte {
		return wrongCodes(t, subN, func(i int) string { return subN(i + 10) })
	}, nil},
}

// raised sums the window findings' counts by name, failing on a finding
// raised twice for one window.
func raised(t testing.TB, fs []Finding) map[string]int {
	t.Helper()
	got := map[string]int{}
	ids := map[string]bool{}
	for _, f := range fs {
		if strings.HasPrefix(f.EventID, "window-") {
			if ids[f.EventID+f.Name] {
				t.Errorf("%s %s raised twice", f.Name, f.EventID)
			}
			ids[f.EventID+f.Name] = true
		}
		// the rules judged over windows (a file's own sign-in
		// findings are TestCorpus's)
		if slices.ContainsFunc(rules, func(r rule) bool { return r.name == f.Name }) {
			got[f.Name] += f.Count
		}
	}
	return got
}

func wantOf(c windowCase) map[string]int {
	if c.want == nil {
		return map[string]int{}
	}
	return c.want
}

// TestWindows: each attack is raised once, with its count, whatever the
// order its files come in, and across cold starts (a new engine per file,
// the state shared); each near miss raises nothing.
func TestWindows(t *testing.T) {
	for _, c := range windowCases {
		t.Run(c.name, func(t *testing.T) {
			files := c.files(t)
			orders := [][]int{{}}
			for i := range files {
				orders[0] = append(orders[0], i)
			}
			if len(files) == 2 {
				orders = append(orders, []int{1, 0})
			}
			for _, order := range orders {
				state := NewMemoryState()
				var all []Finding
				for _, i := range order {
					all = append(all, judgeFile(t, state, Options{}, files[i])...)
				}
				if got := raised(t, all); !mapsEqual(got, wantOf(c)) {
					t.Errorf("order %v: raised %v, want %v", order, got, wantOf(c))
				}
				for _, f := range all {
					if f.Account != "123456789012" || f.Time.IsZero() || f.EventID == "" {
						t.Errorf("finding without account, time or id: %+v", f)
					}
					if strings.Contains(fmt.Sprint(f), "HIDDEN_") {
						t.Errorf("a hidden value was output: %+v", f)
					}
				}
			}
		})
	}
}

// TestWindowsRetried: a file judged again (its attempt failed after the
// windows were judged, or after its commit) raises the same findings with
// the same counts: its own entries are never counted twice.
func TestWindowsRetried(t *testing.T) {
	for _, c := range windowCases {
		files := c.files(t)
		state := NewMemoryState()
		var lastFirst []Finding
		for _, f := range files {
			lastFirst = judgeFile(t, state, Options{}, f)
		}
		again := judgeFile(t, state, Options{}, files[len(files)-1])
		if g, w := raised(t, again), raised(t, lastFirst); !mapsEqual(g, w) {
			t.Errorf("%s: the last file judged again raised %v, the first time %v", c.name, g, w)
		}
	}
}

// TestWindowsConcurrent: two invocations judging the two files of one
// attack at the same moment (each writes its tallies before the other
// reads): the later reader raises it, and an id names both raises alike,
// so the notices send it once.
func TestWindowsConcurrent(t *testing.T) {
	files := windowCases[0].files(t)
	state := NewMemoryState()
	engines := make([]*Engine, 2)
	tallies := make([]*Tallies, 2)
	p := record.NewParser()
	for i, f := range files {
		engines[i] = New(&Options{State: state})
		engines[i].StartFile()
		for j, raw := range f {
			var r record.Record
			if _, err := p.Parse(raw, &r); err != nil {
				t.Fatal(err)
			}
			c := class.Classify(&r)
			engines[i].At(j)
			engines[i].Observe(context.Background(), &r, &c, raw)
		}
		tallies[i] = engines[i].Tallies()
	}
	// Both write, then both read.
	if err := state.Put(context.Background(), map[string][]Entry{tallies[0].subjects[0].key: tallies[0].subjects[0].entries}); err != nil {
		t.Fatal(err)
	}
	r1, _ := engines[1].Windows(context.Background(), tallies[1])
	r0, _ := engines[0].Windows(context.Background(), tallies[0])
	ids := map[string]bool{}
	for _, r := range append(r0, r1...) {
		if r.Name == SignInFailuresFromOneIP {
			ids[r.EventID] = true
		}
	}
	if len(ids) != 1 {
		t.Errorf("raised under %d ids, want one: %v %v", len(ids), r0, r1)
	}
}

// TestWindowStateBounded: a botnet of 20,000 addresses failing once each
// in one file writes at most MaxWindowSubjects subjects of each kind, and
// each subject's entry stays small; the pool's distinct count is
// estimated within 30 %.
func TestWindowStateBounded(t *testing.T) {
	mk := published(t, "idp-initiateauth-notauthorized.json")
	state := &countingState{State: NewMemoryState()}
	e := New(&Options{State: state})
	const n = 20_000
	recs := make([][]byte, n)
	for i := range recs {
		recs[i] = mk(at(0, i%240), fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), subN(i%3), "")
	}
	readFile(t, e, recs)
	got, _ := e.Windows(context.Background(), e.Tallies())
	if err := e.Err(); err != nil {
		t.Fatal(err)
	}
	if state.keys > 3*MaxWindowSubjects {
		t.Errorf("%d subjects written, want at most %d", state.keys, 3*MaxWindowSubjects)
	}
	if state.maxValue > 1024 {
		t.Errorf("an entry of %d bytes", state.maxValue)
	}
	var stuffing *Finding
	for i := range got {
		if got[i].Name == CredentialStuffing {
			stuffing = &got[i].Finding
		}
	}
	if stuffing == nil {
		t.Fatalf("no credential stuffing from %d addresses: %v", n, got)
	}
	var sources int
	for _, s := range stuffing.Settings {
		if s.Name == "distinctSources" {
			fmt.Sscan(s.Value, &sources)
		}
	}
	if sources < n*7/10 || sources > n*13/10 {
		t.Errorf("distinct sources estimated %d, want %d within 30 %%", sources, n)
	}
	t.Logf("%d subjects, %d entries, largest value %d bytes, %d distinct sources estimated", state.keys, state.entries, state.maxValue, sources)
}

type countingState struct {
	State
	keys, entries, maxValue int
}

func (s *countingState) Put(_ context.Context, m map[string][]Entry) error {
	s.keys += len(m)
	for _, es := range m {
		s.entries += len(es)
		for _, e := range es {
			s.maxValue = max(s.maxValue, len(e.Value))
		}
	}
	return s.State.Put(context.Background(), m)
}

// TestWindowHistoryCut: a subject keeps its newest WindowEntries entries,
// whatever the order entries arrive in.
func TestWindowHistoryCut(t *testing.T) {
	var es []Entry
	for i := range 100 {
		es = append(es, Entry{Time: t0.Add(time.Duration(i) * time.Minute), EventID: windowIDPrefix + fmt.Sprint(i), Value: "f=1 c=0"})
	}
	h, _ := Merge(nil, es)
	if len(h) != WindowEntries || !h[0].Time.Equal(es[len(es)-WindowEntries].Time) {
		t.Errorf("kept %d entries from %v to %v", len(h), h[0].Time, h[len(h)-1].Time)
	}
	rev := slices.Clone(es)
	slices.Reverse(rev)
	var h2 []Entry
	for _, e := range rev {
		h2, _ = Merge(h2, []Entry{e})
	}
	if !slices.Equal(h, h2) {
		t.Error("the order entries arrive in changed what is kept")
	}
	old := []Entry{{Time: t0, EventID: windowIDPrefix + "a", Value: "f=1"}, {Time: t0.Add(30 * time.Hour), EventID: windowIDPrefix + "b", Value: "f=1"}}
	if h, _ := Merge(nil, old); len(h) != 2 {
		t.Errorf("an entry hours older than the newest was dropped: %v", h)
	}
}

// TestSketch: exact below its size; the union is the same whatever the
// order; an estimate above.
func TestSketch(t *testing.T) {
	var a, b sketch
	for i := range 20 {
		a.add(hash32(fmt.Sprint("a", i)))
	}
	if a.count() != 20 {
		t.Errorf("20 members counted %d", a.count())
	}
	for i := range 5000 {
		b.add(hash32(fmt.Sprint("b", i)))
	}
	ab, ba := slices.Clone(a), slices.Clone(b)
	ab.union(b)
	ba.union(a)
	if !slices.Equal(ab, ba) || len(ab) != sketchSize {
		t.Errorf("union depends on order: %v %v", ab, ba)
	}
	if n := ab.count(); n < 3500 || n > 7000 {
		t.Errorf("5020 members estimated %d", n)
	}
	if got := decodeTally((&tally{failures: 3, users: a}).encode()); got.failures != 3 || !slices.Equal(got.users, a) {
		t.Errorf("encode/decode: %+v", got)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// BenchmarkWindows: the window cases judged file after file, a new engine
// per file, in memory: the cost a file's windows add.
func BenchmarkWindows(b *testing.B) {
	for _, c := range windowCases {
		files := c.files(b)
		b.Run(strings.ReplaceAll(c.name, " ", "-"), func(b *testing.B) {
			for b.Loop() {
				state := NewMemoryState()
				for _, f := range files {
					judgeFile(b, state, Options{}, f)
				}
			}
		})
	}
}

// parseWindowsCases drive TestParseWindows and FuzzParseWindows's seeds.
var parseWindowsCases = []struct {
	in   string
	want Windows
	ok   bool
}{
	{"", Windows{}, true},
	{"window=10m", Windows{Window: 10 * time.Minute}, true},
	{" sprayWindow=2h , sprayUsers=20", Windows{SprayWindow: 2 * time.Hour, SprayUsers: 20}, true},
	{"stuffingFailures=100,stuffingSources=25,bruteForceSources=3,codeFailures=6",
		Windows{StuffingFailures: 100, StuffingSources: 25, BruteForceSources: 3, CodeFailures: 6}, true},
	{"deniedCalls=3,refreshSources=8", Windows{DeniedCalls: 3, RefreshSources: 8}, true},
	{"refreshSources=0", Windows{}, false},
	{"window=4m", Windows{}, false},   // shorter than a bucket
	{"window=121m", Windows{}, false}, // longer than MaxWindow
	{"sprayUsers=0", Windows{}, false},
	{"sprayUsers=-3", Windows{}, false},
	{"sprayusers=3", Windows{}, false}, // names are case-sensitive
	{"window", Windows{}, false},
	{"window=10m,", Windows{}, false},
	{"smsWindow=30m,smsSends=200,smsSourceSends=20,deniedCalls=3",
		Windows{SMSWindow: 30 * time.Minute, SMSSends: 200, SMSSourceSends: 20, DeniedCalls: 3}, true},
}

func TestParseWindows(t *testing.T) {
	for _, c := range parseWindowsCases {
		got, err := ParseWindows(c.in)
		if (err == nil) != c.ok || c.ok && got != c.want {
			t.Errorf("ParseWindows(%q) = %+v, %v; want %+v ok=%v", c.in, got, err, c.want, c.ok)
		}
		if err != nil && !errors.Is(err, ErrWindows) {
			t.Errorf("ParseWindows(%q): %v is not ErrWindows", c.in, err)
		}
	}
	// The defaults the README argues are the engine's when a field is zero.
	e := New(&Options{Windows: Windows{SprayUsers: 3}})
	if e.opts.Window != DefaultWindow || e.opts.SprayWindow != DefaultSprayWindow || e.opts.SprayUsers != 3 ||
		e.opts.StuffingFailures != DefaultStuffingFailures || e.opts.CodeFailures != DefaultCodeFailures ||
		e.opts.RefreshSources != DefaultRefreshSources {
		t.Errorf("engine windows %+v", e.opts.Windows)
	}
}

// FuzzParseWindows: whatever the input, ParseWindows either refuses it or
// returns windows within bounds and counts above zero.
func FuzzParseWindows(f *testing.F) {
	for _, c := range parseWindowsCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWindows(s)
		if err != nil {
			return
		}
		for _, d := range []time.Duration{w.Window, w.SprayWindow} {
			if d != 0 && (d < Bucket || d > MaxWindow) {
				t.Fatalf("%q: window %v out of bounds", s, d)
			}
		}
		for _, n := range []int{w.StuffingFailures, w.StuffingSources, w.SprayUsers, w.BruteForceSources, w.CodeFailures} {
			if n < 0 {
				t.Fatalf("%q: count %d", s, n)
			}
		}
	})
}

// TestWindowsProvisional: a file whose counts were merged but whose
// results were never kept (its attempt died, its object was deleted before
// a retry) does not keep the next file of the attack from raising it;
// once committed, it does (the attack is raised once).
func TestWindowsProvisional(t *testing.T) {
	a := failures(t, 0, 10, same("203.0.113.20"), subN) // a spray by itself
	b := failures(t, 6, 2, same("203.0.113.20"), func(i int) string { return subN(50 + i) })
	for _, commit := range []bool{false, true} {
		state := NewMemoryState()
		e := New(&Options{State: state})
		readFile(t, e, a)
		first, _ := e.Windows(context.Background(), e.Tallies())
		if len(first) != 1 || first[0].Name != PasswordSpray {
			t.Fatalf("the first file raised %v", first)
		}
		if commit {
			if err := e.Commit(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		// Raised on the attack's first window, where the first file
		// alone had 10 users: under the first file's id, so the
		// notices send it once if the first file did send it.
		second := judgeFile(t, state, Options{}, b)
		if got, want := raised(t, second)[PasswordSpray], map[bool]int{false: 10, true: 0}[commit]; got != want {
			t.Errorf("first file committed %v: the second raised password-spray with %d users, want %d", commit, got, want)
		}
		if !commit && (len(second) != 1 || second[0].EventID != first[0].EventID) {
			t.Errorf("raised again under another id: %v, first %v", second, first)
		}
	}
}

// TestWindowsLateFile: a file delivered a day late is judged with its own
// counts and the files of its hours, though newer files of the subject
// came first.
func TestWindowsLateFile(t *testing.T) {
	state := NewMemoryState()
	ip := same("203.0.113.9")
	judgeFile(t, state, Options{}, failures(t, 24*60, 3, ip, same(subN(1)))) // a day later
	judgeFile(t, state, Options{}, failures(t, 0, 8, ip, same(subN(1))))
	got := raised(t, judgeFile(t, state, Options{}, failures(t, 6, 8, ip, same(subN(1)))))
	if got[SignInFailuresFromOneIP] != 16 {
		t.Errorf("the late files raised %v, want sign-in-failures-from-one-ip with 16", got)
	}
}

// A window finding names a record of its attack (Raised.Index): a pool's
// failures followed by its users' sign-ins name the last failure, not a
// sign-in.
func TestWindowWitness(t *testing.T) {
	recs := failures(t, 0, 60, func(i int) string { return fmt.Sprint("198.51.100.", i%12) }, same("-"))
	lastFailure := len(recs) - 1
	ok := published(t, "idp-respondtoauthchallenge-success.json")
	for i := range 10 {
		// the failures' app client
		recs = append(recs, []byte(strings.Replace(string(ok(at(1, i), fmt.Sprint("192.0.2.", i), "", "")), "1example23456789", "4u37654rhubjei088dj85clscq", 1)))
	}
	e := New(&Options{State: NewMemoryState()})
	readFile(t, e, recs)
	var got []Raised
	for _, r := range raisedOnly(e.Windows(context.Background(), e.Tallies())) {
		if r.Name == CredentialStuffing {
			got = append(got, r)
		}
	}
	if len(got) != 1 {
		t.Fatalf("credential-stuffing raised %d times, want 1", len(got))
	}
	if got[0].Index != lastFailure || got[0].Operation != "InitiateAuth" {
		t.Errorf("finding names record %d (%s), want the last failure %d (InitiateAuth)", got[0].Index, got[0].Operation, lastFailure)
	}
}

// A success after failures across files names the sign-in that issued
// tokens, not a failure.
func TestWindowSuccessNamesTheSignIn(t *testing.T) {
	ok := published(t, "idp-respondtoauthchallenge-success.json")
	state := NewMemoryState()
	judgeFile(t, state, Options{}, failures(t, 0, 14, same("203.0.113.9"), same(subN(1))))
	recs := append(failures(t, 6, 1, same("203.0.113.9"), same(subN(1))), ok(at(7, 0), "203.0.113.9", "", ""))
	recs = append(recs, failures(t, 8, 1, same("203.0.113.9"), same(subN(1)))...)
	e := New(&Options{State: state})
	readFile(t, e, recs)
	n := 0
	for _, r := range raisedOnly(e.Windows(context.Background(), e.Tallies())) {
		if r.Name != SignInSuccessAfterFailures {
			continue
		}
		n++
		if r.Index != 1 || r.Operation != "RespondToAuthChallenge" || r.SourceIP != "203.0.113.9" {
			t.Errorf("names record %d (%s from %s), want 1 (RespondToAuthChallenge from 203.0.113.9)", r.Index, r.Operation, r.SourceIP)
		}
	}
	if n != 1 {
		t.Fatalf("raised %d times, want once", n)
	}
}

func raisedOnly(r []Raised, _ []Sources) []Raised { return r }

// DistinctFailingSources: whatever order a window's files are judged in,
// each with a new engine, no file reports more distinct addresses than the
// window holds, and the largest report of each window (what the Maximum
// statistic reads) is exactly the window's count once all have been judged.
func TestDistinctFailingSources(t *testing.T) {
	ip := func(from int) func(int) string {
		return func(i int) string { return fmt.Sprintf("198.51.100.%d", from+i) }
	}
	files := [][][]byte{
		failures(t, 0, 3, ip(0), subN),  // 10:00: .0 .1 .2
		failures(t, 5, 5, ip(2), subN),  // 10:05: .2 to .6
		failures(t, 40, 2, ip(0), subN), // 10:40: .0 .1
	}
	// The 15-minute windows, by the bucket they end with.
	want := map[time.Time]int{at(0, 0): 3, at(5, 0): 7, at(10, 0): 7, at(15, 0): 5, at(40, 0): 2, at(45, 0): 2, at(50, 0): 2}
	for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}, {1, 0, 2}} {
		state := NewMemoryState()
		got := map[time.Time]int{}
		for _, i := range order {
			e := New(&Options{State: state})
			readFile(t, e, files[i])
			_, sources := e.Windows(context.Background(), e.Tallies())
			if err := e.Err(); err != nil {
				t.Fatal(err)
			}
			if err := e.Commit(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, s := range sources {
				if s.ClientID == "" && s.UserPoolID == "" {
					t.Errorf("order %v: %+v names no pool or client", order, s)
				}
				if s.Count > want[s.Time] {
					t.Errorf("order %v, file %d: %d sources in the window ending %s, it holds %d", order, i, s.Count, s.Time.Format("15:04"), want[s.Time])
				}
				got[s.Time] = max(got[s.Time], s.Count)
			}
		}
		if !maps.Equal(got, want) {
			t.Errorf("order %v: largest reports %v, want %v", order, got, want)
		}
	}
}

package finding

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cognitrail/cognitrail/pkg/record"
)

// Tests of what a file counts for the windows and which of its subjects it
// writes, of the address table's eviction, and of a few rules of single
// records: each was a mutant that no other test noticed (make mutate).

// talliedSubjects reads recs as one file and returns the subjects of kind
// the file writes for the windows, each with its first entry's value.
func talliedSubjects(t *testing.T, recs [][]byte, kind string) map[string]string {
	t.Helper()
	e := New(nil)
	readFile(t, e, recs)
	out := map[string]string{}
	for _, s := range e.Tallies().subjects {
		if s.kind == kind {
			out[s.subject] = s.entries[0].Value
		}
	}
	return out
}

// confirmations are n ConfirmSignUp calls of one app client from one
// address.
func confirmations(t *testing.T, n int) [][]byte {
	var out [][]byte
	for i := range n {
		out = append(out, cognitoRecord(t, at(0, i), fmt.Sprint("confirm-", i), map[string]any{
			"eventName": "ConfirmSignUp", "sourceIPAddress": "203.0.113.50",
			"requestParameters": map[string]any{"clientId": "confirmclient1234567890abcd"}}))
	}
	return out
}

// TestSubjectsWrittenByWeight: a pool or a principal is written from its
// first count, an address or a user from its second; a subject's weight
// is the sum over the file's buckets; a pool's confirmations weigh
// (they tell pumping from a pool's real sign-ups).
func TestSubjectsWrittenByWeight(t *testing.T) {
	one := failures(t, 0, 1, same("203.0.113.1"), same(subN(1)))
	if got := talliedSubjects(t, one, kindIP); len(got) != 0 {
		t.Errorf("an address with one failure written: %v", got)
	}
	if got := talliedSubjects(t, one, kindPool); len(got) != 1 {
		t.Errorf("pools written for one failure: %v, want its app client", got)
	}
	// One failure in each of two buckets: two in the file.
	two := append(failures(t, 0, 1, same("203.0.113.2"), same(subN(2))),
		failures(t, 6, 1, same("203.0.113.2"), same(subN(2)))...)
	if got := talliedSubjects(t, two, kindIP); len(got) != 1 {
		t.Errorf("an address failing once in each of two buckets: written %v, want it", got)
	}
	if got := talliedSubjects(t, confirmations(t, 1), kindPool); len(got) != 1 {
		t.Errorf("a pool with one confirmation: written %v, want it", got)
	}
}

// TestConfirmationsAreNotSendsOfTheirAddress: a sign-up confirmed from
// an address is no code sent to it (SMS pumping counts sends per
// address).
func TestConfirmationsAreNotSendsOfTheirAddress(t *testing.T) {
	if got := talliedSubjects(t, confirmations(t, 3), kindIP); len(got) != 0 {
		t.Errorf("confirmations counted for their address: %v", got)
	}
}

// TestHiddenOrMissingSourceIsNoAddress: failures whose source address is
// hidden or absent are counted for their pool and user, never as an
// address of their own.
func TestHiddenOrMissingSourceIsNoAddress(t *testing.T) {
	for _, ip := range []string{record.HiddenValue, ""} {
		recs := failures(t, 0, 3, same(ip), same(subN(3)))
		if got := talliedSubjects(t, recs, kindIP); len(got) != 0 {
			t.Errorf("source %q: addresses written %v", ip, got)
		}
		if got := talliedSubjects(t, recs, kindUser); len(got) != 1 {
			t.Errorf("source %q: users written %v, want the user", ip, got)
		}
	}
}

// TestPoolSubjectIsThePoolWhenNamed: a record that names its user pool
// and its app client is counted for the pool; the client stands in only
// when the pool is unknown.
func TestPoolSubjectIsThePoolWhenNamed(t *testing.T) {
	mk := published(t, "idp-admininitiateauth-notauthorized.json")
	recs := [][]byte{mk(at(0, 0), "203.0.113.3", "", ""), mk(at(0, 1), "203.0.113.3", "", "")}
	got := talliedSubjects(t, recs, kindPool)
	if _, ok := got["us-east-1_EXAMPLE"]; !ok || len(got) != 1 {
		t.Errorf("pool subjects %v, want us-east-1_EXAMPLE alone", got)
	}
}

// TestBusiestSubjectsAreWritten: of more addresses than a file writes,
// the busiest are kept, whatever their names.
func TestBusiestSubjectsAreWritten(t *testing.T) {
	var recs [][]byte
	// address 0 is the least busy and the first by name
	for i := range MaxWindowSubjects + 1 {
		recs = append(recs, failures(t, 0, 2+i, same(fmt.Sprintf("198.51.100.%d", 100+i)), same(subN(i)))...)
	}
	got := talliedSubjects(t, recs, kindIP)
	if len(got) != MaxWindowSubjects {
		t.Fatalf("%d addresses written, want %d", len(got), MaxWindowSubjects)
	}
	if _, ok := got["198.51.100.100"]; ok {
		t.Errorf("the least busy address written, the busiest dropped: %v", got)
	}
}

// TestTalliesAreBounded: once maxTallies addresses are counted, a new one
// is counted only for its pool and user, whatever its weight.
func TestTalliesAreBounded(t *testing.T) {
	mk := published(t, "idp-initiateauth-notauthorized.json")
	var recs [][]byte
	for i := range maxTallies {
		recs = append(recs, mk(at(0, 0), fmt.Sprintf("10.%d.%d.1", i/256, i%256), "-", ""))
	}
	late := "203.0.113.200"
	recs = append(recs, mk(at(0, 1), late, "-", ""), mk(at(0, 2), late, "-", ""), mk(at(0, 3), late, "-", ""))
	if _, ok := talliedSubjects(t, recs, kindIP)[late]; ok {
		t.Errorf("address %s counted past the table's %d", late, maxTallies)
	}
}

// TestWrongPasswordsAreNotWrongCodes: failed password sign-ins of one
// user from several addresses are no code brute force.
func TestWrongPasswordsAreNotWrongCodes(t *testing.T) {
	recs := failures(t, 0, DefaultCodeFailures, func(i int) string { return fmt.Sprint("203.0.113.", 60+i%2) }, same(subN(4)))
	for _, f := range judgeFile(t, NewMemoryState(), Options{}, recs) {
		if f.Name == CodeBruteForce {
			t.Errorf("raised %s on wrong passwords: %+v", f.Name, f)
		}
	}
	if v := talliedSubjects(t, recs, kindUser)[subN(4)]; !strings.Contains(v, "c=0") {
		t.Errorf("user's entry %q counts codes", v)
	}
}

// TestIPTableEvictsTheLeastBusy: a full address table makes room by
// dropping its least busy address, the first by name among equals, and
// the newcomer takes over its weight (space saving).
func TestIPTableEvictsTheLeastBusy(t *testing.T) {
	tb := ipTable{max: 2, m: map[string]*ipStat{}}
	busy := tb.add("198.51.100.1")
	for range 3 {
		tb.bump(busy)
	}
	tb.bump(tb.add("198.51.100.2"))
	tb.add("198.51.100.3")
	if tb.lookup("198.51.100.1") == nil || tb.lookup("198.51.100.2") != nil {
		t.Errorf("evicted the busier address: .1 kept %v, .2 kept %v", tb.lookup("198.51.100.1") != nil, tb.lookup("198.51.100.2") != nil)
	}
	if s := tb.lookup("198.51.100.3"); s == nil || s.weight != 1 {
		t.Errorf("newcomer %+v, want the evicted weight 1", s)
	}

	eq := ipTable{max: 2, m: map[string]*ipStat{}}
	eq.add("198.51.100.8")
	eq.add("198.51.100.9")
	eq.add("198.51.100.7")
	if eq.lookup("198.51.100.8") != nil || eq.lookup("198.51.100.9") == nil {
		t.Errorf("of two equally busy addresses, want the first by name evicted: .8 kept %v, .9 kept %v",
			eq.lookup("198.51.100.8") != nil, eq.lookup("198.51.100.9") != nil)
	}
}

// TestClipOfInvalidUTF8: a long value of bytes that start no character
// (never valid UTF-8, but a record may hold anything) is clipped to its
// digest alone rather than cut inside a character or panicking.
func TestClipOfInvalidUTF8(t *testing.T) {
	v := strings.Repeat("\x80", MaxValueBytes+10)
	got := clip(v)
	if !strings.HasPrefix(got, "... sha256:") || !utf8.ValidString(got) {
		t.Errorf("clip = %q, want the digest alone", got)
	}
}

// clientUpdate is the published UpdateUserPoolClient record with
// requestParameters req (the pool and client added) and no response.
func clientUpdate(t *testing.T, id string, req map[string]any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(published(t, "idp-updateuserpoolclient.json")(at(0, 0), "203.0.113.9", "", ""), &m); err != nil {
		t.Fatal(err)
	}
	req["userPoolId"], req["clientId"] = "us-east-1_EXAMPLE", "1example23456789"
	m["eventID"], m["requestParameters"] = id, req
	delete(m, "responseElements")
	b, _ := json.Marshal(m)
	return b
}

// TestClientSettingsJudgedOneByOne: an update that leaves token
// revocation out still has its user-existence setting judged; one that
// removes every redirect URL raises nothing (no URL to send codes to).
func TestClientSettingsJudgedOneByOne(t *testing.T) {
	got := readFile(t, New(nil), [][]byte{clientUpdate(t, "c1", map[string]any{"preventUserExistenceErrors": "LEGACY"})})
	if !slices.Contains(names(got), AppClientTokensWeakened) {
		t.Errorf("LEGACY user existence errors alone: raised %v, want %s", names(got), AppClientTokensWeakened)
	}
	got = readFile(t, New(nil), [][]byte{clientUpdate(t, "c2", map[string]any{"callbackURLs": []string{}, "logoutURLs": []string{}})})
	if slices.Contains(names(got), AppClientRedirectsChanged) {
		t.Errorf("redirects removed: raised %v", names(got))
	}
}

// TestGuestNamesTheFirstCallByTimeThenID: of a file's guest calls, the
// finding names the earliest, and of two at the same second the one
// with the smaller eventID, whatever the order in the file.
func TestGuestNamesTheFirstCallByTimeThenID(t *testing.T) {
	call := func(min int, id string) []byte {
		raw := guestFile(t, at(min, 0), 1, true, "")[0]
		return []byte(strings.Replace(string(raw), eventIDOf(t, raw), id, 1))
	}
	for _, c := range []struct {
		name  string
		file  [][]byte
		first string
	}{
		{"same second, smaller id last", [][]byte{call(0, "bbbb"), call(0, "aaaa")}, "aaaa"},
		{"same second, smaller id first", [][]byte{call(0, "aaaa"), call(0, "bbbb")}, "aaaa"},
		{"a later call with a smaller id", [][]byte{call(0, "bbbb"), call(1, "aaaa")}, "bbbb"},
	} {
		got := guestRaised(judgeFile(t, NewMemoryState(), Options{}, c.file))
		if len(got) != 1 || got[0].EventID != c.first {
			t.Errorf("%s: raised %+v, want one naming %s", c.name, got, c.first)
		}
	}
}

// TestFailingAddressesNameOnlyAddresses: the account's failing entry of a
// file lists the addresses it writes that failed sign-in (not its pools or
// users, nor an address that only sent codes), each with its buckets of
// failures after the entry's, at the earliest of them, named by its first
// record and a digest of the list.
func TestFailingAddressesNameOnlyAddresses(t *testing.T) {
	mk := published(t, "idp-forgotpassword.json")
	recs := append(failures(t, 6, 3, same("203.0.113.1"), same(subN(1))),
		failures(t, 0, 2, same("203.0.113.2"), same(subN(2)))...)
	recs = append(recs, failures(t, 21, 1, same("203.0.113.1"), same(subN(1)))...)
	recs = append(recs, mk(at(2, 0), "203.0.113.3", "", ""), mk(at(2, 1), "203.0.113.3", "", ""))
	if _, ok := talliedSubjects(t, recs, kindIP)["203.0.113.3"]; !ok {
		t.Fatal("the address sending codes is not written: the test proves nothing")
	}
	e := New(nil)
	readFile(t, e, recs)
	x := failingEntry(e.Tallies().failing["123456789012"])
	if want := "i=203.0.113.1@1-4 203.0.113.2"; x.Value != want {
		t.Errorf("failing addresses %q, want %q", x.Value, want)
	}
	if want := windowIDPrefix + eventIDOf(t, recs[3]) + "/"; !strings.HasPrefix(x.EventID, want) || !x.Time.Equal(at(0, 0)) {
		t.Errorf("failing entry named %s at %v, want %s… at %v", x.EventID, x.Time, want, at(0, 0))
	}
	for _, c := range []struct {
		token       string
		ip          string
		first, last time.Time
	}{
		{"203.0.113.1@1-4", "203.0.113.1", at(5, 0), at(20, 0)},
		{"203.0.113.2", "203.0.113.2", at(0, 0), at(0, 0)},
		{"2001:db8::1@0-2", "2001:db8::1", at(0, 0), at(10, 0)},
		{"a@b", "a@b", at(0, 0), at(0, 0)},       // not a span: all of it is the address
		{"a@3-1", "a@3-1", at(0, 0), at(0, 0)},   // a span that ends before it starts
		{"a@-1-2", "a@-1-2", at(0, 0), at(0, 0)}, // before the entry
		{"@1-2", "@1-2", at(0, 0), at(0, 0)},     // a span of no address
	} {
		ip, first, last := failedAt(Entry{Time: at(0, 0)}, c.token)
		if ip != c.ip || !first.Equal(c.first) || !last.Equal(c.last) {
			t.Errorf("failedAt(%q) = %s %v %v, want %s %v %v", c.token, ip, first, last, c.ip, c.first, c.last)
		}
	}
}

// TestFailingSpanOfRecordsWithoutEventID: records that name no eventID
// (damaged, or shapes CloudTrail never wrote) still give an address its
// first bucket of failures, not its last.
func TestFailingSpanOfRecordsWithoutEventID(t *testing.T) {
	var recs [][]byte
	for _, raw := range append(failures(t, 0, 2, same("203.0.113.1"), same(subN(1))),
		failures(t, 16, 2, same("203.0.113.1"), same(subN(1)))...) {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "eventID")
		b, _ := json.Marshal(m)
		recs = append(recs, b)
	}
	e := New(nil)
	readFile(t, e, recs)
	spans := e.Tallies().failing["123456789012"]
	if len(spans) != 1 {
		t.Fatalf("failing addresses %+v, want one", spans)
	}
	if x := failingEntry(spans); x.Value != "i=203.0.113.1@0-3" || !x.Time.Equal(at(0, 0)) {
		t.Errorf("failing entry %q at %v, want %q at %v", x.Value, x.Time, "i=203.0.113.1@0-3", at(0, 0))
	}
}

// TestSuspectsAreAddressesThatFailedBefore: an address given tokens is
// judged with its failures in other files when the account's failing
// addresses name it up to MaxWindow and an hour before (a hint, not a
// count), never after; its sign-ins of several buckets are one subject.
func TestSuspectsAreAddressesThatFailedBefore(t *testing.T) {
	ctx := t.Context()
	st := NewMemoryState()
	won := at(60, 0).Truncate(Bucket)
	failed := func(d time.Duration, ip string) Entry {
		return Entry{Time: won.Add(d), EventID: windowIDPrefix + ip, Value: "i=" + ip}
	}
	if err := st.Put(ctx, map[string][]Entry{failingKey(accountA): {
		failed(-4*time.Hour, "198.51.100.4"),     // too long before
		failed(-150*time.Minute, "198.51.100.3"), // within MaxWindow and an hour
		failed(-10*time.Minute, "198.51.100.1"),
		failed(5*time.Minute, "198.51.100.2"), // after the sign-in
	}}); err != nil {
		t.Fatal(err)
	}
	succ := func(ip string, d time.Duration) succEntry {
		return succEntry{ipBucket{accountA, ip, won.Add(d).Unix()}, succSeen{n: 1, first: "s-" + ip}}
	}
	tl := &Tallies{succ: []succEntry{
		succ("198.51.100.1", 0), succ("198.51.100.1", Bucket),
		succ("198.51.100.2", 0), succ("198.51.100.3", 0), succ("198.51.100.4", 0),
	}}
	got, err := New(&Options{State: st}).suspects(ctx, tl)
	if err != nil {
		t.Fatal(err)
	}
	var desc []string
	for _, s := range got {
		desc = append(desc, fmt.Sprintf("%s:%d", s.subject, len(s.entries)))
	}
	if want := []string{"198.51.100.1:2", "198.51.100.3:1"}; !slices.Equal(desc, want) {
		t.Errorf("suspects %v, want %v", desc, want)
	}
}

// TestUncountedRecordsTakeNoRoom: records that count for no window (an
// admin's read, ListUsers) take no place
// in the file's bounded tallies: an attacking address after many of them
// is still counted.
func TestUncountedRecordsTakeNoRoom(t *testing.T) {
	var recs [][]byte
	for i := range maxTallies {
		recs = append(recs, cognitoRecord(t, at(0, 0), fmt.Sprint("list-", i), map[string]any{
			"eventName": "ListUsers", "sourceIPAddress": fmt.Sprintf("10.%d.%d.1", i/256, i%256),
			"requestParameters": map[string]any{"userPoolId": poolID}}))
	}
	recs = append(recs, failures(t, 1, 2, same("203.0.113.201"), same(subN(5)))...)
	if _, ok := talliedSubjects(t, recs, kindIP)["203.0.113.201"]; !ok {
		t.Errorf("a failing address after %d uncounted records was not counted", maxTallies)
	}
}

// TestGuestFindingPointsAtTheFirstCopyOfARepeatedCall: a call delivered
// twice in a file is one call; the finding names the record where it
// first appears in the file, which is where the scan shows it.
func TestGuestFindingPointsAtTheFirstCopyOfARepeatedCall(t *testing.T) {
	call := guestFile(t, day(0, 9), 1, true, "")[0]
	other := cognitoRecord(t, day(0, 9), "list-1", map[string]any{"eventName": "ListUsers", "requestParameters": map[string]any{"userPoolId": poolID}})
	e := New(nil)
	readFile(t, e, [][]byte{call, other, call})
	raised, _ := e.Windows(t.Context(), e.Tallies())
	var idx []int
	for _, r := range raised {
		if r.Name == GuestCredentialsFirstSeen {
			idx = append(idx, r.Index)
		}
	}
	if !slices.Equal(idx, []int{0}) {
		t.Errorf("guest findings at records %v, want one at record 0 (the first copy)", idx)
	}
}

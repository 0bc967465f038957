package finding

import (
	"fmt"
	"testing"
	"time"
)

// Tests that pin the window rules at their edges: each threshold is
// reached by exactly its value, a window sums every entry it holds, the
// state's entry format is what other versions read. Each was a mutant of
// window.go that no other test noticed (make mutate).

// ruleOf is the rule judging name over kind's windows.
func ruleOf(t *testing.T, name, kind string) rule {
	t.Helper()
	for _, r := range rules {
		if r.name == name && r.kind == kind {
			return r
		}
	}
	t.Fatalf("no rule %s over %s", name, kind)
	return rule{}
}

// sketchOf is a sketch of n distinct members.
func sketchOf(n int) sketch {
	var s sketch
	for i := range n {
		s.add(hash32(fmt.Sprint("member-", i)))
	}
	return s
}

// TestWindowThresholdsAreInclusive: every rule crosses at exactly its
// threshold and not one below it, as the options document ("this many").
// Credential stuffing also needs more failures than sign-ins that issued
// tokens, and SMS pumping under a fifth of its sends confirmed: both
// pinned on each side.
func TestWindowThresholdsAreInclusive(t *testing.T) {
	o := Options{SignInThreshold: 15, Windows: Windows{StuffingFailures: 50, StuffingSources: 10,
		SprayUsers: 10, BruteForceSources: 5, CodeFailures: 10, SMSSends: 50, SMSSourceSends: 10,
		DeniedCalls: 5, RefreshSources: 5}}
	cases := []struct {
		name, kind, why string
		w               tally
		want            bool
	}{
		{SignInFailuresFromOneIP, kindIP, "at the threshold", tally{failures: 15}, true},
		{SignInFailuresFromOneIP, kindIP, "one below", tally{failures: 14}, false},
		{SignInFailuresFromOneIP, kindIP, "raised by the file alone", tally{failures: 15, alone: true}, false},
		{SignInSuccessAfterFailures, kindIP, "at the threshold", tally{failures: 15, successesAtEnd: 1}, true},
		{SignInSuccessAfterFailures, kindIP, "one below", tally{failures: 14, successesAtEnd: 1}, false},
		{SignInSuccessAfterFailures, kindIP, "no success at the end", tally{failures: 15, successes: 1}, false},
		{PasswordSpray, kindIP, "at the threshold", tally{users: sketchOf(10)}, true},
		{PasswordSpray, kindIP, "one below", tally{users: sketchOf(9)}, false},
		{CodeBruteForce, kindIP, "at the threshold", tally{codes: 10}, true},
		{CodeBruteForce, kindIP, "one below", tally{codes: 9}, false},
		{CodeBruteForce, kindUser, "at the threshold from two addresses", tally{codes: 10, codeSources: sketchOf(2)}, true},
		{CodeBruteForce, kindUser, "one below", tally{codes: 9, codeSources: sketchOf(2)}, false},
		{CodeBruteForce, kindUser, "from one address (its address's finding)", tally{codes: 10, codeSources: sketchOf(1)}, false},
		{TargetedBruteForce, kindUser, "at the threshold", tally{sources: sketchOf(5)}, true},
		{TargetedBruteForce, kindUser, "one below", tally{sources: sketchOf(4)}, false},
		{SMSPumping, kindPool, "at the threshold, 9 of 50 confirmed", tally{sends: 50, confirms: 9}, true},
		{SMSPumping, kindPool, "10 of 50 confirmed: a fifth", tally{sends: 50, confirms: 10}, false},
		{SMSPumping, kindPool, "one below", tally{sends: 49}, false},
		{SMSPumping, kindIP, "at the threshold", tally{sends: 10}, true},
		{SMSPumping, kindIP, "one below", tally{sends: 9}, false},
		{ConfigChangeDenied, kindPrincipal, "at the threshold", tally{denied: 5}, true},
		{ConfigChangeDenied, kindPrincipal, "one below", tally{denied: 4}, false},
		{RefreshFromManyIPs, kindUser, "at the threshold", tally{refreshed: sketchOf(5)}, true},
		{RefreshFromManyIPs, kindUser, "one below", tally{refreshed: sketchOf(4)}, false},
		{CredentialStuffing, kindPool, "at both thresholds", tally{failures: 50, sources: sketchOf(10), successes: 49}, true},
		{CredentialStuffing, kindPool, "one failure below", tally{failures: 49, sources: sketchOf(10)}, false},
		{CredentialStuffing, kindPool, "one source below", tally{failures: 50, sources: sketchOf(9)}, false},
		{CredentialStuffing, kindPool, "as many successes as failures", tally{failures: 50, sources: sketchOf(10), successes: 50}, false},
	}
	for _, c := range cases {
		r := ruleOf(t, c.name, c.kind)
		if got, _, _ := r.crossed(&o, &c.w); got != c.want {
			t.Errorf("%s over %s, %s: crossed = %v, want %v", c.name, c.kind, c.why, got, c.want)
		}
	}
}

// TestSumAddsEveryEntryOfTheWindow: a window's counts are the sums of
// all its entries (two files in one bucket, another bucket), none from
// outside it, and its successes at the end only those of its last
// bucket.
func TestSumAddsEveryEntryOfTheWindow(t *testing.T) {
	b := func(i int) time.Time { return t0.Add(time.Duration(i) * Bucket) }
	h := []Entry{
		{Time: b(0), EventID: "w:0", Value: "f=100 c=100 o=100 m=100 k=100 d=100 r=100"}, // before the window
		{Time: b(1), EventID: "w:1", Value: "f=1 c=2 o=3 m=4 k=5 d=6 r=7"},
		{Time: b(2), EventID: "w:2a", Value: "f=10 c=20 o=30 m=40 k=50 d=60 r=70"},
		{Time: b(2), EventID: "w:2b", Value: "f=100 c=200 o=300 m=400 k=500 d=600 r=700"},
		{Time: b(3), EventID: "w:3", Value: "f=1000 c=1000 o=1000 m=1000 k=1000 d=1000 r=1000"}, // after it
	}
	var w tally
	sum(&w, h, decodeAll(h), b(2), 2)
	got := [8]int{w.failures, w.codes, w.successes, w.sends, w.confirms, w.denied, w.refreshes, w.successesAtEnd}
	want := [8]int{111, 222, 333, 444, 555, 666, 777, 330}
	if got != want {
		t.Errorf("sum of buckets 1-2 (failures codes successes sends confirms denied refreshes successesAtEnd) = %v, want %v", got, want)
	}
}

// TestSketchEstimate: at sketchSize members and more, the count is the
// bottom-k estimate (k-1)/U(k), U(k) the k-th smallest hash as a share
// of the hash range: a sketch whose 32nd hash is at a quarter of the
// range estimates 31*4 members.
func TestSketchEstimate(t *testing.T) {
	var s sketch
	for i := 1; i <= sketchSize; i++ {
		s.add(uint32(i) << 25) // the 32nd is 1<<30, a quarter of 1<<32
	}
	// (k-1) * 2^32 / (2^30 + 1): just under 124
	if got := s.count(); got != 123 {
		t.Errorf("estimate = %d, want 123 ((k-1)·2^32/(U(k)+1))", got)
	}
	if got := sketchOf(sketchSize - 1).count(); got != sketchSize-1 {
		t.Errorf("exact count below k = %d, want %d", got, sketchSize-1)
	}
}

// TestTallyEncoding: an entry's value is the stored form other versions
// of the function read: counts and sketches by name, a sketch's hashes
// in hex joined by commas; a field a later version adds is passed over,
// not a reason to stop reading.
func TestTallyEncoding(t *testing.T) {
	tl := tally{failures: 2, users: sketch{1, 0xabcd}}
	if got, want := tl.encode(), "f=2 c=0 u=00000001,0000abcd"; got != want {
		t.Errorf("encode = %q, want %q", got, want)
	}
	got := decodeTally("z=9 f=3 later u=00000002")
	if got.failures != 3 || len(got.users) != 1 || got.users[0] != 2 {
		t.Errorf("decodeTally with unknown fields first = %+v, want failures 3 and one user", got)
	}
}

// TestWindowLengthsFromABucketToMaxWindow: the shortest window a user
// may set is one bucket and the longest MaxWindow, both accepted.
func TestWindowLengthsFromABucketToMaxWindow(t *testing.T) {
	w, err := ParseWindows("window=5m,sprayWindow=2h")
	if err != nil || w.Window != Bucket || w.SprayWindow != MaxWindow {
		t.Errorf("ParseWindows(window=5m,sprayWindow=2h) = %+v, %v", w, err)
	}
}

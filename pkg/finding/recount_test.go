package finding

import (
	"testing"

	"github.com/cognitrail/cognitrail/pkg/record"
)

// An address that goes on failing after the threshold: the finding raised
// at the 15th failure says, once the file is read, how many the file gave
// (issue 17: "count is the threshold (15) where the address failed 16
// times").
func TestRecountReportsTheFileTotal(t *testing.T) {
	c := loadCorpus(t)
	e := New(nil)
	e.StartFile()
	p := record.NewParser()
	var found []Finding
	fail := func(i int, set map[string]any) {
		found = append(found, observe(t, e, p, c.record(t, "signin", c.step(t, "signin", i, set)))...)
	}
	for i := range 16 {
		fail(i, nil)
	}
	for i := 16; i < 28; i++ {
		fail(i, map[string]any{"eventName": "ForgotPassword", "errorCode": "UserNotFoundException"})
	}
	// A success, then more failures after it.
	fail(28, map[string]any{"errorCode": nil, "errorMessage": nil})
	for i := 29; i < 32; i++ {
		fail(i, nil)
	}
	// Another address stays under the threshold.
	fail(40, map[string]any{"sourceIPAddress": "198.51.100.7"})

	got := map[string]int{}
	for _, f := range found {
		got[f.Name] = f.Count
	}
	// As raised: the counts at the crossing record.
	want := map[string]int{SignInFailuresFromOneIP: 15, AccountEnumeration: 10, SignInSuccessAfterFailures: 16}
	for n, w := range want {
		if got[n] != w {
			t.Errorf("as raised: %s count %d, want %d", n, got[n], w)
		}
	}
	for i := range found {
		e.Recount(&found[i])
	}
	clear(got)
	for _, f := range found {
		got[f.Name] = f.Count
	}
	// 16 failed sign-ins, then 3 after the success; ForgotPassword with
	// UserNotFoundException is no sign-in failure but 12 enumerations.
	want = map[string]int{SignInFailuresFromOneIP: 19, AccountEnumeration: 12, SignInSuccessAfterFailures: 19}
	for n, w := range want {
		if got[n] != w {
			t.Errorf("after Recount: %s count %d, want %d", n, got[n], w)
		}
	}
	if len(found) != 3 {
		t.Errorf("%d findings, want 3: %+v", len(found), found)
	}

	// A finding of an earlier file is not this file's: left as it is.
	old := found[0]
	e.StartFile()
	for i := range 20 {
		fail(100+i, nil)
	}
	again := old
	e.Recount(&again)
	if again.Count != old.Count {
		t.Errorf("an earlier file's finding recounted: %d, was %d", again.Count, old.Count)
	}
}

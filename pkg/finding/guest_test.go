package finding

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// guestFile is a trail file of identity pool data events: n calls from
// at, a minute apart, guests' (no logins) or users'.
func guestFile(t testing.TB, at time.Time, n int, guest bool, errorCode string) [][]byte {
	name := "identity-getcredentialsforidentity-unauth-data.json"
	if !guest {
		name = "identity-getcredentialsforidentity-data.json"
	}
	mk := published(t, name)
	var out [][]byte
	for i := range n {
		raw := mk(at.Add(time.Duration(i)*time.Minute), fmt.Sprint("198.51.100.", i), "-", errorCode)
		// one account and pool for both shapes (the authenticated
		// example is another account's)
		raw = []byte(strings.NewReplacer("111122223333", "123456789012",
			"us-east-1:2dg778b3-50b7-565c-0f56-34200EXAMPLE", "us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE").Replace(string(raw)))
		out = append(out, raw)
	}
	return out
}

func day(d int, hour int) time.Time {
	return t0.Add(time.Duration(d)*24*time.Hour + time.Duration(hour)*time.Hour)
}

// guestCases drive TestGuestCredentialsFirstSeen: files judged in the
// order given, each by a new engine over one state (cold starts), and
// the number of times each file raises the finding.
var guestCases = []struct {
	name  string
	files func(t testing.TB) [][][]byte
	want  []int
}{
	{"a pool's first guest calls", func(t testing.TB) [][][]byte {
		return [][][]byte{guestFile(t, day(0, 0), 3, true, "")}
	}, []int{1}},
	{"authenticated identities' credentials", func(t testing.TB) [][][]byte {
		return [][][]byte{guestFile(t, day(0, 0), 3, false, "")}
	}, []int{0}},
	{"a refused guest call", func(t testing.TB) [][][]byte {
		return [][][]byte{guestFile(t, day(0, 0), 3, true, "NotAuthorizedException")}
	}, []int{0}},
	{"guests every day", func(t testing.TB) [][][]byte {
		var fs [][][]byte
		for d := range 10 {
			fs = append(fs, guestFile(t, day(d, 9), 2, true, ""))
		}
		return fs
	}, []int{1, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
	{"quiet for six days, then again", func(t testing.TB) [][][]byte {
		return [][][]byte{guestFile(t, day(0, 9), 2, true, ""), guestFile(t, day(6, 23), 2, true, "")}
	}, []int{1, 0}},
	{"quiet for eight days, then again", func(t testing.TB) [][][]byte {
		return [][][]byte{guestFile(t, day(0, 9), 2, true, ""), guestFile(t, day(8, 9), 2, true, "")}
	}, []int{1, 1}},
	{"the day's last call counts: quiet for 7 days after it, not after the first", func(t testing.TB) [][][]byte {
		// calls from 10:00 to 13:00 on day 0; 12:00 on day 7 is within
		// 7 days of the last, not of the first
		var first [][]byte
		for h := range 4 {
			first = append(first, guestFile(t, day(0, h), 1, true, "")...)
		}
		return [][][]byte{first, guestFile(t, day(7, 2), 1, true, "")}
	}, []int{1, 0}},
	{"a late file: the earlier calls are first seen too", func(t testing.TB) [][][]byte {
		// at least once: the later file raised before the earlier came
		return [][][]byte{guestFile(t, day(0, 12), 2, true, ""), guestFile(t, day(0, 10), 2, true, ""), guestFile(t, day(1, 10), 2, true, "")}
	}, []int{1, 1, 0}},
	{"a late file of a quiet pool's busy days", func(t testing.TB) [][][]byte {
		var fs [][][]byte
		for d := range 12 {
			fs = append(fs, guestFile(t, day(d+20, 9), 1, true, ""))
		}
		// older than all the kept history (nine days): not judged
		return append(fs, guestFile(t, day(1, 9), 1, true, ""))
	}, []int{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
}

// TestGuestCredentialsFirstSeen: each file raises as the case says, the
// finding names the pool and the file's earliest guest call, a file
// judged again raises what it raised, and a pool's history stays two
// entries a day.
func TestGuestCredentialsFirstSeen(t *testing.T) {
	for _, c := range guestCases {
		t.Run(c.name, func(t *testing.T) {
			state := NewMemoryState()
			files := c.files(t)
			for i, f := range files {
				got := guestRaised(judgeFile(t, state, Options{}, f))
				if len(got) != c.want[i] {
					t.Fatalf("file %d raised %d, want %d", i, len(got), c.want[i])
				}
				for _, g := range got {
					if g.IdentityPoolID != "us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE" || g.Operation != "GetCredentialsForIdentity" ||
						g.EventID == "" || g.Severity != Medium || g.UserAgent == "" || g.Actor != "Unknown" {
						t.Errorf("file %d: %+v", i, g)
					}
				}
				again := guestRaised(judgeFile(t, state, Options{}, f))
				if len(again) != len(got) || len(got) == 1 && again[0].EventID != got[0].EventID {
					t.Errorf("file %d judged again raised %+v, first %+v", i, again, got)
				}
			}
			h, _ := state.Get(context.Background(), guestKey("123456789012", "us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE"))
			if len(h) > GuestEntries {
				t.Errorf("history holds %d entries, at most %d", len(h), GuestEntries)
			}
		})
	}
}

func guestRaised(fs []Finding) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Name == GuestCredentialsFirstSeen {
			out = append(out, f)
		}
	}
	return out
}

// The finding names the file's earliest guest call, whatever the order
// of the records in the file.
func TestGuestNamesEarliestCall(t *testing.T) {
	f := guestFile(t, day(0, 9), 3, true, "")
	f[0], f[2] = f[2], f[0]
	got := guestRaised(judgeFile(t, NewMemoryState(), Options{}, f))
	if len(got) != 1 || !got[0].Time.Equal(day(0, 9)) {
		t.Fatalf("raised %+v, want one at %v", got, day(0, 9))
	}
	if want := eventIDOf(t, f[2]); got[0].EventID != want {
		t.Errorf("names %s, want %s", got[0].EventID, want)
	}
}

// Many files of one day keep two entries: the day's first and last call.
func TestGuestHistoryBounded(t *testing.T) {
	state := NewMemoryState()
	for i := range 50 {
		judgeFile(t, state, Options{}, guestFile(t, day(0, 0).Add(time.Duration(i)*5*time.Minute), 2, true, ""))
	}
	h, _ := state.Get(context.Background(), guestKey("123456789012", "us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE"))
	if len(h) != 2 {
		t.Fatalf("history %v, want the day's first and last", h)
	}
	if !guestBefore(h, day(0, 0).Add(249*time.Minute)) || guestBefore(h, day(0, 0)) {
		t.Errorf("history %v: calls before 04:09 seen %v, before 00:00 seen %v", h,
			guestBefore(h, day(0, 0).Add(249*time.Minute)), guestBefore(h, day(0, 0)))
	}
}

func eventIDOf(t testing.TB, raw []byte) string {
	var m struct {
		EventID string `json:"eventID"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m.EventID
}

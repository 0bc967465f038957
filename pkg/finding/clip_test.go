package finding

import (
	"strings"
	"testing"
	"time"
)

// clip keeps a value of MaxValueBytes whole, and cuts a longer one on a
// character boundary, followed by the SHA-256 of all of it, so that two
// long values differing only past the cut stay apart.
func TestClipBoundaries(t *testing.T) {
	whole := strings.Repeat("a", MaxValueBytes)
	if got := clip(whole); got != whole {
		t.Errorf("a value of exactly MaxValueBytes was cut to %d bytes", len(got))
	}
	long := whole + "b"
	got := clip(long)
	if len(got) > MaxValueBytes || !strings.Contains(got, "... sha256:") || got == clip(whole+"c") {
		t.Errorf("a value one byte over: %d bytes %q...; want at most %d, a digest, distinct from another", len(got), got[:20], MaxValueBytes)
	}
	// A 3-byte character across the cut: never split.
	for shift := range 3 {
		v := strings.Repeat("a", MaxValueBytes-80+shift) + strings.Repeat("€", 40)
		c := clip(v)
		head, _, ok := strings.Cut(c, "... sha256:")
		if !ok || !strings.HasPrefix(v, head) || strings.ContainsRune(head, '\uFFFD') || len(c) > MaxValueBytes {
			t.Errorf("shift %d: %q does not end on a whole character", shift, head[len(head)-6:])
		}
		if len(head) < MaxValueBytes-len("... sha256:")-64-3 {
			t.Errorf("shift %d: cut %d bytes further back than a character needs", shift, len(head))
		}
	}
}

// Two values for one record (never seen in a trail) merge to the smaller,
// whatever their order, and merging the same entry again changes nothing.
func TestMergeOneRecordTwoValues(t *testing.T) {
	at := time.Date(2026, 12, 1, 4, 20, 0, 0, time.UTC)
	a, b := Entry{Time: at, EventID: "e", Value: "a"}, Entry{Time: at, EventID: "e", Value: "b"}
	for _, order := range [][]Entry{{a, b}, {b, a}} {
		h, _ := Merge(nil, order[:1])
		h, changed := Merge(h, order[1:])
		if len(h) != 1 || h[0].Value != "a" {
			t.Errorf("order %v: %v, want one entry valued a", order, h)
		}
		if changed != (order[0] == b) {
			t.Errorf("order %v: changed %v", order, changed)
		}
	}
	h, _ := Merge(nil, []Entry{a})
	if _, changed := Merge(h, []Entry{a}); changed {
		t.Error("merging an entry already there changed the history")
	}
}

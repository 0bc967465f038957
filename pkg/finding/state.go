package finding

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Entry is one record's value of a watched setting. Entries are ordered by
// the record's event time, then by its eventID, so that every processing
// order sorts the same records the same way; an entry is known by its time
// and eventID (the same record seen twice is one entry).
type Entry struct {
	Time    time.Time
	EventID string
	Value   string
}

// compareEntries orders entries by event time, then eventID; equal
// (0) means the same record.
func compareEntries(a, b Entry) int {
	if c := a.Time.Compare(b.Time); c != 0 {
		return c
	}
	return strings.Compare(a.EventID, b.EventID)
}

// HistoryEntries is how much a State keeps of each setting's history: the
// newest entries, this many. A record older than the oldest kept entry is
// judged with its previous value unknown.
const HistoryEntries = 8

// MaxValueBytes bounds an entry's value: a longer one (a client's
// redirect URLs can reach 200 KB) is kept as its first bytes and a digest
// of the whole, so that eight entries fit a DynamoDB item and two
// different values still compare different. The bound is per entry, not
// per history, so that what is kept does not depend on the order entries
// arrive in.
const MaxValueBytes = 2048

// clip returns v as an entry keeps it: v itself when it is short, else
// its first bytes (whole UTF-8 characters) and the SHA-256 of all of it.
func clip(v string) string {
	if len(v) <= MaxValueBytes {
		return v
	}
	sum := sha256.Sum256([]byte(v))
	suffix := "... sha256:" + hex.EncodeToString(sum[:])
	n := MaxValueBytes - len(suffix)
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return v[:n] + suffix
}

// Merge returns history h (oldest first, as State.Get returns it) with the
// entries of add in their place, each record once, cut to what a State
// keeps (HistoryEntries). changed is false when the result is
// h: every entry of add was in it already, or older than all it keeps. The
// result depends on the set of entries merged only, not on the order or
// the grouping of the calls: the newest n entries of a set are the newest
// n of the newest n of each of its parts.
func Merge(h, add []Entry) (merged []Entry, changed bool) {
	merged = slices.Clone(h)
	for _, e := range add {
		var ins bool
		if merged, ins = insert(merged, e); ins {
			changed = true
		}
	}
	if !changed {
		return h, false
	}
	merged = cut(merged)
	return merged, !slices.Equal(merged, h)
}

// insert puts e in its place in h unless h has that record; two values for
// one record (never seen: a record's value is a function of its bytes)
// keep the smaller, so that the order of arrival still does not matter.
func insert(h []Entry, e Entry) ([]Entry, bool) {
	i, found := slices.BinarySearchFunc(h, e, compareEntries)
	if !found {
		return slices.Insert(h, i, e), true
	}
	if e.Value < h[i].Value {
		h[i].Value = e.Value
		return h, true
	}
	return h, false
}

// cut keeps the newest HistoryEntries entries of h; of a window subject's
// (window.go), the newest WindowEntries; of a pool's guest calls
// (guest.go), GuestEntries. Either depends on the set of
// entries only. A window subject keeps no cut by time: a file hours late
// still meets the files of its own hours, while they are among the newest.
func cut(h []Entry) []Entry {
	if n := len(h); n > 0 && strings.HasPrefix(h[n-1].EventID, windowIDPrefix) {
		return h[max(0, len(h)-WindowEntries):]
	}
	if n := len(h); n > 0 && strings.HasPrefix(h[n-1].EventID, guestIDPrefix) {
		return h[max(0, len(h)-GuestEntries):]
	}
	return h[max(0, len(h)-HistoryEntries):]
}

// asOf returns the value of the newest entry of h ordered before e, the
// setting's value as of e's record; known is false when h has none (the
// setting was never seen before e's time, or not since the oldest entry
// kept).
func asOf(h []Entry, e Entry) (value string, known bool) {
	i, _ := slices.BinarySearchFunc(h, e, compareEntries)
	if i == 0 {
		return "", false
	}
	return h[i-1].Value, true
}

// State keeps the recent history of each watched setting, by key
// ("ACCOUNT/identitypool/ID/allowUnauthenticatedIdentities"): the values
// records gave it, each with the record's event time and eventID. A record
// is judged against the value as of its own event time, so files processed
// out of order (SQS retries, Regions and accounts delivering independently)
// are judged as they would be in event-time order wherever the history
// knows the record's predecessor; the newest value only moves forwards. The
// Lambda can back it with its ledger table so a transition is judged across
// invocations; MemoryState judges it within one process only.
//
// The Engine reads through Get while it evaluates a file and writes once, in
// Commit, after the caller has kept the file's results. A file that is
// retried (the scan or the publish failed) is judged against the same
// history again, and so is a file evaluated again after its Commit: a
// record's own entry is never its previous value. Its findings are neither
// lost nor raised twice.
type State interface {
	// Get returns what is kept of key's history, oldest first; none when
	// the setting is unknown. An error leaves the finding undecided: the
	// Engine reports it and the file must be retried.
	// ctx is the caller's (an invocation's): a remote State's calls end
	// with it.
	Get(ctx context.Context, key string) ([]Entry, error)
	// Put merges one file's entries into the histories, as Merge does.
	Put(ctx context.Context, entries map[string][]Entry) error
}

// MemoryState is a State in memory, safe for concurrent use.
type MemoryState struct {
	mu sync.Mutex
	m  map[string][]Entry
}

// NewMemoryState returns an empty MemoryState.
func NewMemoryState() *MemoryState { return &MemoryState{m: make(map[string][]Entry)} }

// Get implements State.
func (s *MemoryState) Get(_ context.Context, key string) ([]Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.m[key]), nil
}

// Put implements State.
func (s *MemoryState) Put(_ context.Context, entries map[string][]Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, add := range entries {
		s.m[k], _ = Merge(s.m[k], add)
	}
	return nil
}

// Newest returns the newest entry of a history (Get's answer): the
// setting's current value as far as the records seen tell.
func Newest(h []Entry) (Entry, bool) {
	if len(h) == 0 {
		return Entry{}, false
	}
	return h[len(h)-1], true
}

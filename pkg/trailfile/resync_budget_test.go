package trailfile_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/pkg/trailfile"
)

// timeFirst is a usable record whose first key is not eventVersion, as
// tools that re-serialise records write them.
func timeFirst(i int) string {
	return fmt.Sprintf(`{"eventTime":"2026-11-20T10:%02d:00Z","eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"GetObject","eventID":"id-%d"}`, i%60, i)
}

// mismatched starts a bad element whose brackets do not match, so that
// the structural skip gives up at once and only record boundaries end it.
const mismatched = `{"eventVersion":"1.08","x":[}`

// budgetFiller is damage made of usable-looking objects that are not
// records of the array (no comma between them, nor after the last), each
// of which a candidate check parses: about n bytes of candidate parsing.
func budgetFiller(n int) string {
	const obj = `{"eventTime":"2026-11-20T10:00:00Z"}`
	return strings.Repeat(obj, n/len(obj)+1) + " x"
}

// TestResyncBudget: the parsing done to check candidates after one bad
// element is bounded by validateBudget (1 MiB) plus twice MaxRecordBytes:
// within it a record is found whatever its first key; past it only a
// record starting with the exact key eventVersion is: not one whose key is
// a prefix of it, longer, or differs in one byte.
func TestResyncBudget(t *testing.T) {
	const max = 4096
	opts := &trailfile.Options{MaxRecordBytes: max}
	head := `{"Records":[` + rec(0) + `,` + mismatched
	for _, tc := range []struct {
		name   string
		filler int
		tail   string
		want   []string
	}{
		// 1 MiB + 2 KiB parsed: within the bound only thanks to the
		// 2 × MaxRecordBytes.
		{"within the budget", 1<<20 + 2048, `,` + timeFirst(1) + `,` + rec(2) + `]}`, []string{"id-0", "id-1", "id-2"}},
		{"past the budget", 1<<20 + 4*max, `,{"eventVersio":"1.08","eventTime":"2026-11-20T10:00:00Z"},{"xventVersion":"1.08","eventTime":"2026-11-20T10:00:00Z"},{"eventVersionX":"1.08","eventTime":"2026-11-20T10:00:00Z"},` + timeFirst(1) + `,` + rec(2) + `,` + rec(3) + `]}`, []string{"id-0", "id-2", "id-3"}},
	} {
		data := head + budgetFiller(tc.filler) + tc.tail
		o := readAll(trailfile.NewReader(strings.NewReader(data), opts))
		if o.err != nil || o.bad != 1 || !slices.Equal(o.ids, tc.want) {
			t.Errorf("%s: records %v, %d bad, err %v; want %v and 1 bad", tc.name, o.ids, o.bad, o.err, tc.want)
		}
	}
}

// TestResyncAcrossRefill: a record found after damage whose bytes straddle
// the end of the reader's buffer is checked once the rest is read (the
// buffer compacted under it), and reading goes on from it; and a file cut
// inside a record far into it is truncated at that record's offset.
func TestResyncAcrossRefill(t *testing.T) {
	const buffer = 256 << 10
	head := `{"Records":[` + rec(0) + `,` + mismatched
	pad := buffer - len(head) - 40
	data := head + strings.Repeat(" ", pad) + `,` + timeFirst(1) + `,` + rec(2) + `]}`
	at := strings.Index(data, `{"eventTime"`)
	if at >= buffer || at+len(timeFirst(1)) <= buffer {
		t.Fatalf("the record after the damage spans %d..%d, not the buffer's end %d", at, at+len(timeFirst(1)), buffer)
	}
	o := readAll(trailfile.NewReader(strings.NewReader(data), nil))
	if o.err != nil || o.bad != 1 || !slices.Equal(o.ids, []string{"id-0", "id-1", "id-2"}) {
		t.Errorf("records %v, %d bad, err %v; want id-0, id-1, id-2 and 1 bad", o.ids, o.bad, o.err)
	}

	// Cut inside a record that follows damage, far past the first buffer.
	far := records(3000)
	cutAt := strings.LastIndex(far, `{"eventVersion"`)
	cut := far[:cutAt] + `{"eventVersion":"1.08","eventTime":"2026-11-20T10:00:00Z","requestParameters":{"key":"`
	o = readAll(trailfile.NewReader(strings.NewReader(cut), nil))
	var te *trailfile.Error
	if !errors.Is(o.err, trailfile.ErrTruncated) || !errors.As(o.err, &te) || te.Offset != int64(cutAt) || te.Index != 2999 {
		t.Errorf("cut at byte %d: %v (%+v), want truncated at record 2999, byte %d", cutAt, o.err, te, cutAt)
	}

	// Damage the structure never closes and no record follows: the file
	// ends inside the array, which is the file's error, not a record's.
	open := `{"Records":[` + rec(0) + `,` + mismatched + strings.Repeat(" ", buffer)
	o = readAll(trailfile.NewReader(strings.NewReader(open), nil))
	if !errors.Is(o.err, trailfile.ErrTruncated) || !errors.As(o.err, &te) || te.Index != -1 || o.bad != 1 {
		t.Errorf("unclosed damage: %v (%+v), %d bad; want truncated, index -1, after 1 bad", o.err, te, o.bad)
	}
}

// TestResyncPrettyPrinted: in a file re-serialised with white space, the
// record after damage is found with the white space before its comma.
func TestResyncPrettyPrinted(t *testing.T) {
	data := "{\"Records\": [\n  " + rec(0) + ",\n  " + mismatched + ",\n  " + timeFirst(1) + " \n  ,\n  " + rec(2) + "\n]}\n"
	o := readAll(trailfile.NewReader(strings.NewReader(data), nil))
	if o.err != nil || o.bad != 1 || !slices.Equal(o.ids, []string{"id-0", "id-1", "id-2"}) {
		t.Errorf("records %v, %d bad, err %v; want id-0, id-1, id-2 and 1 bad", o.ids, o.bad, o.err)
	}
}

package trailfile_test

// Tests that pin down behaviours the other tests of this package left open
// (issue 19: each was a mutant of the code that no test noticed).
//
// Mutants left alive, judged equivalent (gremlins v0.6.0, make mutate):
//   - trailfile.go, Next: a `continue` turned `break` inside the switch on
//     the reader's state. The loop's body ends with that switch, so leaving
//     it goes round the loop again, as continue does (8 sites).
//   - resync.go: a candidate's offset compared with 0 (`k.cand >= 0`,
//     `found >= 0`, `k.cand < 0` turned `> 0` / `<= 0`): byte 0 is the
//     document's own '{', never a candidate after a bad element.
//   - resync.go: the candidate budget compared at exactly 0 (`>= 0` / `< 0`
//     turned `> 0` / `<= 0`): one byte of parsing more or less.
//   - resync.go: `k.cand = -1` turned 1 (after a decision, and when a skip
//     starts): a candidate "at byte 1" is inside `{"Records"`; it is taken
//     only if the next bytes are white space and ':', and then fails its
//     check, costing budget only.
//   - resync.go, feed: the structural `break` turned `continue` when it gives
//     up (nesting too deep, a '}' at depth 0): it skips noting the last two
//     bytes, which matter only for a `]}` ending, which a bracket given up
//     on cannot be part of.
//   - resync.go: `r.docs++` turned `--` when the damage closes the document:
//     the count is only compared with 0 afterwards, at the end of input,
//     where either value says a document was read.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/cognitrail/cognitrail/internal/trailgen"
	"github.com/cognitrail/cognitrail/pkg/trailfile"
)

// TestOffsetsAcrossRefills: on a file several times the reader's buffer,
// read whole, in small pieces and gzipped, each record ends where
// encoding/json says, the byte counters end at the file's sizes, and a bad
// record after many refills is named by its index and absolute offset,
// its message by the absolute offset of the fault.
func TestOffsetsAcrossRefills(t *testing.T) {
	var plain bytes.Buffer
	if _, err := trailgen.Write(&plain, trailgen.Options{Bytes: 1 << 20, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	ends := recordEnds(t, plain.Bytes())
	if ends[len(ends)-1] < 3*(256<<10) {
		t.Fatalf("the file (%d bytes) is too small to refill the buffer", ends[len(ends)-1])
	}
	for _, in := range []struct {
		name string
		data string
		src  func(string) io.Reader
	}{
		{"plain", plain.String(), func(s string) io.Reader { return strings.NewReader(s) }},
		{"plain in 1000-byte reads", plain.String(), func(s string) io.Reader { return iotest.HalfReader(&chunked{s: s, n: 1000}) }},
		{"gzip", gz(plain.String()), func(s string) io.Reader { return strings.NewReader(s) }},
	} {
		r := trailfile.NewReader(in.src(in.data), nil)
		for i := 0; ; i++ {
			_, err := r.Next()
			if err == io.EOF {
				if i != len(ends) {
					t.Errorf("%s: %d records, want %d", in.name, i, len(ends))
				}
				break
			}
			if err != nil {
				t.Fatalf("%s: record %d: %v", in.name, i, err)
			}
			if got := r.UncompressedBytes(); got != ends[i] {
				t.Fatalf("%s: record %d ends at %d, encoding/json says %d", in.name, i, got, ends[i])
			}
			if r.Index() != i {
				t.Fatalf("%s: Index() = %d, want %d", in.name, r.Index(), i)
			}
		}
		if got := r.CompressedBytes(); got != int64(len(in.data)) {
			t.Errorf("%s: CompressedBytes %d, want %d", in.name, got, len(in.data))
		}
		if got := r.UncompressedBytes(); got != int64(plain.Len()) {
			t.Errorf("%s: UncompressedBytes %d, want %d", in.name, got, plain.Len())
		}
	}

	// A bad record past several refills, with a syntax error inside it.
	const n, bad = 3000, 2500
	in := damaged(n, bad, `"x":tru`)
	recStart := int64(strings.Index(in, damagedRecord(bad, `"x":tru`)))
	if recStart < 256<<10 {
		t.Fatalf("bad record at %d: not past the first refill", recStart)
	}
	// The scanner finds the literal invalid at its end.
	fault := recStart + int64(strings.Index(damagedRecord(bad, `"x":tru`), `tru`)+len(`tru`))
	for _, src := range []io.Reader{strings.NewReader(in), &chunked{s: in, n: 777}} {
		o := readChecked(t, trailfile.NewReader(src, &trailfile.Options{Name: "f.json"}))
		if o.err != nil {
			t.Fatal(o.err)
		}
		// readChecked has checked that each result's Index() is the one its
		// error names, so got[0].Index below is Index() after the bad record.
		got := o.badRecs
		good := o.good
		if good != n-1 || len(got) != 1 || got[0].Index != bad || got[0].Offset != recStart {
			t.Fatalf("%d good, bad %+v; want %d good and record %d at byte %d", good, got, n-1, bad, recStart)
		}
		if msg := got[0].Error(); !strings.Contains(msg, fmt.Sprintf(" at byte %d", fault)) {
			t.Errorf("message %q, want the fault's offset %d", msg, fault)
		}
	}
}

// chunked reads s n bytes at a time.
type chunked struct {
	s string
	n int
}

func (c *chunked) Read(p []byte) (int, error) {
	if c.s == "" {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.s)
	c.s = c.s[k:]
	return k, nil
}

// TestMissingCommaOffset: damage between records names the byte where
// the separator was due, after refills too.
func TestMissingCommaOffset(t *testing.T) {
	var parts []string
	for i := range 3000 {
		parts = append(parts, rec(i))
	}
	in := `{"Records":[` + strings.Join(parts[:2500], ",") + strings.Join(parts[2500:], ",") + `]}`
	at := strings.Index(in, rec(2499)) + len(rec(2499))
	r := trailfile.NewReader(strings.NewReader(in), nil)
	o := readAll(r)
	if o.err != nil || o.good != 2999 || o.bad != 1 {
		t.Fatalf("%d good, %d bad, %v", o.good, o.bad, o.err)
	}
	if msg := o.badErrs[0].Error(); !strings.Contains(msg, fmt.Sprintf("expected ',' or ']' before byte %d", at)) {
		t.Errorf("message %q, want byte %d", msg, at)
	}
}

// recOfSize returns a record of exactly n bytes.
func recOfSize(t *testing.T, i, n int) string {
	t.Helper()
	base := strings.Replace(rec(i), `"k`+fmt.Sprint(i)+`"`, `""`, 1)
	if len(base) > n {
		t.Fatalf("a record cannot be %d bytes", n)
	}
	return strings.Replace(base, `""`, `"`+strings.Repeat("x", n-len(base))+`"`, 1)
}

// TestRecordOfExactlyTheLimit: a record of MaxRecordBytes is read; one
// byte more is a bad record, and the next record is read. At a limit equal
// to the reader's initial buffer, a longer record filling the whole buffer
// is passed over, not the end of the file.
func TestRecordOfExactlyTheLimit(t *testing.T) {
	for _, limit := range []int{4096, 256 << 10} {
		for _, tc := range []struct {
			size      int
			good, bad int
		}{{limit, 3, 0}, {limit + 1, 2, 1}, {limit - 1, 3, 0}, {limit + 100, 2, 1}} {
			big := recOfSize(t, 5, tc.size)
			in := `{"Records":[` + rec(1) + `,` + big + `,` + rec(2) + `]}`
			for _, src := range []io.Reader{strings.NewReader(in), &chunked{s: in, n: 4000}} {
				o := readAll(trailfile.NewReader(src, &trailfile.Options{MaxRecordBytes: limit}))
				if o.err != nil || o.good != tc.good || o.bad != tc.bad {
					t.Errorf("limit %d, record of %d: %d good, %d bad, %v; want %d, %d", limit, tc.size, o.good, o.bad, o.err, tc.good, tc.bad)
				}
				for _, err := range o.badErrs {
					if !errors.Is(err, trailfile.ErrRecordTooLarge) {
						t.Errorf("limit %d, record of %d: %v", limit, tc.size, err)
					}
				}
			}
		}
	}
}

// recNoVersion is rec without eventVersion: a record the resync boundary
// heuristic cannot find, so that only the structural skip finds it.
func recNoVersion(i int) string { return strings.Replace(rec(i), `"eventVersion":"1.08",`, ``, 1) }

// TestStructuralSkip: with no `{"eventVersion"` to fall back on, the
// record after a malformed one is found by tracking the bad element's
// strings (with their escapes) and brackets (with their kinds).
func TestStructuralSkip(t *testing.T) {
	for _, bad := range []string{
		`{"x":tru}`,
		`{"x":tru,"s":"a,b"}`,             // a comma in a string
		`{"x":tru,"s":"a]b"}`,             // a bracket in a string
		`{"x":tru,"s":"a\",b"}`,           // an escaped quote, then a comma
		`{"x":tru,"s":"a\\","t":"]"}`,     // an escaped backslash ends the string
		`{"x":tru,"s":"a\\\",]b"}`,        // \\ then \"
		`{"x":tru,"n":[1,2,[3,4]],"m":5}`, // commas inside arrays
		`{"x":tru,"o":{"a":1,"b":{"c":2}},"m":5}`,
		`{"x":tru,"l":[{"a":"}"},{"b":"]"}]}`,
		`[1,tru,[2,3]]`,
		`{"x":tru,"d":` + strings.Repeat("[", 4095) + strings.Repeat("]", 4095) + `}`, // 4,096 levels: the deepest the skip tracks
	} {
		in := `{"Records":[` + recNoVersion(0) + `,` + bad + `,` + recNoVersion(1) + `,` + recNoVersion(2) + `]}`
		for _, src := range []io.Reader{strings.NewReader(in), iotest.OneByteReader(strings.NewReader(in))} {
			o := readAll(trailfile.NewReader(src, nil))
			if o.err != nil || o.bad != 1 || fmt.Sprint(o.ids) != "[id-0 id-1 id-2]" {
				t.Errorf("%.60s: read %v, %d bad, %v; want id-0 id-1 id-2 and one bad", bad, o.ids, o.bad, o.err)
				break
			}
		}
	}
}

// TestStructuralSkipGivesUp: a mismatched or unmatched bracket, or nesting
// deeper than the skip tracks, ends the structural skip; reading goes on
// at the next record, found by its boundary, or, without one (a record
// that does not start with eventVersion), by the candidate a usable
// record follows (issue 17: the rest of such a file was lost).
func TestStructuralSkipGivesUp(t *testing.T) {
	for _, bad := range []string{
		`{"x":[}}`,
		`{"x":tru,"y":[1}]`,
		`{"x":tru]}`,
		`{"x":tru,"d":` + strings.Repeat("[", 4096) + strings.Repeat("]", 4096) + `}`, // 4,097 levels
	} {
		in := `{"Records":[` + recNoVersion(0) + `,` + bad + `,` + recNoVersion(1) + `,` + recNoVersion(2) + `]}`
		o := readAll(trailfile.NewReader(strings.NewReader(in), nil))
		if o.err != nil || o.bad != 1 || fmt.Sprint(o.ids) != "[id-0 id-1 id-2]" {
			t.Errorf("%.60s, no boundary: read %v, %d bad, %v; want id-0 id-1 id-2 and one bad", bad, o.ids, o.bad, o.err)
		}
		in = `{"Records":[` + rec(0) + `,` + bad + `,` + rec(1) + `,` + rec(2) + `]}`
		o = readAll(trailfile.NewReader(strings.NewReader(in), nil))
		if o.err != nil || o.bad != 1 || fmt.Sprint(o.ids) != "[id-0 id-1 id-2]" {
			t.Errorf("%.60s, with boundaries: read %v, %d bad, %v; want id-0 id-1 id-2 and one bad", bad, o.ids, o.bad, o.err)
		}
	}
}

// TestBoundaryWhiteSpace: a record boundary is `{`, at most 256 white
// space bytes, then "eventVersion", right after ',', '[' or '}'.
func TestBoundaryWhiteSpace(t *testing.T) {
	// The stray quote inverts every string after it: only the boundary
	// finds the next record.
	bad := `{"x":"a"b"}`
	for _, tc := range []struct {
		ws   string
		sep  string
		want string
	}{
		{strings.Repeat(" ", 256), ",", "[id-0 id-1 id-2]"},
		{strings.Repeat("\n", 255) + "\t", ",", "[id-0 id-1 id-2]"},
		{strings.Repeat(" ", 257), ",", "[id-0]"},
		{"", ", ", "[id-0 id-1 id-2]"},
	} {
		next := strings.Replace(rec(1), `{"eventVersion"`, "{"+tc.ws+`"eventVersion"`, 1)
		last := strings.Replace(rec(2), `{"eventVersion"`, "{"+tc.ws+`"eventVersion"`, 1)
		in := `{"Records":[` + rec(0) + `,` + bad + tc.sep + next + `,` + last + `]}`
		o := readAll(trailfile.NewReader(strings.NewReader(in), nil))
		if fmt.Sprint(o.ids) != tc.want || o.bad != 1 {
			t.Errorf("%d white space bytes: read %v, %d bad, %v; want %s and one bad", len(tc.ws), o.ids, o.bad, o.err, tc.want)
		}
	}
	// After a byte other than ',', '[' or '}', `{"eventVersion"` is no
	// boundary, but a whole usable record followed by ',' is still found
	// as a candidate.
	in := `{"Records":[` + rec(0) + `,{"x":"a"b":` + rec(1) + `,` + rec(2) + `]}`
	if o := readAll(trailfile.NewReader(strings.NewReader(in), nil)); fmt.Sprint(o.ids) != "[id-0 id-1 id-2]" || o.bad != 1 {
		t.Errorf("after ':': read %v, %d bad, %v; want id-0 id-1 id-2 and one bad", o.ids, o.bad, o.err)
	}
}

func TestErrorMessages(t *testing.T) {
	for _, tc := range []struct {
		e    trailfile.Error
		want string
	}{
		{trailfile.Error{File: "f.json", Index: 3, Offset: 120, Err: trailfile.ErrSyntax}, "f.json: record 3 (byte 120): trailfile: malformed JSON"},
		{trailfile.Error{File: "f.json", Index: 0, Offset: 0, Err: trailfile.ErrSyntax}, "f.json: record 0 (byte 0): trailfile: malformed JSON"},
		{trailfile.Error{File: "f.json", Index: -1, Offset: 7, Err: trailfile.ErrTruncated}, "f.json: byte 7: trailfile: truncated"},
		{trailfile.Error{Index: -1, Offset: 0, Err: trailfile.ErrEmpty}, "<input>: byte 0: trailfile: empty file"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
		if !errors.Is(&tc.e, tc.e.Err) {
			t.Errorf("%q does not unwrap to its cause", tc.want)
		}
	}
	// A file-level error has index -1 and the offset where it was found.
	in := records(2) + "garbage"
	o := readAll(trailfile.NewReader(strings.NewReader(in), &trailfile.Options{Name: "g.json"}))
	var e *trailfile.Error
	if !errors.As(o.err, &e) || e.Index != -1 || e.Offset != int64(len(records(2))) {
		t.Errorf("garbage after the document: %+v", o.err)
	}
}

func TestDeliveryTimePicksTheLastStamp(t *testing.T) {
	for name, want := range map[string]string{
		"1_CloudTrail_r_20250101T0000Z_20261120T1005Z_x.json.gz": "2026-11-20T10:05:00Z",
		"1_CloudTrail_r_20261120T1005Z_x1234567890123.json.gz":   "2026-11-20T10:05:00Z",
		"a_20250101T0000Z/b.json.gz":                             "",
		"1_CloudTrail_r_20261120X1005Z_x.json.gz":                "",
		"1_CloudTrail_r_20261120T1005X_x.json.gz":                "",
		"1_CloudTrail_r_20261320T1005Z_x.json.gz":                "",
		"20261120T1005Z": "2026-11-20T10:05:00Z",
	} {
		got, ok := trailfile.DeliveryTime(name)
		if ok != (want != "") || (ok && got.Format("2006-01-02T15:04:05Z") != want) {
			t.Errorf("DeliveryTime(%q) = %v, %v; want %q", name, got, ok, want)
		}
	}
}

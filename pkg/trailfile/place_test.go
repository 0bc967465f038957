package trailfile_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/cognitrail/cognitrail/pkg/trailfile"
)

// TestFileErrorPlace: an error about the file as a whole (not one record)
// has Index -1 (a source failing inside a record names the record), and its Offset is the byte the reader had reached: the
// document's start for what the first bytes tell, the member after which a
// digest's key or a Records of the wrong kind showed, the bad byte after
// the document or the Records array, the end of input.
func TestFileErrorPlace(t *testing.T) {
	boom := errors.New("connection reset by peer")
	for _, tc := range []struct {
		name   string
		src    io.Reader
		want   error
		offset int64
	}{
		{"corrupt gzip header", strings.NewReader("\x1f\x8b\x09garbage-garbage"), trailfile.ErrCorrupt, 0},
		{"empty gzip member", strings.NewReader(gz("")), trailfile.ErrEmpty, 0},
		{"gzip of half a byte order mark", strings.NewReader(gz("\xef\xbb")), trailfile.ErrNotJSON, 0},
		{"data after the document", strings.NewReader(`{"Records":[]}   x`), trailfile.ErrSyntax, 17},
		{"an array, not an object", strings.NewReader(`  ["Records"]`), trailfile.ErrNotTrail, 2},
		{"plain text", strings.NewReader(`  hello`), trailfile.ErrNotJSON, 2},
		{"the source fails at once", iotest.ErrReader(boom), boom, 0},
		{"the source fails inside the gzip stream", io.MultiReader(strings.NewReader(gz(records(2000))[:8000]), iotest.ErrReader(boom)), boom, -2},
		// A body cut by the network (the SDK's io.ErrUnexpectedEOF for a
		// short body) is the source's transient error, not a truncated
		// gzip stream.
		{"the source is cut inside the gzip stream", io.MultiReader(strings.NewReader(gz(records(2000))[:8000]), iotest.ErrReader(io.ErrUnexpectedEOF)), io.ErrUnexpectedEOF, -2},
		{"the first gzip magic byte alone", strings.NewReader("\x1f{}"), trailfile.ErrNotJSON, 0},
		{"the second gzip magic byte alone", strings.NewReader("{\x8b"), trailfile.ErrSyntax, -3},
		{"cut inside a key", strings.NewReader(`{"Recor`), trailfile.ErrTruncated, 1},
		// A byte order mark counts at the start of the file only.
		// (262,144 bytes of white space: the mark starts the reader's
		// buffer once it is refilled.)
		{"a byte order mark after white space", strings.NewReader(strings.Repeat(" ", 262144) + "\ufeff" + `{"Records":[]}`), trailfile.ErrNotJSON, 262144},
		{"a byte order mark starting a second document", strings.NewReader(`{"Records":[]}` + strings.Repeat(" ", 262144-14) + "\ufeff" + `{"Records":[]}`), trailfile.ErrSyntax, 262144},
		{"the source fails inside a byte order mark", io.MultiReader(strings.NewReader("\xef\xbb"), iotest.ErrReader(boom)), boom, 0},
		{"no comma between members", strings.NewReader(`{"Records":[]  "x":1}`), trailfile.ErrSyntax, 15},
		{"a bad value beside Records", strings.NewReader(`{"Records":[],"x":tru}`), trailfile.ErrSyntax, 21},
		{"a digest file", strings.NewReader(`{"awsAccountId":"1","digestStartTime":"x"}`), trailfile.ErrDigest, 19},
		{"Records not an array", strings.NewReader(`{"Records":{}}`), trailfile.ErrNotTrail, 1},
		{"white space only", strings.NewReader(" \n\t "), trailfile.ErrEmpty, 4},
		{"an object without Records", strings.NewReader(`{}`), trailfile.ErrNotTrail, 2},
		{"the source fails after the document", io.MultiReader(strings.NewReader(`{"Records":[]} `), iotest.ErrReader(boom)), boom, 15},
	} {
		r := trailfile.NewReader(tc.src, &trailfile.Options{Name: "f.json"})
		var err error
		for err == nil {
			_, err = r.Next()
		}
		var te *trailfile.Error
		if !errors.Is(err, tc.want) || !errors.As(err, &te) || tc.want == io.ErrUnexpectedEOF && errors.Is(err, trailfile.ErrTruncated) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			continue
		}
		if tc.offset == -3 {
			tc.offset = te.Offset // not gzip: what JSON says of it
		}
		if tc.offset == -2 {
			// Inside a record, where the inflated bytes end: the error
			// is about that record, as a cut file's.
			if te.Index < 1 || te.Offset < 1 {
				t.Errorf("%s: index %d offset %d, want the record being read", tc.name, te.Index, te.Offset)
			}
			continue
		}
		if len(r.Raw()) != 0 {
			t.Errorf("%s: Raw() after the file's error = %q, want empty", tc.name, r.Raw())
		}
		if te.Index != -1 || te.Offset != tc.offset {
			t.Errorf("%s: index %d offset %d, want -1 and %d (%v)", tc.name, te.Index, te.Offset, tc.offset, err)
		}
		if want := fmt.Sprintf("f.json: byte %d: ", tc.offset); !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %q does not start with %q", tc.name, err, want)
		}
	}
}

// TestWhiteSpaceBetweenRecords: white space before and after the commas,
// in runs up to several kilobytes, whatever the buffer boundaries it
// straddles, is passed over: every record is read, ending where it does;
// and damage after white space is named at its own byte.
func TestWhiteSpaceBetweenRecords(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"Records":[`)
	var ends []int64
	const n = 400
	for i := range n {
		if i > 0 {
			b.WriteString(strings.Repeat(" ", (i*7919)%3000))
			b.WriteString(",")
			b.WriteString(strings.Repeat("\n", (i*104729)%2500))
		}
		b.WriteString(rec(i))
		ends = append(ends, int64(b.Len()))
	}
	b.WriteString(strings.Repeat(" ", 5000) + "]}")
	r := trailfile.NewReader(strings.NewReader(b.String()), nil)
	for i := range n {
		if _, err := r.Next(); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if r.Index() != i || r.UncompressedBytes() != ends[i] {
			t.Fatalf("record %d: index %d, ends at %d, want %d", i, r.Index(), r.UncompressedBytes(), ends[i])
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the last record: %v", err)
	}

	damaged := `{"Records":[` + rec(0) + strings.Repeat(" ", 100) + `x` + rec(1) + `,` + rec(2) + `]}`
	want := int64(strings.IndexByte(damaged, 'x'))
	r = trailfile.NewReader(strings.NewReader(damaged), nil)
	o := readAll(r)
	var te *trailfile.Error
	if o.err != nil || o.bad != 1 || !errors.As(o.badErrs[0], &te) || te.Offset != want || te.Index != 1 {
		t.Fatalf("damage after white space: %+v (%v), want a bad record 1 at byte %d", o, te, want)
	}
}

// TestMemberOverTheLimit: a member beside Records longer than
// MaxRecordBytes (it must be held whole to be passed over) ends the file
// as too large, instead of growing the buffer past the limit.
func TestMemberOverTheLimit(t *testing.T) {
	data := `{"x":"` + strings.Repeat("a", 400<<10) + `","Records":[` + rec(0) + `]}`
	r := trailfile.NewReader(strings.NewReader(data), &trailfile.Options{MaxRecordBytes: 300 << 10})
	_, err := r.Next()
	var te *trailfile.Error
	if !errors.Is(err, trailfile.ErrRecordTooLarge) || !errors.As(err, &te) || te.Index != -1 {
		t.Errorf("%v, want ErrRecordTooLarge about the file", err)
	}
}

package trailfile_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/klauspost/compress/gzip"

	"github.com/cognitrail/cognitrail/internal/trailgen"
	"github.com/cognitrail/cognitrail/pkg/fault"
	"github.com/cognitrail/cognitrail/pkg/trailfile"
)

func rec(i int) string {
	return fmt.Sprintf(`{"eventVersion":"1.08","eventTime":"2026-11-20T10:%02d:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","eventID":"id-%d","requestParameters":{"key":"k%d"}}`, i%60, i, i)
}

func records(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, rec(i))
	}
	return `{"Records":[` + strings.Join(parts, ",") + `]}`
}

// damaged returns a file of n records whose record bad has fields
// replaced by the given text.
func damaged(n, bad int, fields string) string {
	var parts []string
	for i := range n {
		r := rec(i)
		if i == bad {
			r = damagedRecord(i, fields)
		}
		parts = append(parts, r)
	}
	return `{"Records":[` + strings.Join(parts, ",") + `]}`
}

func damagedRecord(i int, fields string) string {
	return strings.Replace(rec(i), `"requestParameters":{"key":"k`+fmt.Sprint(i)+`"}`, fields, 1)
}

func gz(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func digestFile(t testing.TB) string {
	data, err := os.ReadFile("testdata/digest.json")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// readerCases drive TestReader and seed FuzzReader.
var readerCases = []struct {
	name  string
	input func(t testing.TB) string
	opts  trailfile.Options
	good  int   // records returned
	bad   int   // ErrBadRecord errors, reading went on
	err   error // final error (nil: io.EOF)
}{
	{"plain", func(testing.TB) string { return records(3) }, trailfile.Options{}, 3, 0, nil},
	{"gzip", func(testing.TB) string { return gz(records(3)) }, trailfile.Options{}, 3, 0, nil},
	{"gzip members concatenated", func(testing.TB) string {
		s := records(4)
		return gz(s[:50]) + gz(s[50:])
	}, trailfile.Options{}, 4, 0, nil},
	{"pretty printed with BOM", func(testing.TB) string {
		var v any
		json.Unmarshal([]byte(records(2)), &v)
		b, _ := json.MarshalIndent(v, "", "    ")
		return "\xef\xbb\xbf" + string(b) + "\n"
	}, trailfile.Options{}, 2, 0, nil},
	{"empty Records", func(testing.TB) string { return `{"Records":[]}` }, trailfile.Options{}, 0, 0, nil},
	{"keys around Records", func(testing.TB) string {
		return `{"a":{"b":[1,2,{"c":"]"}]},"Records":[` + rec(1) + `],"z":null}`
	}, trailfile.Options{}, 1, 0, nil},
	{"concatenated documents", func(testing.TB) string { return records(2) + "\n" + `{"Records":[` + rec(7) + `]}` }, trailfile.Options{}, 3, 0, nil},
	{"record not an object", func(testing.TB) string {
		return `{"Records":[` + rec(0) + `,"oops",[1,2],` + rec(1) + `]}`
	}, trailfile.Options{}, 2, 2, nil},
	{"record without eventTime", func(testing.TB) string {
		return `{"Records":[{"eventSource":"x"},` + rec(1) + `,{"eventTime":"yesterday"}]}`
	}, trailfile.Options{}, 1, 2, nil},
	{"large record grows the buffer", func(testing.TB) string {
		big := strings.Replace(rec(0), `"k0"`, `"`+strings.Repeat("x", 600<<10)+`"`, 1)
		return `{"Records":[` + rec(1) + `,` + big + `,` + rec(2) + `]}`
	}, trailfile.Options{}, 3, 0, nil},
	{"digest file", digestFile, trailfile.Options{}, 0, 0, trailfile.ErrDigest},
	{"digest file gzip", func(t testing.TB) string { return gz(digestFile(t)) }, trailfile.Options{}, 0, 0, trailfile.ErrDigest},
	{"json without Records", func(testing.TB) string { return `{"foo":[1,2,3]}` }, trailfile.Options{}, 0, 0, trailfile.ErrNotTrail},
	{"Records not an array", func(testing.TB) string { return `{"Records":{"a":1}}` }, trailfile.Options{}, 0, 0, trailfile.ErrNotTrail},
	{"top-level array", func(testing.TB) string { return `[` + rec(0) + `]` }, trailfile.Options{}, 0, 0, trailfile.ErrNotTrail},
	{"not json", func(testing.TB) string { return "PK\x03\x04 zip file" }, trailfile.Options{}, 0, 0, trailfile.ErrNotJSON},
	{"empty", func(testing.TB) string { return "" }, trailfile.Options{}, 0, 0, trailfile.ErrEmpty},
	{"white space only", func(testing.TB) string { return " \n\t" }, trailfile.Options{}, 0, 0, trailfile.ErrEmpty},
	{"empty gzip member", func(testing.TB) string { return gz("") }, trailfile.Options{}, 0, 0, trailfile.ErrEmpty},
	{"gzip of text", func(testing.TB) string { return gz("hello, not JSON") }, trailfile.Options{}, 0, 0, trailfile.ErrNotJSON},
	{"truncated json", func(testing.TB) string { s := records(3); return s[:len(s)-70] }, trailfile.Options{}, 2, 0, trailfile.ErrTruncated},
	{"truncated gzip", func(testing.TB) string { s := gz(records(50)); return s[:len(s)/2] }, trailfile.Options{}, -1, 0, trailfile.ErrTruncated},
	{"corrupt gzip", func(testing.TB) string {
		b := []byte(gz(records(50)))
		for i := 30; i < 60; i++ {
			b[i] ^= 0xff
		}
		return string(b)
	}, trailfile.Options{}, -1, 0, trailfile.ErrCorrupt},
	{"gzip checksum mismatch", func(testing.TB) string {
		b := []byte(gz(records(3)))
		b[len(b)-6] ^= 0xff
		return string(b)
	}, trailfile.Options{}, 3, 0, trailfile.ErrCorrupt},
	// Resynchronisation: a malformed element is counted as one bad record
	// and reading goes on at the next record.
	{"syntax error in a record", func(testing.TB) string {
		return `{"Records":[` + rec(0) + `,{"eventTime":"2026-11-20T10:00:00Z","x":tru},` + rec(1) + `]}`
	}, trailfile.Options{}, 2, 1, nil},
	{"syntax error at record 9 of 19", func(testing.TB) string { return damaged(19, 9, `"x":tru`) }, trailfile.Options{}, 18, 1, nil},
	{"stray quote inverts the strings after it", func(testing.TB) string { return damaged(19, 9, `"x":"a"b"`) }, trailfile.Options{}, 18, 1, nil},
	{"unterminated string", func(testing.TB) string { return damaged(5, 2, `"x":"abc`) }, trailfile.Options{}, 4, 1, nil},
	{"stray quote, pretty printed", func(testing.TB) string {
		return strings.ReplaceAll(damaged(5, 2, `"x":"a"b"`), `,{"eventVersion"`, ",\n    {\n      \"eventVersion\"")
	}, trailfile.Options{}, 4, 1, nil},
	{"mismatched brackets in a skipped value", func(testing.TB) string {
		return `{"Records":[` + rec(0) + `,{"eventTime":"2026-11-20T10:00:00Z","x":[}},` + rec(1) + `]}`
	}, trailfile.Options{}, 2, 1, nil},
	{"two bad records in a row", func(testing.TB) string {
		return `{"Records":[` + rec(0) + `,{"x":tru},{"y":"a"b"},` + rec(1) + `]}`
	}, trailfile.Options{}, 2, 2, nil},
	// Broken structure is passed up to the next {"eventVersion": two bad
	// records without it in between count as one.
	{"broken structure, then a record without eventVersion", func(testing.TB) string {
		return `{"Records":[` + rec(0) + `,{"x":[}},{"y":"a"b"},` + rec(1) + `]}`
	}, trailfile.Options{}, 2, 1, nil},
	{"missing comma between records", func(testing.TB) string {
		return `{"Records":[` + rec(0) + rec(1) + `,` + rec(2) + `]}`
	}, trailfile.Options{}, 2, 1, nil},
	{"NUL byte in place of a field", func(testing.TB) string { return damaged(5, 2, "\x00") }, trailfile.Options{}, 4, 1, nil},
	{"NUL byte inside a record", func(testing.TB) string {
		return `{"Records":[` + rec(0) + `,{"eventTime":"2026-11-20T10:00:00Z"` + "\x00" + `},` + rec(1) + `]}`
	}, trailfile.Options{}, 2, 1, nil},
	{"NUL byte after the document", func(testing.TB) string { return records(1) + "\x00" }, trailfile.Options{}, 1, 0, trailfile.ErrSyntax},
	{"empty element", func(testing.TB) string { return `{"Records":[` + rec(0) + `,,` + rec(1) + `]}` }, trailfile.Options{}, 2, 1, nil},
	{"trailing comma", func(testing.TB) string { return `{"Records":[` + rec(0) + `,]}` }, trailfile.Options{}, 1, 1, nil},
	{"bad last record, document closed", func(testing.TB) string {
		return `{"Records":[` + rec(0) + `,{"x":[}} ]}` + "\n"
	}, trailfile.Options{}, 1, 1, nil},
	{"bad last record, document not closed", func(testing.TB) string {
		return `{"Records":[` + rec(0) + `,{"x":[}}`
	}, trailfile.Options{}, 1, 1, trailfile.ErrTruncated},
	{"bad record, then a second document", func(testing.TB) string {
		return `{"Records":[` + rec(0) + `,{"x":"a"b"}]}` + `{"Records":[` + rec(1) + `]}`
	}, trailfile.Options{}, 2, 1, nil},
	{"bad record, then truncated gzip", func(testing.TB) string {
		s := gz(damaged(400, 1, `"x":tru`))
		return s[:len(s)/2]
	}, trailfile.Options{}, -1, 1, trailfile.ErrTruncated},
	{"garbage after document", func(testing.TB) string { return records(1) + "garbage" }, trailfile.Options{}, 1, 0, trailfile.ErrSyntax},
	{"zip bomb guard", func(testing.TB) string { return gz(records(2000)) }, trailfile.Options{MaxUncompressedBytes: 64 << 10}, -1, 0, trailfile.ErrTooLarge},
	{"record size limit", func(testing.TB) string {
		big := strings.Replace(rec(0), `"k0"`, `"`+strings.Repeat("x", 2<<20)+`"`, 1)
		return `{"Records":[` + rec(1) + `,` + big + `]}`
	}, trailfile.Options{MaxRecordBytes: 1 << 20}, 1, 1, nil},
	{"record over the limit, within the buffer", func(testing.TB) string {
		big := strings.Replace(rec(0), `"k0"`, `"`+strings.Repeat("x", 5000)+`"`, 1)
		return `{"Records":[` + rec(1) + `,` + big + `,` + rec(2) + `]}`
	}, trailfile.Options{MaxRecordBytes: 4096}, 2, 1, nil},
	{"record over the limit, past the buffer", func(testing.TB) string {
		big := strings.Replace(rec(0), `"k0"`, `{"a":["`+strings.Repeat(`x\"],{`, 100<<10)+`"]}`, 1)
		return `{"Records":[` + rec(1) + `,` + big + `,` + rec(2) + `]}`
	}, trailfile.Options{MaxRecordBytes: 4096}, 2, 1, nil},
}

type outcome struct {
	good, bad int
	err       error
	ids       []string
	badErrs   []error
	// Kept by readChecked only: the good records' Index(), and the bad
	// records' errors, each one it has made sure is a *trailfile.Error.
	indexes []int
	badRecs []*trailfile.Error
}

func readAll(r *trailfile.Reader) outcome {
	var o outcome
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return o
		}
		if errors.Is(err, trailfile.ErrBadRecord) {
			o.bad++
			o.badErrs = append(o.badErrs, err)
			continue
		}
		if err != nil {
			o.err = err
			return o
		}
		o.good++
		o.ids = append(o.ids, rec.EventID)
	}
}

func TestReader(t *testing.T) {
	for _, tc := range readerCases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.input(t)
			opts := tc.opts
			opts.Name = "AWSLogs/123/file.json.gz"
			// One byte at a time as well as whole: framing must not depend
			// on how the source splits its reads.
			// And inflated ahead on a goroutine: what a Reader returns must
			// not depend on it either.
			for _, src := range []struct {
				name  string
				r     io.Reader
				ahead bool
			}{
				{"whole", strings.NewReader(in), false},
				{"onebyte", iotest.OneByteReader(strings.NewReader(in)), false},
				{"whole, read ahead", strings.NewReader(in), true},
				{"onebyte, read ahead", iotest.OneByteReader(strings.NewReader(in)), true},
			} {
				opts.ReadAhead = src.ahead
				r := trailfile.NewReader(src.r, &opts)
				got := readAll(r)
				r.Close()
				if tc.good >= 0 && got.good != tc.good {
					t.Errorf("%s: %d good records, want %d", src.name, got.good, tc.good)
				}
				if got.bad != tc.bad {
					t.Errorf("%s: %d bad records, want %d", src.name, got.bad, tc.bad)
				}
				if tc.err == nil && got.err != nil {
					t.Errorf("%s: unexpected error %v", src.name, got.err)
				}
				if tc.err != nil {
					if !errors.Is(got.err, tc.err) {
						t.Errorf("%s: error %v, want %v", src.name, got.err, tc.err)
					} else if !fault.Permanent(got.err) {
						t.Errorf("%s: %v is not permanent", src.name, got.err)
					} else if !strings.Contains(got.err.Error(), opts.Name) {
						t.Errorf("%s: error %q does not name the file", src.name, got.err)
					}
				}
				for _, err := range got.badErrs {
					var e *trailfile.Error
					if !errors.As(err, &e) || e.File != opts.Name || e.Index < 0 {
						t.Errorf("%s: bad record error %v does not name the file and record", src.name, err)
					}
				}
				seen := map[string]bool{}
				for _, id := range got.ids {
					if seen[id] {
						t.Errorf("%s: record %s returned twice", src.name, id)
					}
					seen[id] = true
				}
			}
		})
	}
}

func TestErrorNamesRecordIndex(t *testing.T) {
	in := `{"Records":[` + rec(0) + `,` + rec(1) + `,7,` + rec(2) + `]}`
	r := trailfile.NewReader(strings.NewReader(in), &trailfile.Options{Name: "f.json"})
	var bad *trailfile.Error
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil && !errors.As(err, &bad) {
			t.Fatalf("error %v is not a *trailfile.Error", err)
		}
		if err != nil && !errors.Is(err, trailfile.ErrBadRecord) {
			t.Fatalf("unexpected error %v", err)
		}
	}
	if bad == nil || bad.Index != 2 || bad.File != "f.json" {
		t.Fatalf("got %+v, want record 2 of f.json", bad)
	}
	if want := int64(strings.Index(in, ",7,") + 1); bad.Offset != want {
		t.Errorf("offset %d, want %d", bad.Offset, want)
	}
}

// A failing source is a read error, not a corrupt file: it must be retried,
// not counted as a bad file.
func TestSourceErrorIsNotPermanent(t *testing.T) {
	boom := errors.New("connection reset")
	for _, in := range []string{records(50), gz(records(50))} {
		src := io.MultiReader(strings.NewReader(in[:len(in)/2]), iotest.ErrReader(boom))
		got := readAll(trailfile.NewReader(src, nil))
		if !errors.Is(got.err, boom) {
			t.Fatalf("error %v, want the source's", got.err)
		}
		if fault.Permanent(got.err) {
			t.Errorf("%v reported as permanent", got.err)
		}
	}
}

func TestRawIsTheRecord(t *testing.T) {
	r := trailfile.NewReader(strings.NewReader(records(3)), nil)
	for i := range 3 {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		if got := string(r.Raw()); got != rec(i) {
			t.Errorf("Raw() = %s, want %s", got, rec(i))
		}
		if r.Index() != i {
			t.Errorf("Index() = %d, want %d", r.Index(), i)
		}
	}
}

func TestDeliveryTime(t *testing.T) {
	for name, want := range map[string]string{
		"AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/111122223333_CloudTrail_us-east-1_20261120T1005Z_abcDEF123.json.gz": "2026-11-20T10:05:00Z",
		"111122223333_CloudTrail_eu-west-1_20250101T0000Z_x.json.gz":                                                              "2025-01-01T00:00:00Z",
		"random.json.gz": "",
	} {
		got, ok := trailfile.DeliveryTime(name)
		if want == "" {
			if ok {
				t.Errorf("%s: got %v, want none", name, got)
			}
			continue
		}
		if !ok || got.Format("2006-01-02T15:04:05Z") != want {
			t.Errorf("%s: got %v, want %s", name, got, want)
		}
	}
}

// readChecked reads r to the end like readAll and checks, whatever the
// input, what resynchronisation must never break: every result, good or
// bad, takes the next index, and every record comes from bytes after the
// previous one's, so none is returned twice.
func readChecked(t *testing.T, r *trailfile.Reader) outcome {
	t.Helper()
	var o outcome
	var prevEnd int64
	for n := 0; ; n++ {
		rec, err := r.Next()
		if err == io.EOF || (err != nil && !errors.Is(err, trailfile.ErrBadRecord)) {
			o.err = err
			if err == io.EOF {
				o.err = nil
			}
			return o
		}
		if r.Index() != n {
			t.Fatalf("result %d has index %d", n, r.Index())
		}
		var e *trailfile.Error
		if err != nil {
			if !errors.As(err, &e) || e.Index != n {
				t.Fatalf("bad record %d: error %v does not name it", n, err)
			}
			o.bad++
			o.badErrs = append(o.badErrs, err)
			o.badRecs = append(o.badRecs, e)
			continue
		}
		end := r.UncompressedBytes()
		if start := end - int64(len(r.Raw())); start < prevEnd {
			t.Fatalf("record %d at bytes %d-%d overlaps the previous one, which ended at %d", n, start, end, prevEnd)
		}
		prevEnd = end
		o.good++
		o.ids = append(o.ids, rec.EventID)
		o.indexes = append(o.indexes, r.Index())
	}
}

// FuzzReader: whatever the bytes, the reader terminates, never panics,
// returns each record once, and on valid JSON trail files agrees with
// encoding/json on how many records there are. The same bytes are also
// read as record 5 of ten good ones: the records before the damage are
// always read, and when the damage cannot open or close a string or a
// bracket, so are all the records after it.
func FuzzReader(f *testing.F) {
	for _, tc := range readerCases {
		if in := tc.input(f); len(in) < 64<<10 {
			f.Add([]byte(in))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := &trailfile.Options{MaxRecordBytes: 1 << 20, MaxUncompressedBytes: 8 << 20}
		got := readChecked(t, trailfile.NewReader(bytes.NewReader(data), opts))
		if got.err != nil && !fault.Permanent(got.err) {
			t.Fatalf("non-permanent error from an in-memory source: %v", got.err)
		}
		var doc struct{ Records []json.RawMessage }
		if json.Valid(data) && json.Unmarshal(data, &doc) == nil && doc.Records != nil && got.err == nil {
			if got.good+got.bad != len(doc.Records) {
				t.Fatalf("read %d+%d records, encoding/json sees %d", got.good, got.bad, len(doc.Records))
			}
		}

		var parts, want []string
		for i := range 10 {
			if i == 5 {
				parts = append(parts, string(data))
				continue
			}
			parts = append(parts, rec(i))
			want = append(want, fmt.Sprintf("id-%d", i))
		}
		framed := `{"Records":[` + strings.Join(parts, ",") + `]}`
		got = readChecked(t, trailfile.NewReader(strings.NewReader(framed), opts))
		if len(got.ids) < 5 || fmt.Sprint(got.ids[:5]) != fmt.Sprint(want[:5]) {
			t.Fatalf("records before the damage lost: read %v", got.ids)
		}
		if !bytes.ContainsAny(data, "[]{}\"\\") && (got.err != nil || fmt.Sprint(got.ids) != fmt.Sprint(want)) {
			t.Fatalf("read %v (error %v), want %v", got.ids, got.err, want)
		}
	})
}

// recordEnds returns the uncompressed offset just past each record of a
// trail file, as encoding/json sees it: the reference the reader's framing
// is checked against.
func recordEnds(t testing.TB, data []byte) []int64 {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	for _, want := range []string{"{", "Records", "["} {
		tok, err := dec.Token()
		if err != nil || fmt.Sprint(tok) != want {
			t.Fatalf("token %v (%v), want %s", tok, err, want)
		}
	}
	var ends []int64
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatal(err)
		}
		ends = append(ends, dec.InputOffset())
	}
	return ends
}

// The zip-bomb guard stops reading at the limit but keeps every record that
// ends within it: the limit is a bound on work, not a reason to drop what
// was already decompressed.
func TestUncompressedLimitKeepsRecordsWithin(t *testing.T) {
	var plain bytes.Buffer
	if _, err := trailgen.Write(&plain, trailgen.Options{Bytes: 3 << 20, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	ends := recordEnds(t, plain.Bytes())
	limits := []int64{100_000, 1_000_000, ends[0], ends[0] - 1, ends[len(ends)/2], ends[len(ends)/2] + 1, ends[len(ends)/2] - 1}
	for _, in := range []struct {
		name string
		data string
	}{{"plain", plain.String()}, {"gzip", gz(plain.String())}} {
		for _, limit := range limits {
			want := 0
			for _, e := range ends {
				if e <= limit {
					want++
				}
			}
			got := readAll(trailfile.NewReader(strings.NewReader(in.data), &trailfile.Options{MaxUncompressedBytes: limit}))
			if !errors.Is(got.err, trailfile.ErrTooLarge) {
				t.Errorf("%s, limit %d: error %v, want ErrTooLarge", in.name, limit, got.err)
			}
			if got.good != want {
				t.Errorf("%s, limit %d: %d records, want the %d that end within the limit", in.name, limit, got.good, want)
			}
		}
	}
	// A file exactly as long as the limit is within it.
	got := readAll(trailfile.NewReader(bytes.NewReader(plain.Bytes()), &trailfile.Options{MaxUncompressedBytes: int64(plain.Len())}))
	if got.err != nil || got.good != len(ends) {
		t.Errorf("limit = file size: %d of %d records, error %v", got.good, len(ends), got.err)
	}
}

// Errors say what happened, not the nearest category: a gzip member with
// nothing in it is empty, not truncated; gzip holding text is "not JSON",
// and it is gzip.
func TestMessagesSayWhatHappened(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       string
		sentinel error
		want     string // substring of the message
		not      string // must not appear
	}{
		{"empty gzip member", gz(""), trailfile.ErrEmpty, "gzip data decompresses to no JSON", "truncated"},
		{"gzip of white space", gz(" \n"), trailfile.ErrEmpty, "gzip data decompresses to no JSON", "truncated"},
		{"empty plain file", "", trailfile.ErrEmpty, "empty file", "gzip"},
		{"gzip of text", gz("hello, not JSON"), trailfile.ErrNotJSON, "gzip-compressed, but what it decompresses to is not JSON", "neither"},
		{"plain text", "hello, not JSON", trailfile.ErrNotJSON, "neither gzip-compressed nor JSON", "but"},
		{"gzip of a lone BOM prefix", gz("\xef\xbb"), trailfile.ErrNotJSON, "gzip-compressed, but", "truncated"},
		{"truncated gzip", gz(records(50))[:40], trailfile.ErrTruncated, "gzip stream ends early", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := readAll(trailfile.NewReader(strings.NewReader(tc.in), &trailfile.Options{Name: "f.json.gz"}))
			if !errors.Is(got.err, tc.sentinel) {
				t.Fatalf("error %v, want %v", got.err, tc.sentinel)
			}
			msg := got.err.Error()
			if !strings.Contains(msg, tc.want) || (tc.not != "" && strings.Contains(msg, tc.not)) {
				t.Errorf("message %q: want %q in it and not %q", msg, tc.want, tc.not)
			}
		})
	}
}

// A malformed record is named (file, index, byte offset, what was wrong)
// and the records after it are read, with their own indexes.
func TestMalformedRecordIsNamedAndSkipped(t *testing.T) {
	for _, fields := range []string{`"x":tru`, `"x":"a"b"`, `"x":[}`} {
		in := damaged(19, 9, fields)
		o := readChecked(t, trailfile.NewReader(strings.NewReader(in), &trailfile.Options{Name: "f.json"}))
		if o.err != nil {
			t.Fatalf("%s: %v", fields, o.err)
		}
		bad := o.badRecs
		if len(bad) != 1 || bad[0].Index != 9 || bad[0].File != "f.json" || !errors.Is(bad[0], trailfile.ErrSyntax) {
			t.Fatalf("%s: bad records %v, want record 9 of f.json, malformed JSON", fields, bad)
		}
		if want := int64(strings.Index(in, damagedRecord(9, fields))); bad[0].Offset != want {
			t.Errorf("%s: offset %d, want %d", fields, bad[0].Offset, want)
		}
		if msg := bad[0].Error(); !strings.Contains(msg, "f.json: record 9 (byte ") || !strings.Contains(msg, " at byte ") {
			t.Errorf("%s: message %q does not say where", fields, msg)
		}
		var wantIDs []string
		var wantIndexes []int
		for i := range 19 {
			if i != 9 {
				wantIDs = append(wantIDs, fmt.Sprintf("id-%d", i))
				wantIndexes = append(wantIndexes, i)
			}
		}
		if fmt.Sprint(o.ids) != fmt.Sprint(wantIDs) || fmt.Sprint(o.indexes) != fmt.Sprint(wantIndexes) {
			t.Errorf("%s: read %v at %v, want %v at %v", fields, o.ids, o.indexes, wantIDs, wantIndexes)
		}
	}
}

// repeatReader yields n copies of b without holding them.
type repeatReader struct {
	b byte
	n int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n)]
	for i := range p {
		p[i] = r.b
	}
	r.n -= int64(len(p))
	return len(p), nil
}

// A record far over the limit (a 50 MB requestParameters) is passed over
// without being held: what the reader allocates stays near the limit, not
// the record's size, and the records after it are read.
func TestOversizedRecordIsStreamedPast(t *testing.T) {
	const limit = 1 << 20
	const size = 50 << 20
	head := `{"Records":[` + rec(0) + `,` + strings.TrimSuffix(rec(1), `"k1"}}`) + `"`
	src := io.MultiReader(strings.NewReader(head), &repeatReader{b: 'x', n: size}, strings.NewReader(`"}},`+rec(2)+`]}`))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := trailfile.NewReader(src, &trailfile.Options{Name: "big.json", MaxRecordBytes: limit})
	got := readAll(r)
	runtime.ReadMemStats(&after)
	if got.err != nil || fmt.Sprint(got.ids) != "[id-0 id-2]" || got.bad != 1 {
		t.Fatalf("read %v, %d bad, error %v; want id-0 and id-2, 1 bad", got.ids, got.bad, got.err)
	}
	if !errors.Is(got.badErrs[0], trailfile.ErrRecordTooLarge) || !strings.Contains(got.badErrs[0].Error(), "big.json: record 1 (byte ") {
		t.Errorf("bad record error %v, want record 1 over the size limit", got.badErrs[0])
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4*limit {
		t.Errorf("allocated %d bytes to pass a %d-byte record with a %d-byte limit", alloc, size, limit)
	}
}

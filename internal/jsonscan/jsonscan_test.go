package jsonscan

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// skipCases drive TestSkip and seed FuzzSkip. end is where Skip must stop
// (-1: an error is expected).
var skipCases = []struct {
	in  string
	end int
	err error
}{
	{`"abc"`, 5, nil},
	{`"a\"b\\"x`, 8, nil},
	{`"a\\\"b" `, 8, nil},
	{`{"a":[1,2,{"b":"}"}]} tail`, 21, nil},
	{`[[[[]]]],`, 8, nil},
	{`-12.5e+3,`, 8, nil},
	{`true}`, 4, nil},
	{`null]`, 4, nil},
	{`{"a":1`, -1, ErrShort},
	{`"abc`, -1, ErrShort},
	{`123`, -1, ErrShort}, // a number may go on in input not read yet
	{`{"a":[}`, -1, &SyntaxError{}},
	{`]`, -1, &SyntaxError{}},
	{`tru,`, -1, &SyntaxError{}},
	{`nul]`, -1, &SyntaxError{}},
	{`12x4,`, -1, &SyntaxError{}},
	{`@`, -1, &SyntaxError{}},
	{"\x00", -1, &SyntaxError{}}, // a NUL byte is not the end of the input
	{strings.Repeat("[", 100) + strings.Repeat("]", 100), 200, nil},
	{strings.Repeat("{\"a\":", 70) + "1" + strings.Repeat("}", 69) + "]", -1, &SyntaxError{}},
}

func TestSkip(t *testing.T) {
	for _, tc := range skipCases {
		var s Scanner
		s.Reset([]byte(tc.in))
		s.Skip()
		err := s.Err()
		switch {
		case tc.err == nil && err != nil:
			t.Errorf("%q: error %v", tc.in, err)
		case tc.err == nil && s.Pos != tc.end:
			t.Errorf("%q: stopped at %d, want %d", tc.in, s.Pos, tc.end)
		case tc.err == ErrShort && err != ErrShort:
			t.Errorf("%q: error %v, want ErrShort", tc.in, err)
		case tc.err != nil && tc.err != ErrShort:
			var syn *SyntaxError
			if !errors.As(err, &syn) {
				t.Errorf("%q: error %v, want a SyntaxError", tc.in, err)
			}
		}
	}
}

func TestObjectIteration(t *testing.T) {
	var s Scanner
	s.Reset([]byte(` { "a" : "x\"y" , "b":[1,{"c":2}], "n": 1.5e2 ,"t":true } `))
	var keys []string
	var vals []string
	s.Open('{')
	for s.Next('}') {
		keys = append(keys, string(s.Key()))
		raw, esc := s.Scalar()
		if esc {
			raw = s.Quoted(raw)
		}
		vals = append(vals, string(raw))
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(keys, ","); got != "a,b,n,t" {
		t.Errorf("keys %s", got)
	}
	if got := strings.Join(vals, "|"); got != `"x\"y"||1.5e2|true` {
		t.Errorf("values %s", got)
	}
	for _, bad := range []string{`{,"a":1}`, `{"a":1,}`, `{"a" 1}`, `{"a":1 "b":2}`} {
		s.Reset([]byte(bad))
		s.Open('{')
		for s.Next('}') {
			s.Key()
			s.Skip()
		}
		if s.Err() == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// FuzzSkip: Skip never panics, and on any valid JSON value it consumes
// exactly that value. On invalid input it may be lenient inside skipped
// values (see the package doc) but must stop within the buffer.
func FuzzSkip(f *testing.F) {
	for _, tc := range skipCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Scanner
		s.Reset(data)
		s.Skip()
		if s.Pos < 0 || s.Pos > len(data) {
			t.Fatalf("position %d outside the buffer of %d", s.Pos, len(data))
		}
		// Terminate numbers so that "valid JSON" means a complete value.
		in := append(append([]byte{}, data...), ' ')
		if json.Valid(in) {
			s.Reset(in)
			s.Skip()
			if s.Err() != nil {
				t.Fatalf("valid JSON %q: %v", in, s.Err())
			}
			s.SkipWS()
			if s.Pos != len(in) {
				t.Fatalf("valid JSON %q: stopped at %d of %d", in, s.Pos, len(in))
			}
		}
	})
}

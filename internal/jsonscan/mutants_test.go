package jsonscan

// Tests that pin down behaviours the other tests of this package left open
// (issue 19: each was a mutant of the code that no test noticed).
//
// Judged equivalent (no test can tell them apart):
//   - strEnd's bound on the backslash run, `q-1-n >= start` (-> `q+1-n`,
//     `q-1+n`): the byte before start is the string's opening quote, which
//     ends the run anyway; the bound only saves that one comparison.

import (
	"errors"
	"strings"
	"testing"
)

// TestStringEnds: where a string ends depends on the number of backslashes
// right before a quote, counted back to (and including) the first byte of
// the string, never further.
func TestStringEnds(t *testing.T) {
	for _, tc := range []struct {
		in  string
		end int
	}{
		{`"\"a" x`, 5},       // starts with an escaped quote
		{`"\\" x`, 4},        // starts with an escaped backslash
		{`"\\\"" x`, 6},      // \\ then \"
		{`"a\\\\" x`, 7},     // two escaped backslashes before the quote
		{`"a\\\\\"b" x`, 10}, // three and an escaped quote
		{`"" x`, 2},
		{`"\"" x`, 4},
	} {
		var s Scanner
		s.Reset([]byte(tc.in))
		raw, esc := s.Scalar()
		if s.Err() != nil || s.Pos != tc.end {
			t.Errorf("%s: ended at %d (%v), want %d", tc.in, s.Pos, s.Err(), tc.end)
			continue
		}
		if want := tc.in[1 : tc.end-1]; string(raw) != want || esc != strings.Contains(want, `\`) {
			t.Errorf("%s: raw %q escaped %v", tc.in, raw, esc)
		}
		if esc && string(s.Quoted(raw)) != tc.in[:tc.end] {
			t.Errorf("%s: Quoted %q", tc.in, s.Quoted(raw))
		}
		// A backslash before the string is not part of it: `\"` here is
		// the value's own closing quote preceded by a character.
		s.Reset([]byte(`\` + tc.in))
		s.Pos = 1
		s.Skip()
		if s.Err() != nil || s.Pos != tc.end+1 {
			t.Errorf(`\%s: Skip ended at %d (%v), want %d`, tc.in, s.Pos, s.Err(), tc.end+1)
		}
	}
	// The backslash before the opening quote must not make the empty
	// string's closing quote look escaped.
	var s Scanner
	s.Reset([]byte(`\"",`))
	s.Pos = 1
	if raw, _ := s.Scalar(); s.Err() != nil || s.Pos != 3 || len(raw) != 0 {
		t.Errorf(`\"": raw %q ended at %d (%v), want empty at 3`, raw, s.Pos, s.Err())
	}
}

// TestEndOfBufferIsShortNULIsMalformed: each place that meets the end of
// the buffer reports ErrShort (more input may follow), and each that meets
// a NUL byte instead reports a syntax error at its offset.
func TestEndOfBufferIsShortNULIsMalformed(t *testing.T) {
	walk := func(s *Scanner) {
		if !s.Open('{') {
			return
		}
		for s.Next('}') {
			s.Key()
			s.Skip()
		}
	}
	for _, tc := range []struct {
		in     string
		offset int // -1: ErrShort
	}{
		{``, -1},
		{`  `, -1},
		{"\x00", 0},
		{`{`, -1},
		{"{\x00", 1},
		{`{"a"`, -1},
		{"{\"a\"\x00", 4},
		{`{"a":`, -1},
		{"{\"a\":\x00", 5},
		{`{"a":1,`, -1},
		{"{\"a\":1,\x00", 7},
		{`{"a":1`, -1}, // the number may go on
		{`{"a":"x"`, -1},
		{"{\"a\":\"x\"\x00", 8},
		{`{"a":"x" `, -1},
		{`{"a":"x",`, -1},
		{`{"a":"x", `, -1},
		{`{"a`, -1},
		{`{"a":[1,2`, -1},
		{`{"a":tr`, -1},
	} {
		var s Scanner
		s.Reset([]byte(tc.in))
		walk(&s)
		err := s.Err()
		var syn *SyntaxError
		switch {
		case tc.offset < 0 && err != ErrShort:
			t.Errorf("%q: %v, want ErrShort", tc.in, err)
		case tc.offset >= 0 && (!errors.As(err, &syn) || syn.Offset != tc.offset):
			t.Errorf("%q: %v, want a syntax error at offset %d", tc.in, err, tc.offset)
		}
	}
}

// TestErrorsAreSticky: after the first error every method returns zero
// values and the first error stays.
func TestErrorsAreSticky(t *testing.T) {
	var s Scanner
	s.Reset([]byte(`] {"a":1}`))
	s.Skip()
	first := s.Err()
	var syn *SyntaxError
	if !errors.As(first, &syn) || syn.Offset != 0 || syn.Msg != "invalid value" {
		t.Fatalf("first error %v", first)
	}
	if want := "jsonscan: invalid value at offset 0"; first.Error() != want {
		t.Errorf("Error() = %q, want %q", first.Error(), want)
	}
	s.Pos = 2
	if s.Peek() != 0 || s.Kind() != Invalid || s.Open('{') || s.Next('}') || s.Key() != nil {
		t.Error("a method went on after an error")
	}
	if raw, esc := s.Scalar(); raw != nil || esc {
		t.Errorf("Scalar after an error: %q %v", raw, esc)
	}
	if s.Err() != first {
		t.Errorf("error became %v", s.Err())
	}
	s.Reset([]byte(`{}`))
	if s.Err() != nil || s.Pos != 0 || !s.Open('{') || s.Next('}') || s.Err() != nil || s.Pos != 2 {
		t.Errorf("after Reset: pos %d err %v", s.Pos, s.Err())
	}
}

func TestKinds(t *testing.T) {
	for in, want := range map[string]Kind{
		`"x"`: String, `{}`: Object, `[]`: Array, `true`: Bool, `false`: Bool, `null`: Null,
		`-1`: Number, `0`: Number, `9`: Number, `5`: Number, ` 1`: Number,
		`x`: Invalid, `}`: Invalid, `+1`: Invalid, `.5`: Invalid,
	} {
		var s Scanner
		s.Reset([]byte(in))
		if got := s.Kind(); got != want {
			t.Errorf("Kind(%q) = %v, want %v", in, got, want)
		}
		if s.Err() != nil {
			t.Errorf("Kind(%q) set error %v", in, s.Err())
		}
	}
	var s Scanner
	s.Reset([]byte("\x00"))
	if s.Kind() != Invalid || s.Err() != nil {
		t.Errorf("NUL: Kind set %v; the caller reports it", s.Err())
	}
	s.Reset(nil)
	if s.Kind() != Invalid || s.Err() != ErrShort {
		t.Errorf("empty buffer: %v, want ErrShort", s.Err())
	}
}

func TestScalarLiterals(t *testing.T) {
	for in, want := range map[string]string{
		`true,`:       "true",
		`false}`:      "false",
		`null]`:       "",
		`-0.5E+10 `:   "-0.5E+10",
		`1e-3,`:       "1e-3",
		`123456789,`:  "123456789",
		`{"a":"b"} x`: "",
		`[1,[2]] x`:   "",
	} {
		var s Scanner
		s.Reset([]byte(in))
		raw, esc := s.Scalar()
		if s.Err() != nil || string(raw) != want || esc {
			t.Errorf("Scalar(%q) = %q %v (%v), want %q", in, raw, esc, s.Err(), want)
		}
		if end := strings.IndexAny(in, ",}] "); in[0] != '{' && in[0] != '[' && s.Pos != end {
			t.Errorf("Scalar(%q) stopped at %d, want %d", in, s.Pos, end)
		}
	}
	for _, in := range []string{`truth,`, `fals,`, `nulls,`, `1x,`, `1z,`, `1a,`, `@`, `}`} {
		var s Scanner
		s.Reset([]byte(in))
		raw, _ := s.Scalar()
		var syn *SyntaxError
		if raw != nil || !errors.As(s.Err(), &syn) {
			t.Errorf("Scalar(%q) = %q, %v; want a syntax error", in, raw, s.Err())
		}
	}
}

// TestDeepNesting: past 64 levels the bracket stack goes on in a slice;
// mismatches are found at every depth, on both sides of the boundary.
func TestDeepNesting(t *testing.T) {
	for _, depth := range []int{63, 64, 65, 66, 130} {
		open := strings.Repeat(`[{"a":`, depth/2) + strings.Repeat("[", depth%2)
		closeOK := strings.Repeat("]", depth%2) + strings.Repeat("}]", depth/2)
		in := open + "1" + closeOK + ","
		var s Scanner
		s.Reset([]byte(in))
		s.Skip()
		if s.Err() != nil || s.Pos != len(in)-1 {
			t.Errorf("depth %d: stopped at %d of %d (%v)", depth, s.Pos, len(in)-1, s.Err())
		}
		// Swap each closing bracket in turn for the other kind.
		for i := len(open) + 1; i < len(in)-1; i++ {
			bad := []byte(in)
			if bad[i] == ']' {
				bad[i] = '}'
			} else {
				bad[i] = ']'
			}
			s.Reset(bad)
			s.Skip()
			var syn *SyntaxError
			if !errors.As(s.Err(), &syn) || syn.Offset != i || syn.Msg != "mismatched bracket" {
				t.Errorf("depth %d, bracket %d swapped: %v", depth, i, s.Err())
			}
		}
	}
}

// TestKeyAtTheEndOfTheBuffer: Key called where the buffer ends reports
// ErrShort (the key may follow in more input), and at a NUL byte a syntax
// error.
func TestKeyAtTheEndOfTheBuffer(t *testing.T) {
	for in, short := range map[string]bool{``: true, `  `: true, "\x00": false, ` x`: false, `"a"`: true, `"a" `: true, `"a"x`: false} {
		var s Scanner
		s.Reset([]byte(in))
		if k := s.Key(); k != nil {
			t.Errorf("%q: key %q", in, k)
		}
		var syn *SyntaxError
		switch err := s.Err(); {
		case short && err != ErrShort:
			t.Errorf("%q: %v, want ErrShort", in, err)
		case !short && !errors.As(err, &syn):
			t.Errorf("%q: %v, want a syntax error", in, err)
		}
	}
}

package jsonscan

import (
	"bytes"
	"errors"
	"fmt"
)

// ErrShort reports that the buffer ended before the value did.
var ErrShort = errors.New("jsonscan: unexpected end of input")

// SyntaxError reports malformed JSON at a byte offset of the buffer.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("jsonscan: %s at offset %d", e.Msg, e.Offset)
}

// Scanner walks Buf from Pos. The zero value plus Buf is ready to use.
type Scanner struct {
	Buf []byte
	Pos int
	err error
	// afterOpen is set by Open so that Next knows no comma is due.
	afterOpen bool
}

// Reset points the scanner at buf from offset 0 and clears its error.
func (s *Scanner) Reset(buf []byte) {
	s.Buf, s.Pos, s.err, s.afterOpen = buf, 0, nil, false
}

// Err returns the first error met, or nil.
func (s *Scanner) Err() error { return s.err }

func (s *Scanner) fail(msg string) {
	if s.err == nil {
		s.err = &SyntaxError{Offset: s.Pos, Msg: msg}
	}
}

func (s *Scanner) short() {
	if s.err == nil {
		s.err = ErrShort
	}
}

// unexpected reports the byte at Pos where another was wanted: past the end
// of the buffer the input is short (more may follow); anything else is
// malformed JSON, a NUL byte too, which Peek also returns as 0 but must
// not be taken for the end (that would read a file with a NUL as
// truncated).
func (s *Scanner) unexpected(msg string) {
	if s.Pos >= len(s.Buf) {
		s.short()
	} else {
		s.fail(msg)
	}
}

// SkipWS advances past JSON white space.
func (s *Scanner) SkipWS() {
	for s.Pos < len(s.Buf) {
		switch s.Buf[s.Pos] {
		case ' ', '\n', '\r', '\t':
			s.Pos++
		default:
			return
		}
	}
}

// Peek skips white space and returns the next byte without consuming it, or
// 0 at the end of the buffer.
func (s *Scanner) Peek() byte {
	if s.err != nil {
		return 0
	}
	if s.Pos < len(s.Buf) && s.Buf[s.Pos] > ' ' {
		// CloudTrail writes no white space between tokens: one test
		// instead of SkipWS's four.
		return s.Buf[s.Pos]
	}
	s.SkipWS()
	if s.Pos >= len(s.Buf) {
		return 0
	}
	return s.Buf[s.Pos]
}

// Open consumes the opening bracket c ('{' or '[').
func (s *Scanner) Open(c byte) bool {
	switch s.Peek() {
	case c:
		s.Pos++
		s.afterOpen = true
		return true
	default:
		s.unexpected(fmt.Sprintf("expected %q", c))
	}
	return false
}

// Next reports whether the object or array being iterated has another
// element, consuming the separating comma, or consumes the closing bracket
// close and returns false.
func (s *Scanner) Next(close byte) bool {
	first := s.afterOpen
	s.afterOpen = false
	switch s.Peek() {
	case close:
		s.Pos++
		return false
	case ',':
		if first {
			s.fail("unexpected ','")
			return false
		}
		s.Pos++
		if s.Peek() == 0 {
			s.unexpected("invalid value")
			return false
		}
		return true
	case 0:
		s.unexpected(fmt.Sprintf("expected ',' or %q", close))
		return false
	default:
		if !first {
			s.fail(fmt.Sprintf("expected ',' or %q", close))
			return false
		}
		return true
	}
}

// Key reads an object key and its colon. The returned slice aliases Buf and
// is raw: escapes are left in place (no CloudTrail key the engine looks for
// contains one, so an escaped key simply matches nothing).
func (s *Scanner) Key() []byte {
	if s.Peek() != '"' {
		s.unexpected("expected object key")
		return nil
	}
	k := s.strEnd()
	if s.Peek() != ':' {
		s.unexpected("expected ':'")
		return nil
	}
	s.Pos++
	return k
}

// str reads a string whose opening quote is at Pos and returns its raw
// content and whether it contains a backslash escape.
func (s *Scanner) str() (raw []byte, escaped bool) {
	raw = s.strEnd()
	return raw, raw != nil && bytes.IndexByte(raw, '\\') >= 0
}

// strEnd reads a string like str without looking for escapes, which keys
// and skipped values do not need.
func (s *Scanner) strEnd() []byte {
	start := s.Pos + 1
	i := start
	for {
		j := bytes.IndexByte(s.Buf[i:], '"')
		if j < 0 {
			s.Pos = len(s.Buf)
			s.short()
			return nil
		}
		q := i + j
		n := 0
		for q-1-n >= start && s.Buf[q-1-n] == '\\' {
			n++
		}
		if n%2 == 0 {
			s.Pos = q + 1
			return s.Buf[start:q]
		}
		i = q + 1
	}
}

// Kind is the type of the next value, judged by its first byte.
type Kind uint8

// Kinds of value.
const (
	Invalid Kind = iota
	String
	Number
	Object
	Array
	Bool
	Null
)

// Kind skips white space and returns the kind of the next value.
func (s *Scanner) Kind() Kind {
	switch c := s.Peek(); c {
	case '"':
		return String
	case '{':
		return Object
	case '[':
		return Array
	case 't', 'f':
		return Bool
	case 'n':
		return Null
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return Number
	case 0:
		if s.Pos >= len(s.Buf) {
			s.short()
		}
	}
	return Invalid
}

// Scalar reads the next value. For a string it returns the raw content
// (without quotes) and whether it has escapes; for a number or a literal, its
// text; for an object or array it skips the value and returns nil, so that a
// field of an unexpected type is ignored rather than fatal.
func (s *Scanner) Scalar() (raw []byte, escaped bool) {
	switch s.Kind() {
	case String:
		return s.str()
	case Number, Bool, Null:
		return s.literal(), false
	case Object, Array:
		s.Skip()
		return nil, false
	default:
		if s.err == nil {
			s.fail("invalid value")
		}
		return nil, false
	}
}

// String reads the string whose opening quote Kind just found (it returned
// String): Scalar without a second look at the kind.
func (s *Scanner) String() (raw []byte, escaped bool) { return s.str() }

// Quoted returns the string just read by Scalar including its quotes, for
// callers that unescape it. It is valid only straight after Scalar returned
// an escaped string.
func (s *Scanner) Quoted(raw []byte) []byte {
	end := s.Pos
	return s.Buf[end-len(raw)-2 : end]
}

func (s *Scanner) literal() []byte {
	start := s.Pos
	for s.Pos < len(s.Buf) {
		switch c := s.Buf[s.Pos]; {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c == '-', c == '+', c == '.', c == 'E':
			s.Pos++
		default:
			return s.checkLiteral(s.Buf[start:s.Pos])
		}
	}
	// A number may continue in input not read yet.
	s.short()
	return nil
}

func (s *Scanner) checkLiteral(b []byte) []byte {
	switch b[0] {
	case 't':
		if string(b) != "true" {
			s.fail("invalid literal")
			return nil
		}
	case 'f':
		if string(b) != "false" {
			s.fail("invalid literal")
			return nil
		}
	case 'n':
		if string(b) != "null" {
			s.fail("invalid literal")
			return nil
		}
		return nil
	default:
		for _, c := range b {
			if c >= 'a' && c <= 'z' && c != 'e' {
				s.fail("invalid number")
				return nil
			}
		}
	}
	return b
}

// Skip consumes the next value whatever its kind.
func (s *Scanner) Skip() {
	switch s.Kind() {
	case String:
		s.strEnd()
	case Number, Bool, Null:
		s.literal()
	case Object, Array:
		s.skipContainer()
	default:
		if s.err == nil {
			s.fail("invalid value")
		}
	}
}

// skipContainer skips an object or array starting at Pos, matching bracket
// types with a bit stack (1 for '{') so that `{"a":[}` is an error rather than
// a mis-framed record.
func (s *Scanner) skipContainer() {
	var stack uint64
	var deep []bool // brackets beyond 64 levels
	depth := 0
	i := s.Pos
	buf := s.Buf
	for i < len(buf) {
		c := buf[i]
		switch c {
		case '"':
			s.Pos = i
			s.strEnd()
			if s.err != nil {
				return
			}
			i = s.Pos
			continue
		case '{', '[':
			if depth < 64 {
				stack = stack<<1 | b2u(c == '{')
			} else {
				deep = append(deep, c == '{')
			}
			depth++
		case '}', ']':
			if depth == 0 {
				s.Pos = i
				s.fail("unexpected closing bracket")
				return
			}
			depth--
			var isObj bool
			if depth >= 64 {
				isObj = deep[len(deep)-1]
				deep = deep[:len(deep)-1]
			} else {
				isObj = stack&1 == 1
				stack >>= 1
			}
			if isObj != (c == '}') {
				s.Pos = i
				s.fail("mismatched bracket")
				return
			}
			if depth == 0 {
				s.Pos = i + 1
				return
			}
		}
		i++
	}
	s.Pos = len(buf)
	s.short()
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

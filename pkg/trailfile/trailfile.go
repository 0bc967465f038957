package trailfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cognitrail/cognitrail/internal/inflate"
	"github.com/cognitrail/cognitrail/internal/jsonscan"
	"github.com/cognitrail/cognitrail/pkg/fault"
	"github.com/cognitrail/cognitrail/pkg/record"
)

// Defaults for Options.
const (
	// DefaultMaxUncompressedBytes is far above the largest trail files seen
	// (hundreds of MB) and far below what would exhaust a Lambda's disk-free,
	// streaming budget of time.
	DefaultMaxUncompressedBytes int64 = 2 << 30
	// DefaultMaxRecordBytes bounds the buffer one record may need. A
	// longer record is passed over (in bounded memory) and reported as a
	// bad record.
	DefaultMaxRecordBytes = 16 << 20
	initialBuffer         = 256 << 10
)

// Options configure a Reader. The zero value uses the defaults.
type Options struct {
	// Name names the file in errors (an S3 key or a path).
	Name string
	// MaxUncompressedBytes is the zip-bomb guard: reading stops with
	// ErrTooLarge past this many decompressed bytes.
	MaxUncompressedBytes int64
	// MaxRecordBytes bounds a single record: a longer one is passed over
	// without being buffered and reported with ErrBadRecord wrapping
	// ErrRecordTooLarge. Another top-level value over it ends the file.
	MaxRecordBytes int
	// ReadAhead inflates a gzip-compressed file on a goroutine of its own,
	// a few chunks ahead of the parser: with a core to spare, a file's wall
	// time nears that of inflating it alone, for a little more CPU (the
	// hand-over and a copy). The caller must call Close, which waits for
	// that goroutine: a source whose Read can block for long (a network
	// body, a pipe) must not be read ahead.
	ReadAhead bool
}

// Errors that make a file unusable. They are permanent: reading the same
// bytes again gives the same error. Test with errors.Is.
var (
	ErrDigest         = fault.New("trailfile: CloudTrail digest file, not a log file")
	ErrNotTrail       = fault.New("trailfile: JSON without a Records array")
	ErrNotJSON        = fault.New("trailfile: not JSON")
	ErrEmpty          = fault.New("trailfile: empty file")
	ErrTruncated      = fault.New("trailfile: truncated")
	ErrCorrupt        = fault.New("trailfile: corrupt gzip data")
	ErrSyntax         = fault.New("trailfile: malformed JSON")
	ErrTooLarge       = fault.New("trailfile: uncompressed size over the limit")
	ErrRecordTooLarge = fault.New("trailfile: record over the size limit")
)

// Error describes where a file went wrong. Err is one of the sentinel errors
// above (possibly wrapping detail), ErrBadRecord, or an error from
// the underlying reader.
type Error struct {
	File string
	// Index is the position of the record in the file's Records array, or -1
	// when the error is not about a record.
	Index int
	// Offset is the uncompressed byte offset where the problem was found.
	Offset int64
	Err    error
}

func (e *Error) Error() string {
	name := e.File
	if name == "" {
		name = "<input>"
	}
	if e.Index >= 0 {
		return fmt.Sprintf("%s: record %d (byte %d): %v", name, e.Index, e.Offset, e.Err)
	}
	return fmt.Sprintf("%s: byte %d: %v", name, e.Offset, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrBadRecord is wrapped by the *Error that Next returns for one element
// of the Records array that is not a usable record: well-formed JSON that is
// not a CloudTrail record (not an object, no valid eventTime), malformed
// JSON (also wrapping ErrSyntax), or longer than Options.MaxRecordBytes
// (also wrapping ErrRecordTooLarge). The Reader has moved past it: calling
// Next again continues with the following record (see resync.go).
var ErrBadRecord = errors.New("trailfile: unusable record")

type state uint8

const (
	stDoc     state = iota // before a top-level document
	stTop                  // inside the top-level object, before a key or '}'
	stRecords              // inside the Records array
	stSkip                 // inside the Records array, passing a malformed or oversized record
	stDone
)

// Reader reads the records of one trail file, one at a time.
type Reader struct {
	opts    Options
	src     *sourceReader
	in      io.Reader
	limit   *io.LimitedReader
	buf     []byte
	pos     int   // next unread byte of buf
	end     int   // end of valid data in buf
	base    int64 // uncompressed offset of buf[0]
	eof     bool  // in is exhausted
	pending error // read error to report once the bytes before it are used
	err     error // sticky fatal error
	state   state
	first   bool // no element read yet in the current object/array
	value   bool // in the Records array, a separator was read and a record is due
	docs    int  // complete top-level documents read
	index   int  // index of the next record
	recOff  int  // buf offset of the current record
	recLen  int

	sawRecords bool
	ahead      *readAhead // Options.ReadAhead's, once open
	gzipped    bool       // the input is gzip-compressed: errors say so
	parser     *record.Parser
	rec        record.Record
	scan       jsonscan.Scanner
	skip       skipState
}

// NewReader returns a Reader of the trail file in r, gzip-compressed (told by
// its magic bytes, concatenated members allowed) or plain JSON. It reads
// nothing until the first call to Next. opts may be nil.
func NewReader(r io.Reader, opts *Options) *Reader {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.MaxUncompressedBytes <= 0 {
		o.MaxUncompressedBytes = DefaultMaxUncompressedBytes
	}
	if o.MaxRecordBytes <= 0 {
		o.MaxRecordBytes = DefaultMaxRecordBytes
	}
	return &Reader{
		opts:   o,
		src:    &sourceReader{r: r},
		parser: record.NewParser(),
	}
}

// sourceReader remembers a failure of the underlying reader so that it is
// reported as itself (retryable) and not as the truncated gzip stream or JSON
// that it leaves behind.
type sourceReader struct {
	r io.Reader
	// n is read by CompressedBytes while a read-ahead goroutine may add
	// to it.
	n   atomic.Int64
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n.Add(int64(n))
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

// CompressedBytes returns how many bytes were read from the source so far.
func (r *Reader) CompressedBytes() int64 { return r.src.n.Load() }

// UncompressedBytes returns how many decompressed bytes were consumed so far.
func (r *Reader) UncompressedBytes() int64 { return r.base + int64(r.pos) }

// Index returns the position in the Records array of the record last
// returned by Next, or of the record a
// bad-record error was about.
func (r *Reader) Index() int { return r.index - 1 }

// Raw returns the JSON of the record last returned by Next, or of the record a
// bad-record error was about (empty for a malformed or oversized one, which
// is never held whole). It is valid only until the next call to Next.
func (r *Reader) Raw() []byte { return r.buf[r.recOff : r.recOff+r.recLen] }

func (r *Reader) open() error {
	br := bufio.NewReaderSize(r.src, 64<<10)
	magic, err := br.Peek(2)
	if len(magic) == 0 {
		if err != nil && err != io.EOF {
			return err
		}
		return ErrEmpty
	}
	var in io.Reader = br
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := inflate.NewReader(br)
		if err != nil {
			return gzipError(err)
		}
		in = gz
		r.gzipped = true
		if r.opts.ReadAhead {
			r.ahead = newReadAhead(gz)
			in = r.ahead
		}
	}
	r.limit = &io.LimitedReader{R: in, N: r.opts.MaxUncompressedBytes + 1}
	r.in = r.limit
	r.buf = make([]byte, initialBuffer)
	return nil
}

func gzipError(err error) error {
	var corrupt inflate.CorruptInputError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), err == io.EOF:
		// A gzip header cut short reads as a plain EOF.
		return fmt.Errorf("%w: the gzip stream ends early", ErrTruncated)
	case errors.Is(err, inflate.ErrHeader), errors.Is(err, inflate.ErrChecksum), errors.As(err, &corrupt):
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return err
}

// fill reads more input into buf, compacting or growing it as needed. It
// returns false at the end of input or on error (r.err set).
func (r *Reader) fill(index int) bool {
	if r.eof {
		if r.pending != nil {
			r.fatal(index, r.pending)
		}
		return false
	}
	// Compact: what was consumed goes (the last record's bytes with it, which
	// a caller holds no longer).
	n := copy(r.buf, r.buf[r.pos:r.end])
	r.base += int64(r.pos)
	r.recOff, r.recLen = 0, 0
	r.pos, r.end = 0, n
	if r.end == len(r.buf) {
		if len(r.buf) >= r.opts.MaxRecordBytes {
			r.fatal(index, fmt.Errorf("%w (%d bytes)", ErrRecordTooLarge, r.opts.MaxRecordBytes))
			return false
		}
		size := min(2*len(r.buf), r.opts.MaxRecordBytes)
		nb := make([]byte, size)
		copy(nb, r.buf[:r.end])
		r.buf = nb
	}
	start := r.end
	for !r.eof {
		n, err := r.in.Read(r.buf[r.end:])
		r.end += n
		switch {
		case r.limit.N <= 0:
			// The limit reader let one byte past the limit through, which
			// is how going over it shows. Drop that byte and hand out the
			// rest: every record that ends within the limit is still read,
			// and the error comes when a step needs a byte past it.
			r.end -= int(r.base + int64(r.end) - r.opts.MaxUncompressedBytes)
			r.pending = fmt.Errorf("%w (%d bytes)", ErrTooLarge, r.opts.MaxUncompressedBytes)
			r.eof = true
		case err == io.EOF:
			r.eof = true
		case err != nil:
			if r.src.err != nil {
				err = r.src.err
			} else {
				err = gzipError(err)
			}
			// What arrived is handed out; the error comes with the next
			// fill.
			r.pending = err
			r.eof = true
		case r.end == len(r.buf):
			// Fill the whole buffer: a step that ran short rescans its
			// value from the start, so small reads (a slow network,
			// one-byte readers) must not turn into one rescan per read.
			return true
		}
	}
	if r.end != start {
		return true
	}
	// Nothing arrived: the end of input, or its error now.
	return r.fill(index)
}

func (r *Reader) fatal(index int, err error) {
	if r.err == nil {
		r.err = &Error{File: r.opts.Name, Index: index, Offset: r.base + int64(r.pos), Err: err}
		// Raw is the last record's only until the next call.
		r.recOff, r.recLen = 0, 0
	}
}

// shortInput handles a step that ran out of buffered input: it reads more,
// or turns the end of input into ErrTruncated. It reports whether to retry.
func (r *Reader) shortInput(index int) bool {
	if r.fill(index) {
		return true
	}
	if r.err == nil {
		r.fatal(index, ErrTruncated)
	}
	return false
}

// Next returns the next record, or io.EOF after the last one. The record
// is reused by the following call. An error wrapping ErrBadRecord reports a
// single unusable, malformed or oversized record and reading may go on; any
// other error ends the file and is returned again by every later call.
func (r *Reader) Next() (*record.Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.buf == nil {
		if err := r.open(); err != nil {
			r.fatal(-1, err)
			return nil, r.err
		}
	}
	for {
		if r.err != nil {
			return nil, r.err
		}
		s := &r.scan
		s.Reset(r.buf[r.pos:r.end])
		switch r.state {
		case stDoc:
			if r.docs == 0 && r.base == 0 && r.pos == 0 {
				if !skipBOM(s) {
					if r.fill(-1) {
						continue
					}
					if r.err == nil {
						// Nothing decompressed (an empty gzip member) is
						// an empty file, not a truncated one.
						if r.end == 0 {
							r.fatal(-1, r.emptyErr())
						} else {
							r.fatal(-1, r.notJSONErr())
						}
					}
					return nil, r.err
				}
			}
			c := s.Peek()
			if c == 0 && s.Pos >= len(s.Buf) {
				if r.shortInputAtDocEnd() {
					continue
				}
				return nil, r.err
			}
			if c != '{' {
				r.pos += s.Pos // the error names the byte
				switch {
				case r.docs > 0:
					r.fatal(-1, fmt.Errorf("%w: unexpected data after the JSON document", ErrSyntax))
				case c == '[' || c == '"':
					r.fatal(-1, ErrNotTrail)
				default:
					r.fatal(-1, r.notJSONErr())
				}
				return nil, r.err
			}
			r.pos += s.Pos + 1
			r.state, r.first = stTop, true
		case stTop:
			c := s.Peek()
			if c == '}' {
				r.pos += s.Pos + 1
				r.docs++
				r.state = stDoc
				continue
			}
			if c == ',' && !r.first {
				s.Pos++
			} else if !r.first && c != 0 {
				r.pos += s.Pos
				r.fatal(-1, fmt.Errorf("%w: expected ',' or '}'", ErrSyntax))
				return nil, r.err
			}
			key := s.Key()
			isRecords := string(key) == "Records"
			if !isRecords {
				if isDigestKey(key) {
					r.fatal(-1, ErrDigest)
					return nil, r.err
				}
				s.Skip()
			} else if s.Kind() == jsonscan.Array {
				s.Open('[')
			} else if s.Err() == nil {
				r.fatal(-1, fmt.Errorf("%w: Records is not an array", ErrNotTrail))
				return nil, r.err
			}
			if err := s.Err(); err != nil {
				if err == jsonscan.ErrShort {
					if r.shortInput(-1) {
						continue
					}
					return nil, r.err
				}
				r.pos += s.Pos
				r.fatal(-1, fmt.Errorf("%w: %v", ErrSyntax, err))
				return nil, r.err
			}
			r.pos += s.Pos
			r.first = false
			if isRecords {
				r.sawRecords = true
				r.state, r.first, r.value = stRecords, true, false
			}
		case stRecords:
			c := s.Peek()
			if !r.value {
				switch {
				case c == ']':
					r.pos += s.Pos + 1
					r.state, r.first = stTop, false
					continue
				case c == 0 && s.Pos >= len(s.Buf):
					r.pos += s.Pos
					if r.shortInput(r.index) {
						continue
					}
					return nil, r.err
				case c == ',' && !r.first:
					s.Pos++
				case !r.first:
					// Damage between records: what follows is taken as a
					// malformed element, so the record after it is found
					// again instead of the rest of the file being lost.
					r.pos += s.Pos
					r.startSkip(fmt.Errorf("%w: expected ',' or ']' before byte %d", ErrSyntax, r.base+int64(r.pos)))
					continue
				}
				r.value = true
				s.Peek() // past the white space after the comma
			}
			// Input that ends here (after a comma, or white space) is the
			// parser's short input below, as a record cut inside is.
			r.pos += s.Pos
			n, err := r.parser.Parse(r.buf[r.pos:r.end], &r.rec)
			if err == jsonscan.ErrShort {
				if r.end-r.pos >= r.opts.MaxRecordBytes {
					r.startSkip(r.tooLarge())
					continue
				}
				if r.fill(r.index) {
					continue
				}
				if r.err != nil {
					return nil, r.err
				}
				// The input ends inside the record: the file is cut short,
				// or damage left a string or bracket open (the parser
				// passes over members it does not read without checking
				// them). Resynchronising tells: the records after the
				// damage are found; when none is, the file is truncated.
				r.startSkip(fmt.Errorf("%w: a string or bracket is never closed", ErrSyntax))
				r.skip.atEOF = true
				continue
			}
			if err != nil {
				// Declared here, not above: errors.As takes its address,
				// which moves it to the heap, once per record otherwise.
				var syn *jsonscan.SyntaxError
				if errors.As(err, &syn) {
					r.startSkip(fmt.Errorf("%w: %s at byte %d", ErrSyntax, syn.Msg, r.base+int64(r.pos+syn.Offset)))
					continue
				}
			}
			if err == nil && n > r.opts.MaxRecordBytes {
				err = r.tooLarge()
			}
			r.recOff, r.recLen = r.pos, n
			off := r.base + int64(r.recOff)
			r.pos += n
			r.first, r.value = false, false
			idx := r.index
			r.index++
			if err != nil {
				return nil, &Error{File: r.opts.Name, Index: idx, Offset: off, Err: fmt.Errorf("%w: %w", ErrBadRecord, err)}
			}
			return &r.rec, nil
		case stSkip:
			if done, err := r.skipBad(); done {
				return nil, err
			}
		}
	}
}

func (r *Reader) tooLarge() error {
	return fmt.Errorf("%w (%d bytes)", ErrRecordTooLarge, r.opts.MaxRecordBytes)
}

// shortInputAtDocEnd handles the end of buffered input between documents:
// more input may follow (concatenated documents), or the file is done.
func (r *Reader) shortInputAtDocEnd() bool {
	r.pos = r.end // only white space was left
	if r.fill(-1) {
		return true
	}
	if r.err != nil {
		return false
	}
	switch {
	case r.docs == 0:
		r.fatal(-1, r.emptyErr())
	case !r.sawRecords:
		r.fatal(-1, ErrNotTrail)
	default:
		r.err = io.EOF
	}
	return false
}

// emptyErr and notJSONErr say whether the input was gzip-compressed: "empty"
// or "not JSON" about the decompressed content of a valid gzip stream is a
// different fault (the writer compressed the wrong thing) from a file that is
// itself empty or some other format.
func (r *Reader) emptyErr() error {
	if r.gzipped {
		return fmt.Errorf("%w: the gzip data decompresses to no JSON", ErrEmpty)
	}
	return ErrEmpty
}

func (r *Reader) notJSONErr() error {
	if r.gzipped {
		return fmt.Errorf("%w: gzip-compressed, but what it decompresses to is not JSON", ErrNotJSON)
	}
	return fmt.Errorf("%w: neither gzip-compressed nor JSON", ErrNotJSON)
}

// skipBOM skips a UTF-8 byte order mark. It returns false when the buffer
// holds only the start of one and more input is needed to tell.
func skipBOM(s *jsonscan.Scanner) bool {
	const bom = "\xef\xbb\xbf"
	n := min(len(s.Buf), 3)
	if string(s.Buf[:n]) != bom[:n] {
		return true
	}
	if n < 3 {
		return false
	}
	s.Pos = 3
	return true
}

// isDigestKey recognises the keys that only CloudTrail digest files have.
func isDigestKey(k []byte) bool {
	switch string(k) {
	case "digestStartTime", "digestEndTime", "digestPublicKeyFingerprint",
		"digestSignatureAlgorithm", "previousDigestSignature", "logFiles":
		return true
	}
	return false
}

// DeliveryTime returns the delivery time CloudTrail writes into a log file's
// name (ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz), which
// makes delivery lag reproducible for files read from disk.
func DeliveryTime(name string) (time.Time, bool) {
	base := name[strings.LastIndexByte(name, '/')+1:]
	parts := strings.Split(base, "_")
	for i := len(parts) - 1; i >= 0; i-- {
		p := parts[i]
		if len(p) == 14 && p[8] == 'T' && p[13] == 'Z' {
			if t, err := time.Parse("20060102T1504Z", p); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// Close ends the reading: Next returns an error wrapping ErrClosed from
// then on. It stops the goroutine Options.ReadAhead started, waiting for
// it, and may be called more than once.
func (r *Reader) Close() {
	if r.ahead != nil {
		r.ahead.close()
		r.ahead = nil
	}
	r.fatal(-1, ErrClosed)
}

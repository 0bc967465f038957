package trailfile

import (
	"fmt"

	"github.com/cognitrail/cognitrail/internal/jsonscan"
)

// Resynchronising after a bad record.
//
// A record that is malformed, or longer than Options.MaxRecordBytes, is
// passed over byte by byte without being buffered (memory stays bounded
// whatever its size) until the next record of the Records array is found.
// Two heuristics run side by side over the same bytes, and the first to
// decide wins:
//
//  1. Structure. From the bad element's first byte, strings (with their
//     escapes) and brackets (matched by kind) are tracked; the element ends
//     at the first ',' or ']' at its own depth, outside a string. Most
//     damage leaves the structure intact (a bad literal or number, a
//     missing ':' or value, a record too large), and then this finds the
//     exact extent, whatever the records look like. It gives up on an
//     unmatched or mismatched bracket and on nesting deeper than
//     maxSkipDepth.
//  2. Boundary. A record is an object, so it starts with '{', white space,
//     a quoted key and ':'. `{"` cannot occur inside a valid JSON string
//     (its '"' would be escaped), so the sequence is looked for whatever
//     the string state: damage that breaks a string (an unescaped quote, a
//     cut) inverts every string after it, which would make the structural
//     skip run on through good records. Each such candidate after the bad
//     element's first byte is checked by parsing it: it is the next record
//     when it is a usable record (an object with a valid eventTime)
//     followed by ',' or ']'. So the record after the damage is found
//     whatever its first key (CloudTrail writes eventVersion first; other
//     writers, and records re-serialised by tools, do not), and a nested
//     object of the damaged record is not taken for one. The parsing done
//     for one bad element is bounded (validateBudget: damage full of
//     nested objects would otherwise parse each of them); past it, only
//     `{"eventVersion":` starts a record, unchecked, as before.
//
// When neither decides before the input ends, the file ends: cleanly if
// the last two non-white-space bytes were "]}" (the array and the document
// closed inside the damage), else with ErrTruncated. Either way the bad
// element is counted first. The index of the records after a resync by
// boundary assumes the damage held one record: two records merged by a cut
// are counted as one invalid record, and a bad record right after the
// damage (well-formed but not usable) is passed over with it.
//
// Every byte passes through skipState.feed once, and the reader never goes
// back before the bad element's start, so a record is never returned twice.

const (
	// maxSkipDepth bounds the bracket stack (a bit per level) that the
	// structural skip keeps: far beyond any CloudTrail record.
	maxSkipDepth = 1 << 12
	// maxBoundaryWS bounds the white space kept around a candidate's key
	// while a boundary is being matched.
	maxBoundaryWS = 256
	// maxBoundaryKey bounds a candidate's key: CloudTrail's are short.
	maxBoundaryKey = 64
	// validateBudget bounds the bytes parsed to check candidates for one
	// bad element, beyond twice Options.MaxRecordBytes: damage full of
	// nested objects costs a bounded multiple of a record's parse.
	validateBudget = 1 << 20
)

const boundaryKey = "eventVersion"

type skipState struct {
	index int   // of the bad element
	off   int64 // its uncompressed offset
	cause error
	next  int64 // uncompressed offset of the next byte to feed

	// structure
	structural bool
	depth      int
	kinds      [maxSkipDepth / 64]uint64 // 1: object
	inStr, esc bool

	// boundary
	prev, prev2 byte  // last two non-white-space bytes fed
	cand        int64 // offset of a candidate record's '{', or -1
	phase       int   // 0: before the key's '"'; 1: in the key; 2: after it
	ws          int
	key         int  // bytes of the key so far
	isVersion   bool // the key so far is a prefix of boundaryKey
	budget      int  // bytes left to parse checking candidates; <0: none
	// atEOF: the element was parsed to the end of the input: when no
	// record follows it the file is truncated, the element not counted.
	atEOF bool
}

// skip decisions
const (
	skipMore     = iota // no decision yet: feed more
	skipStruct          // the element ends before the byte at `at` (',' or ']')
	skipBoundary        // a record may start at `at`: check it
)

func isWS(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// feed looks at buf, whose first byte is at uncompressed offset base, and
// reports the first decision and the offset it is about. After a boundary
// decision, k.next is the offset of the byte after the one that made it.
func (k *skipState) feed(buf []byte, base int64) (decision int, at int64) {
	for i, c := range buf {
		found := int64(-1)
		if k.cand >= 0 {
			switch {
			case k.phase != 1 && isWS(c) && k.ws < maxBoundaryWS:
				k.ws++
			case k.phase == 0 && c == '"':
				k.phase, k.key, k.isVersion = 1, 0, true
			case k.phase == 1 && c == '"' && k.key > 0:
				k.phase, k.ws = 2, 0
				k.isVersion = k.isVersion && k.key == len(boundaryKey)
			case k.phase == 1 && c != '\\' && c >= 0x20 && c != '"' && k.key < maxBoundaryKey:
				k.isVersion = k.isVersion && k.key < len(boundaryKey) && boundaryKey[k.key] == c
				k.key++
			case k.phase == 2 && c == ':':
				if k.budget >= 0 || k.isVersion {
					found = k.cand
				}
				k.cand = -1
			default:
				k.cand = -1
			}
		}
		if k.cand < 0 && c == '{' && base+int64(i) > k.off {
			k.cand, k.phase, k.ws = base+int64(i), 0, 0
		}
		if k.structural {
			switch {
			case k.inStr:
				switch {
				case k.esc:
					k.esc = false
				case c == '\\':
					k.esc = true
				case c == '"':
					k.inStr = false
				}
			case c == '"':
				k.inStr = true
			case c == '{' || c == '[':
				if k.depth == maxSkipDepth {
					k.structural = false
					break
				}
				w, b := k.depth/64, uint(k.depth%64)
				k.kinds[w] = k.kinds[w]&^(1<<b) | uint64(b2u(c == '{'))<<b
				k.depth++
			case c == '}' || c == ']':
				if k.depth == 0 {
					if c == ']' {
						return skipStruct, base + int64(i)
					}
					k.structural = false
					break
				}
				k.depth--
				w, b := k.depth/64, uint(k.depth%64)
				if (k.kinds[w]>>b&1 == 1) != (c == '}') {
					k.structural = false
				}
			case c == ',' && k.depth == 0:
				return skipStruct, base + int64(i)
			}
		}
		if !isWS(c) {
			k.prev2, k.prev = k.prev, c
		}
		if found >= 0 {
			k.next = base + int64(i) + 1
			return skipBoundary, found
		}
	}
	return skipMore, 0
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// startSkip starts passing over the element that begins at r.pos.
func (r *Reader) startSkip(cause error) {
	r.skip = skipState{
		index: r.index, off: r.base + int64(r.pos), cause: cause,
		next: r.base + int64(r.pos), structural: true, cand: -1,
		budget: validateBudget + 2*r.opts.MaxRecordBytes,
	}
	r.state = stSkip
}

// candidate results
const (
	candNot    = iota // not the next record
	candRecord        // the next record starts there
	candShort         // more input is needed to tell
)

// checkCandidate tells whether a usable record followed by ',' or ']'
// starts at uncompressed offset at, which is in the buffer.
func (r *Reader) checkCandidate(at int64) int {
	k := &r.skip
	buf := r.buf[at-r.base : r.end]
	n, err := r.parser.Parse(buf, &r.rec)
	k.budget -= n
	if err == jsonscan.ErrShort {
		if len(buf) >= r.opts.MaxRecordBytes || k.budget < 0 {
			return candNot
		}
		return candShort
	}
	if err != nil {
		return candNot
	}
	for _, c := range buf[n:] {
		switch {
		case isWS(c):
			continue
		case c == ',' || c == ']':
			return candRecord
		}
		return candNot
	}
	if len(buf) >= r.opts.MaxRecordBytes {
		return candNot
	}
	return candShort
}

// skipBad feeds the bad element's bytes to the skip state, reading more as
// needed. Once the element's end is known (or the input has ended) it
// returns true and the bad-record error; false means it read more input and
// wants to be called again.
func (r *Reader) skipBad() (done bool, err error) {
	k := &r.skip
	for {
		d, at := k.feed(r.buf[k.next-r.base:r.end], k.next)
		switch d {
		case skipStruct:
			r.pos = int(at - r.base)
			r.state, r.first, r.value = stRecords, false, false
			return true, r.skipped()
		case skipBoundary:
			for {
				res := candRecord
				if k.budget >= 0 {
					res = r.checkCandidate(at)
				}
				if res == candShort {
					// Keep the candidate; what was fed after it stays fed.
					r.pos = int(at - r.base)
					if r.fill(k.index) {
						continue
					}
					if r.err != nil {
						// The read failed: the bad element is reported
						// now, the error with the next call.
						r.pos = r.end
						return true, r.skipped()
					}
					res = candNot
				}
				if res == candRecord {
					r.pos = int(at - r.base)
					r.state, r.first, r.value = stRecords, false, true
					return true, r.skipped()
				}
				break
			}
			continue
		}
		k.next = r.base + int64(r.end)
		// Keep only a boundary being matched; the rest is done with.
		r.pos = r.end
		if k.cand >= 0 {
			r.pos = int(k.cand - r.base)
		}
		if r.fill(k.index) {
			return false, nil
		}
		if r.err == nil {
			if k.prev2 == ']' && k.prev == '}' {
				r.pos = r.end
				r.state = stDoc
				r.docs++
			} else if k.atEOF {
				// Cut inside the record, as before the damage was looked
				// for: truncated, at the record.
				r.pos = int(k.off - r.base)
				r.fatal(k.index, ErrTruncated)
				return true, r.err
			} else {
				r.fatal(-1, fmt.Errorf("%w: the file ends inside the Records array, after malformed record %d", ErrTruncated, k.index))
			}
		}
		// The bad element is reported now; the end of input or the read error
		// comes with the next call.
		return true, r.skipped()
	}
}

func (r *Reader) skipped() error {
	k := &r.skip
	r.recOff, r.recLen = r.pos, 0
	r.index = k.index + 1
	return &Error{File: r.opts.Name, Index: k.index, Offset: k.off, Err: fmt.Errorf("%w: %w", ErrBadRecord, k.cause)}
}

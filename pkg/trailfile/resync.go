package trailfile

import (
	"fmt"
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
//  2. Boundary. CloudTrail writes every record as an object whose first key
//     is eventVersion, so `{"eventVersion"` (white space allowed after the
//     '{') right after ',', '[' or '}' is the start of a record. That byte
//     sequence cannot occur inside a valid JSON string (its '"' would be
//     escaped), so it is looked for whatever the string state: damage that
//     breaks a string (an unescaped quote, a cut) inverts every string
//     after it, which would make the structural skip run on through good
//     records. Watching for the boundary as well stops it at the next one.
//
// When neither decides before the input ends, the file ends: cleanly if
// the last two non-white-space bytes were "]}" (the array and the document
// closed inside the damage), else with ErrTruncated. Either way the bad
// element is counted first. The index of the records after a resync by
// boundary assumes the damage held one record: two records merged by a cut
// are counted as one invalid record.
//
// Every byte passes through skipState.feed once, and the reader never goes
// back before the bad element's start, so a record is never returned twice.

const (
	// maxSkipDepth bounds the bracket stack (a bit per level) that the
	// structural skip keeps: far beyond any CloudTrail record.
	maxSkipDepth = 1 << 12
	// maxBoundaryWS bounds the white space kept between '{' and
	// "eventVersion" while a boundary is being matched.
	maxBoundaryWS = 256
)

const boundaryKey = `"eventVersion"`

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
	match       int   // bytes of boundaryKey matched
	ws          int
}

// skip decisions
const (
	skipMore     = iota // no decision yet: feed more
	skipStruct          // the element ends before the byte at `at` (',' or ']')
	skipBoundary        // a record starts at `at`
)

func isWS(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// feed looks at buf, whose first byte is at uncompressed offset base, and
// reports the first decision and the offset it is about.
func (k *skipState) feed(buf []byte, base int64) (decision int, at int64) {
	for i, c := range buf {
		if k.cand >= 0 {
			switch {
			case k.match == 0 && isWS(c) && k.ws < maxBoundaryWS:
				k.ws++
			case c == boundaryKey[k.match]:
				k.match++
				if k.match == len(boundaryKey) {
					return skipBoundary, k.cand
				}
			default:
				k.cand = -1
			}
		}
		if k.cand < 0 && c == '{' && (k.prev == ',' || k.prev == '[' || k.prev == '}') {
			k.cand, k.match, k.ws = base+int64(i), 0, 0
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
	}
	r.state = stSkip
}

// skipBad feeds the bad element's bytes to the skip state, reading more as
// needed. Once the element's end is known (or the input has ended) it
// returns true and the bad-record error; false means it read more input and
// wants to be called again.
func (r *Reader) skipBad() (done bool, err error) {
	k := &r.skip
	d, at := k.feed(r.buf[k.next-r.base:r.end], k.next)
	switch d {
	case skipStruct:
		r.pos = int(at - r.base)
		r.state, r.first, r.value = stRecords, false, false
		return true, r.skipped()
	case skipBoundary:
		r.pos = int(at - r.base)
		r.state, r.first, r.value = stRecords, false, true
		return true, r.skipped()
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
		} else {
			r.fatal(-1, fmt.Errorf("%w: the file ends inside the Records array, after malformed record %d", ErrTruncated, k.index))
		}
	}
	// The bad element is reported now; the end of input or the read error
	// comes with the next call.
	return true, r.skipped()
}

func (r *Reader) skipped() error {
	k := &r.skip
	r.recOff, r.recLen = r.pos, 0
	r.index = k.index + 1
	return &Error{File: r.opts.Name, Index: k.index, Offset: k.off, Err: fmt.Errorf("%w: %w", ErrBadRecord, k.cause)}
}

// Package inflate reads gzip streams (RFC 1952 around RFC 1951 DEFLATE)
// 1.5 to 1.7 times as fast as klauspost/compress/gzip, which it matches byte
// for byte and, class for class, error for error (a differential fuzzer
// holds it to that).
//
// Inflating is more than half of the CPU time of a scan, and those decoders
// read their input one byte at a time through an io.ByteReader, one Huffman
// symbol per refill, and write every match through a dictionary that is then
// copied out. This one follows libdeflate: a 64-bit bit buffer refilled with
// one unaligned load, a table entry that holds a symbol's length, kind and
// value at once, matches copied a word at a time in a window that is handed
// out in large pieces. It streams: memory is fixed (about 330 KiB) whatever
// the size of the file.
//
// It never panics on any input; a corrupt stream is a CorruptInputError, a
// stream cut short io.ErrUnexpectedEOF, and a failed read of the source that
// error itself.
package inflate

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math"
	"math/bits"
	"strconv"
)

var (
	// ErrHeader is returned for a gzip member whose header is not valid.
	ErrHeader = errors.New("inflate: invalid gzip header")
	// ErrChecksum is returned when a member's CRC-32 or length does not
	// match its data.
	ErrChecksum = errors.New("inflate: invalid gzip checksum")
)

// CorruptInputError is the offset in the compressed stream of the block
// where the data stops being valid DEFLATE.
type CorruptInputError int64

func (e CorruptInputError) Error() string {
	return "inflate: corrupt input before offset " + strconv.FormatInt(int64(e), 10)
}

const (
	windowSize = 1 << 15
	maxMatch   = 258
	// outSize is how much is decoded between two hand-outs: large, so that
	// the per-call cost (sliding the window, the checksum's set-up) is
	// amortised, small enough to stay in L2.
	outSize = 128 << 10
	// margin is the room a step needs at the end of the window: the longest
	// match, plus the word a copy may write past its end.
	margin = maxMatch + 16
	inSize = 64 << 10
	// inPad are the zero bytes after the end of input, so that the last
	// refills are unaligned loads like the others.
	inPad = 16

	litBits  = 10
	distBits = 8
	// Largest tables: a main table and, for each code longer than its
	// bits, at most one sub-table of the longest remaining length.
	litTableSize = 1<<litBits + 288<<(15-litBits)

	// An entry is: bits 0-4 the bits its code takes, 5-7 its kind, 8-11
	// the extra bits of a length or distance (or a sub-table's bits), 16-31
	// the literal, base length, base distance or sub-table offset. An
	// entry of zero is a code that no symbol has.
	flagLit = 1 << 5
	flagSub = 1 << 6
	flagEOB = 1 << 7
)

// Reader decompresses a gzip stream of one or more members.
type Reader struct {
	src    io.Reader
	srcErr error
	eof    bool
	in     []byte
	pos    int
	end    int   // real input ends here; inPad zero bytes follow once eof
	read   int64 // input bytes dropped from the front of in, for offsets

	bb uint64
	nb uint

	win        []byte
	rpos, wpos int
	// litNeed and distNeed are the bits that must be left for a symbol
	// of a block to be decoded, not found cut short: its shortest code,
	// and for a literal/length of a dynamic block that is not the last
	// the end of block code and the ten bits of the shortest last block.
	// They are klauspost's, checked where it checks them, so that a
	// stream cut short fails the same way.
	litNeed, distNeed int
	hist              int // the oldest byte of this member in win

	lit, dist *[litTableSize]uint32

	state  int
	final  bool
	stored int
	crc    uint32
	size   uint32
	err    error

	litBuf, distBuf [litTableSize]uint32
	lens            [320]uint8
}

const (
	stateHeader = iota // a gzip member's header is next
	stateBlock         // a block's header is next
	stateHuffman
	stateStored
	stateTrailer
)

// NewReader reads the gzip header of r's first member and returns a Reader
// of its data.
func NewReader(r io.Reader) (*Reader, error) {
	z := &Reader{
		src: r,
		in:  make([]byte, inSize+inPad),
		win: make([]byte, windowSize+outSize+margin),
	}
	if err := z.header(); err != nil {
		return nil, err
	}
	return z, nil
}

// Read reads decompressed data. After the last member it returns io.EOF.
func (z *Reader) Read(p []byte) (int, error) {
	for z.rpos == z.wpos {
		if z.err != nil {
			return 0, z.err
		}
		z.step()
	}
	n := copy(p, z.win[z.rpos:z.wpos])
	z.rpos += n
	return n, nil
}

// step decodes until the window is full, a member ends or an error comes:
// the checksum of the member so far is brought up to date with what it
// decoded, so that a member's error follows all of its data.
func (z *Reader) step() {
	if z.wpos > windowSize {
		shift := z.wpos - windowSize
		copy(z.win, z.win[shift:z.wpos])
		z.wpos, z.rpos = windowSize, windowSize
		z.hist = max(z.hist-shift, 0)
	}
	from := z.wpos
	for z.err == nil && z.wpos < len(z.win)-margin {
		switch z.state {
		case stateHeader:
			z.err = z.header()
		case stateBlock:
			z.err = z.block()
		case stateHuffman:
			z.err = z.huffman()
		case stateStored:
			z.err = z.copyStored()
		case stateTrailer:
			z.crc = crc32.Update(z.crc, crc32.IEEETable, z.win[from:z.wpos])
			z.size += uint32(z.wpos - from)
			from = z.wpos
			z.err = z.trailer()
		}
	}
	z.crc = crc32.Update(z.crc, crc32.IEEETable, z.win[from:z.wpos])
	z.size += uint32(z.wpos - from)
}

// fill reads more input, keeping the 8 bytes before pos that the bit buffer
// may hand back. It returns false when there is no more.
func (z *Reader) fill() bool {
	if z.eof {
		return false
	}
	keep := max(z.pos-8, 0)
	n := copy(z.in, z.in[keep:z.end])
	z.read += int64(keep)
	z.pos -= keep
	z.end = n
	start := z.end
	for z.end < inSize && !z.eof {
		m, err := z.src.Read(z.in[z.end:inSize])
		z.end += m
		switch {
		case err == io.EOF:
			z.eof = true
		case err != nil:
			z.eof, z.srcErr = true, err
		case m > 0 && z.end-z.pos >= 64:
			return true
		}
	}
	if z.eof {
		clear(z.in[z.end : z.end+inPad])
	}
	return z.end > start
}

// short is the error of a stream that needs more input than there is.
func (z *Reader) short() error {
	if z.srcErr != nil {
		return z.srcErr
	}
	return io.ErrUnexpectedEOF
}

func (z *Reader) corrupt() error {
	return CorruptInputError(z.read + int64(z.pos))
}

// byte reads one byte of a header, outside the bit buffer.
func (z *Reader) byte() (byte, error) {
	if z.pos >= z.end && !z.fill() && z.pos >= z.end {
		return 0, z.short()
	}
	c := z.in[z.pos]
	z.pos++
	return c, nil
}

func (z *Reader) header() error {
	var h [10]byte
	for i := range h {
		c, err := z.byte()
		if err != nil {
			if i == 0 && err == io.ErrUnexpectedEOF {
				// No member at all: the end of a series of them.
				return io.EOF
			}
			return err
		}
		h[i] = c
	}
	if h[0] != 0x1f || h[1] != 0x8b || h[2] != 8 {
		return ErrHeader
	}
	flg := h[3]
	digest := crc32.ChecksumIEEE(h[:])
	var b [1]byte
	next := func() (byte, error) {
		c, err := z.byte()
		b[0] = c
		digest = crc32.Update(digest, crc32.IEEETable, b[:])
		return c, err
	}
	if flg&4 != 0 {
		lo, err := next()
		if err != nil {
			return err
		}
		hi, err := next()
		if err != nil {
			return err
		}
		for range int(lo) | int(hi)<<8 {
			if _, err := next(); err != nil {
				return err
			}
		}
	}
	for _, f := range []byte{8, 16} {
		if flg&f == 0 {
			continue
		}
		// compress/gzip reads a name or comment into 512 bytes.
		for i := 0; ; i++ {
			if i >= 512 {
				return ErrHeader
			}
			c, err := next()
			if err != nil {
				return err
			}
			if c == 0 {
				break
			}
		}
	}
	if flg&2 != 0 {
		want := uint16(digest)
		lo, err := z.byte()
		if err != nil {
			return err
		}
		hi, err := z.byte()
		if err != nil {
			return err
		}
		if uint16(lo)|uint16(hi)<<8 != want {
			return ErrHeader
		}
	}
	if flg>>5 != 0 {
		return ErrHeader
	}
	z.crc, z.size = 0, 0
	z.bb, z.nb = 0, 0
	z.state = stateBlock
	z.final = false
	// A distance may reach back only into this member.
	z.hist = z.wpos
	return nil
}

// bits returns the next n (at most 32) bits, refilling a byte at a time:
// for block headers, not for data.
func (z *Reader) bits(n uint) (uint32, error) {
	for z.nb < n {
		if z.pos >= z.end && !z.fill() && z.pos >= z.end {
			return 0, z.short()
		}
		z.bb |= uint64(z.in[z.pos]) << z.nb
		z.pos++
		z.nb += 8
	}
	v := uint32(z.bb & (1<<n - 1))
	z.bb >>= n
	z.nb -= n
	if z.over() {
		return 0, z.short()
	}
	return v, nil
}

// align drops the bits left of the current byte and hands back the whole
// bytes the bit buffer holds.
func (z *Reader) align() {
	z.bb >>= z.nb & 7
	z.nb -= z.nb & 7
	z.pos -= int(z.nb >> 3)
	z.bb, z.nb = 0, 0
}

func (z *Reader) trailer() error {
	z.align()
	var t [8]byte
	for i := range t {
		c, err := z.byte()
		if err != nil {
			return err
		}
		t[i] = c
	}
	if binary.LittleEndian.Uint32(t[:4]) != z.crc || binary.LittleEndian.Uint32(t[4:]) != z.size {
		return ErrChecksum
	}
	z.state = stateHeader
	return nil
}

func (z *Reader) block() error {
	if z.final {
		z.state = stateTrailer
		return nil
	}
	h, err := z.bits(3)
	if err != nil {
		return err
	}
	z.final = h&1 == 1
	switch h >> 1 {
	case 0:
		z.align()
		var b [4]byte
		for i := range b {
			if b[i], err = z.byte(); err != nil {
				return err
			}
		}
		n := binary.LittleEndian.Uint16(b[:2])
		if n != ^binary.LittleEndian.Uint16(b[2:]) {
			return z.corrupt()
		}
		z.stored = int(n)
		z.state = stateStored
		return nil
	case 1:
		z.lit, z.dist = &fixedLit, &fixedDist
		z.litNeed, z.distNeed = 7, 5
	case 2:
		if err := z.dynamic(); err != nil {
			return err
		}
	default:
		return z.corrupt()
	}
	z.state = stateHuffman
	return nil
}

func (z *Reader) copyStored() error {
	for z.stored > 0 && z.wpos < len(z.win)-margin {
		if z.pos >= z.end && !z.fill() && z.pos >= z.end {
			return z.short()
		}
		n := copy(z.win[z.wpos:len(z.win)-margin], z.in[z.pos:min(z.end, z.pos+z.stored)])
		z.wpos += n
		z.pos += n
		z.stored -= n
	}
	if z.stored == 0 {
		z.state = stateBlock
	}
	return nil
}

var codeOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

func (z *Reader) dynamic() error {
	h, err := z.bits(14)
	if err != nil {
		return err
	}
	nlit, ndist, nclen := int(h&31)+257, int(h>>5&31)+1, int(h>>10)+4
	if nlit > 286 || ndist > 30 {
		return z.corrupt()
	}
	var clens [19]uint8
	for i := range nclen {
		v, err := z.bits(3)
		if err != nil {
			return err
		}
		clens[codeOrder[i]] = uint8(v)
	}
	var ctab [1 << 7]uint32
	cmin, ok := build(ctab[:], clens[:], 7, nil, nil)
	if !ok {
		return z.corrupt()
	}
	lens := z.lens[:nlit+ndist]
	for i := 0; i < len(lens); {
		// At most 7 bits of code and 7 of repeat count.
		for z.nb < 14 {
			if z.pos >= z.end && !z.fill() && z.pos >= z.end {
				break
			}
			z.bb |= uint64(z.in[z.pos]) << z.nb
			z.pos++
			z.nb += 8
		}
		if z.left() < cmin {
			return z.short()
		}
		e := ctab[z.bb&(1<<7-1)]
		n := uint(e & 31)
		if e == 0 {
			return z.corrupt()
		}
		if n > z.nb {
			return z.short()
		}
		z.bb >>= n
		z.nb -= n
		if z.over() {
			return z.short()
		}
		sym := e >> 16
		if sym < 16 {
			lens[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var val uint8
		switch sym {
		case 16:
			if i == 0 {
				return z.corrupt()
			}
			r, err := z.bits(2)
			if err != nil {
				return err
			}
			rep, val = 3+int(r), lens[i-1]
		case 17:
			r, err := z.bits(3)
			if err != nil {
				return err
			}
			rep = 3 + int(r)
		default:
			r, err := z.bits(7)
			if err != nil {
				return err
			}
			rep = 11 + int(r)
		}
		if i+rep > len(lens) {
			return z.corrupt()
		}
		for range rep {
			lens[i] = val
			i++
		}
	}
	// A code without an end of block is not refused here, as klauspost
	// does not: the block runs to the end of input.
	z.lit, z.dist = &z.litBuf, &z.distBuf
	litMin, ok := build(z.lit[:], lens[:nlit], litBits, litBase[:], litExtra[:])
	if !ok {
		return z.corrupt()
	}
	distMin, ok := build(z.dist[:], lens[nlit:], distBits, distBase[:], distExtra[:])
	if !ok {
		return z.corrupt()
	}
	z.litNeed, z.distNeed = max(litMin, int(lens[256])), distMin
	if !z.final {
		z.litNeed += 10
	}
	return nil
}

var (
	litBase = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
		35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	litExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
		3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
		257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
		7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}

	fixedLit, fixedDist [litTableSize]uint32
)

func init() {
	var l [288]uint8
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	// Distances 30 and 31 have codes, which are errors when met.
	var d [32]uint8
	for i := range d {
		d[i] = 5
	}
	_, litOK := build(fixedLit[:], l[:], litBits, litBase[:], litExtra[:])
	_, distOK := build(fixedDist[:], d[:], distBits, distBase[:], distExtra[:])
	if !litOK || !distOK {
		panic("inflate: the fixed codes are not complete")
	}
}

// entry is a table's entry for symbol sym whose code takes n bits. With
// base nil (the code length code) every symbol is its value; for the
// literal/length code (base of 29) symbols below 256 are literals and 256 the
// end of block; for distances (base of 30) every symbol is a distance.
func entry(sym int, n uint, base []uint16, extra []uint8) uint32 {
	switch {
	case base == nil:
		return uint32(sym)<<16 | uint32(n)
	case len(base) == len(litBase):
		switch {
		case sym < 256:
			return uint32(sym)<<16 | flagLit | uint32(n)
		case sym == 256:
			return flagEOB | uint32(n)
		case sym-257 < len(base):
			return uint32(base[sym-257])<<16 | uint32(extra[sym-257])<<8 | uint32(n)
		}
	case sym < len(base):
		return uint32(base[sym])<<16 | uint32(extra[sym])<<8 | uint32(n)
	}
	// A symbol that may be coded but not used (286, 287, distances 30
	// and 31): its entry stays zero, an error when met.
	return 0
}

// build fills table with the canonical Huffman code of lens: a main table of
// 1<<bits entries indexed by the next bits of input (least significant bit
// first), and sub-tables for longer codes. It reports whether the code is
// valid: complete, or (as zlib allows) empty or a single code of one bit.
func build(table []uint32, lens []uint8, width uint, base []uint16, extra []uint8) (shortest int, ok bool) {
	var count [16]int
	maxLen := uint(0)
	for _, l := range lens {
		count[l]++
		if uint(l) > maxLen {
			maxLen = uint(l)
		}
	}
	count[0] = 0
	clear(table[:1<<width])
	if maxLen == 0 {
		return 0, true
	}
	for shortest = 1; count[shortest] == 0; shortest++ {
	}
	// Check the code is neither over-subscribed nor, beyond the
	// exception, incomplete.
	left := 1
	for l := 1; l <= 15; l++ {
		left = left<<1 - count[l]
		if left < 0 {
			return 0, false
		}
	}
	if left > 0 && !(maxLen == 1 && count[1] == 1) {
		return 0, false
	}
	var next [16]int
	code := 0
	for l := 1; l <= 15; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	// Sub-tables: for each main-table prefix of a longer code, one table
	// as deep as the longest code under it. Codes are assigned in order
	// of length, so a prefix's longest code is known once all are seen.
	var subLen [1 << 10]uint8 // by prefix, sized for the largest main table
	sub := next
	for _, l := range lens {
		if uint(l) > width {
			c := reverse(sub[l], l)
			sub[l]++
			p := c & (1<<width - 1)
			subLen[p] = max(subLen[p], l-uint8(width))
		}
	}
	var subOff [1 << 10]int
	off := 1 << width
	for p := range 1 << width {
		if subLen[p] > 0 {
			subOff[p] = off
			table[p] = uint32(off)<<16 | uint32(subLen[p])<<8 | flagSub | uint32(width)
			clear(table[off : off+1<<subLen[p]])
			off += 1 << subLen[p]
		}
	}
	for sym, l := range lens {
		if l == 0 {
			continue
		}
		c := reverse(next[l], l)
		next[l]++
		if uint(l) <= width {
			e := entry(sym, uint(l), base, extra)
			for i := c; i < 1<<width; i += 1 << l {
				table[i] = e
			}
			continue
		}
		p := c & (1<<width - 1)
		sl := uint(l) - width
		e := entry(sym, sl, base, extra)
		t := table[subOff[p] : subOff[p]+1<<subLen[p]]
		for i := c >> width; i < len(t); i += 1 << sl {
			t[i] = e
		}
	}
	return shortest, true
}

// reverse returns the n-bit code c with its bits in reverse order: DEFLATE
// sends codes most significant bit first into a stream read from the least.
func reverse(c int, n uint8) int {
	return int(bits.Reverse16(uint16(c)) >> (16 - n))
}

// left returns how many bits of input are left after those taken
// (negative when more were taken than there are), or MaxInt before the
// end of input is known.
func (z *Reader) left() int {
	if !z.eof {
		return math.MaxInt
	}
	return 8*z.end - (8*z.pos - int(z.nb))
}

// over reports whether the bits taken so far run past the end of input
// into the zero bytes after it.
func (z *Reader) over() bool {
	return z.left() < 0
}

// huffman decodes a block's symbols until its end or until the window is
// full. It is the hot loop: the bit buffer, input and window are locals, the
// bit buffer is refilled once per symbol with one load to at least 56
// bits, enough for the longest literal/length code and its extra bits and
// the longest distance code and its extra bits.
func (z *Reader) huffman() error {
	in, pos := z.in, z.pos
	bb, nb := z.bb, z.nb
	win, wpos, hist := z.win, z.wpos, z.hist
	lit, dist := z.lit, z.dist
	litNeed, distNeed := z.litNeed, z.distNeed
	wlim := len(win) - margin
	lim, endBits := z.end, math.MaxInt
	if z.eof {
		lim, endBits = z.end+inPad, 8*z.end
	}
	tail := false
	var err error
	for {
		if lim-pos < 32 || wpos > wlim {
			if wpos > wlim {
				break
			}
			// Within 16 bytes of the end of input, every symbol's bits
			// are checked against it.
			tail = z.eof
			if !z.eof {
				z.pos, z.bb, z.nb = pos, bb, nb
				z.fill()
				pos, lim = z.pos, z.end
				if z.eof {
					lim, endBits = z.end+inPad, 8*z.end
				}
				continue
			}
			if pos+8 > lim {
				// Cannot be: the bits taken are checked against the end.
				err = z.short()
				break
			}
		}
		bb |= binary.LittleEndian.Uint64(in[pos:]) << nb
		pos += 7 - int(nb>>3)
		nb |= 56

		if tail && endBits-(8*pos-int(nb)) < litNeed {
			err = z.short()
			break
		}
		e := lit[bb&(1<<litBits-1)]
		if e&flagLit != 0 {
			// Up to three literals from one refill: 3 x 15 bits.
			n := uint(e & 31)
			bb >>= n
			nb -= n
			if tail {
				if 8*pos-int(nb) > endBits {
					err = z.short()
					break
				}
				win[wpos] = byte(e >> 16)
				wpos++
				continue
			}
			win[wpos] = byte(e >> 16)
			e = lit[bb&(1<<litBits-1)]
			if e&flagLit == 0 {
				wpos++
				continue
			}
			n = uint(e & 31)
			bb >>= n
			nb -= n
			win[wpos+1] = byte(e >> 16)
			e = lit[bb&(1<<litBits-1)]
			if e&flagLit == 0 {
				wpos += 2
				continue
			}
			n = uint(e & 31)
			bb >>= n
			nb -= n
			win[wpos+2] = byte(e >> 16)
			wpos += 3
			continue
		}
		if e&flagSub != 0 {
			bb >>= litBits
			nb -= litBits
			e = lit[e>>16+uint32(bb)&(1<<(e>>8&15)-1)]
		}
		n := uint(e & 31)
		bb >>= n
		nb -= n
		if tail && 8*pos-int(nb) > endBits {
			err = z.short()
			break
		}
		if e&flagLit != 0 {
			win[wpos] = byte(e >> 16)
			wpos++
			continue
		}
		if e&flagEOB != 0 {
			z.state = stateBlock
			break
		}
		if e == 0 {
			err = z.corrupt()
			break
		}
		x := e >> 8 & 15
		length := int(e>>16) + int(bb&(1<<x-1))
		bb >>= x
		nb -= uint(x)

		if rem := endBits - (8*pos - int(nb)); tail && (rem < 0 || rem < distNeed) {
			err = z.short()
			break
		}
		d := dist[bb&(1<<distBits-1)]
		if d&flagSub != 0 {
			bb >>= distBits
			nb -= distBits
			d = dist[d>>16+uint32(bb)&(1<<(d>>8&15)-1)]
		}
		if d == 0 {
			err = z.corrupt()
			break
		}
		n = uint(d & 31)
		bb >>= n
		nb -= n
		x = d >> 8 & 15
		distance := int(d>>16) + int(bb&(1<<x-1))
		bb >>= x
		nb -= uint(x)
		if tail && 8*pos-int(nb) > endBits {
			err = z.short()
			break
		}
		if distance > wpos-hist {
			err = z.corrupt()
			break
		}
		src := wpos - distance
		if distance >= 8 {
			// Word by word: each word read was written before, and the
			// last may write past the end, into the margin.
			// Most matches are short: four words whatever the length
			// spare a mispredicted loop exit.
			w := win[wpos : wpos+32]
			r := win[src : src+32]
			binary.LittleEndian.PutUint64(w, binary.LittleEndian.Uint64(r))
			binary.LittleEndian.PutUint64(w[8:], binary.LittleEndian.Uint64(r[8:]))
			binary.LittleEndian.PutUint64(w[16:], binary.LittleEndian.Uint64(r[16:]))
			binary.LittleEndian.PutUint64(w[24:], binary.LittleEndian.Uint64(r[24:]))
			for i := 32; i < length; i += 8 {
				binary.LittleEndian.PutUint64(win[wpos+i:], binary.LittleEndian.Uint64(win[src+i:]))
			}
		} else {
			for i := range length {
				win[wpos+i] = win[src+i]
			}
		}
		wpos += length
	}
	z.pos, z.bb, z.nb, z.wpos = pos, bb, nb, wpos
	return err
}

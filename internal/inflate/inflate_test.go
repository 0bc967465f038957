package inflate

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/iotest"

	kflate "github.com/klauspost/compress/flate"
	kgzip "github.com/klauspost/compress/gzip"

	"github.com/cognitrail/cognitrail/internal/trailgen"
)

// A case is a gzip stream whose data compress/gzip reads without error:
// the test, the benchmark and the fuzz seeds are these.
type testCase struct {
	name string
	gz   func() []byte
}

func compress(level int, data []byte) []byte {
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, level)
	if err != nil {
		panic(err)
	}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func kcompress(level int, data []byte) []byte {
	var b bytes.Buffer
	w, err := kgzip.NewWriterLevel(&b, level)
	if err != nil {
		panic(err)
	}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

var trail = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	if _, err := trailgen.Write(&b, trailgen.Options{Bytes: 4 << 20, CognitoShare: 0.37, Seed: 7}); err != nil {
		panic(err)
	}
	return b.Bytes()
})

func random(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// header builds a gzip header with every optional field (which
// compress/gzip writes but for FHCRC).
func header() []byte {
	h := []byte{0x1f, 0x8b, 8, 4 | 8 | 16 | 2, 1, 2, 3, 4, 0, 3}
	h = append(h, 3, 0, 'a', 'b', 'c')
	h = append(h, []byte("name.json\x00comment \xe9\x00")...)
	sum := crc32.ChecksumIEEE(h)
	return append(h, byte(sum), byte(sum>>8))
}

// raw returns data deflated by compress/gzip with the gzip framing around
// it cut off, to be framed again.
func raw(level int, data []byte) []byte {
	gz := compress(level, data)
	return gz[10 : len(gz)-8]
}

func trailer(data []byte) []byte {
	var t [8]byte
	sum, n := crc32.ChecksumIEEE(data), uint32(len(data))
	t[0], t[1], t[2], t[3] = byte(sum), byte(sum>>8), byte(sum>>16), byte(sum>>24)
	t[4], t[5], t[6], t[7] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
	return t[:]
}

var cases = []testCase{
	{"empty", func() []byte { return compress(6, nil) }},
	{"one byte", func() []byte { return compress(6, []byte("x")) }},
	{"text level 1", func() []byte { return compress(1, []byte("hello, hello, hello world\n")) }},
	{"trail level 6", func() []byte { return compress(6, trail()) }},
	{"trail level 9", func() []byte { return compress(9, trail()) }},
	{"trail level 1", func() []byte { return compress(1, trail()) }},
	{"trail klauspost level 6", func() []byte { return kcompress(6, trail()) }},
	{"trail klauspost level 1", func() []byte { return kcompress(1, trail()) }},
	{"trail huffman only", func() []byte { return compress(gzip.HuffmanOnly, trail()) }},
	{"trail stored", func() []byte { return compress(gzip.NoCompression, trail()[:300000]) }},
	{"random", func() []byte { return compress(6, random(200000, 1)) }},
	// Distances of 1 to 7, shorter than a word, and matches of 258.
	{"runs", func() []byte {
		var b []byte
		for p := 1; p <= 9; p++ {
			for range 2000 {
				b = append(b, "abcdefghi"[:p]...)
			}
			b = append(b, bytes.Repeat([]byte{byte(p)}, 5000)...)
		}
		return compress(9, b)
	}},
	// A fixed-Huffman block (compress/flate writes one for short input).
	{"fixed", func() []byte { return compress(6, []byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab")) }},
	{"members", func() []byte {
		return append(append(compress(6, trail()[:100000]), compress(1, nil)...), compress(9, trail()[50000:200000])...)
	}},
	{"header fields", func() []byte {
		d := trail()[:70000]
		return append(append(header(), raw(6, d)...), trailer(d)...)
	}},
}

// read reads all of a gzip stream with the package's Reader from src.
func read(src io.Reader) ([]byte, error) {
	z, err := NewReader(src)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	_, err = io.Copy(&out, z)
	return out.Bytes(), err
}

// readKlauspost reads gz with klauspost/compress/gzip, the reader this package
// replaces, whose errors it keeps.
func readKlauspost(gz []byte) ([]byte, error) {
	z, err := kgzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	_, err = io.Copy(&out, z)
	return out.Bytes(), err
}

// TestMatchesKlauspost: every case reads as klauspost/compress/gzip reads it, whatever
// the sizes in which the source hands it out.
func TestMatchesKlauspost(t *testing.T) {
	for _, c := range cases {
		gz := c.gz()
		want, err := readKlauspost(gz)
		if err != nil {
			t.Fatalf("%s: klauspost: %v", c.name, err)
		}
		for _, src := range []struct {
			name string
			r    io.Reader
		}{
			{"whole", bytes.NewReader(gz)},
			{"bytes", iotest.OneByteReader(bytes.NewReader(gz))},
			{"halves", iotest.HalfReader(bytes.NewReader(gz))},
			{"with data and EOF", iotest.DataErrReader(bytes.NewReader(gz))},
		} {
			got, err := read(src.r)
			if err != nil {
				t.Errorf("%s, %s: %v", c.name, src.name, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s, %s: %d bytes differ from klauspost's %d from byte %d", c.name, src.name, len(got), len(want), common(got, want))
			}
		}
	}
}

func common(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// kind names the class of a read's error, which both readers must agree on.
func kind(err error) string {
	var corrupt CorruptInputError
	var stdCorrupt kflate.CorruptInputError
	switch {
	case err == nil || err == io.EOF:
		return "ok"
	case err == io.ErrUnexpectedEOF:
		return "short"
	case errors.Is(err, ErrHeader), errors.Is(err, kgzip.ErrHeader):
		return "header"
	case errors.Is(err, ErrChecksum), errors.Is(err, kgzip.ErrChecksum):
		return "checksum"
	case errors.As(err, &corrupt), errors.As(err, &stdCorrupt):
		return "corrupt"
	}
	return "other: " + err.Error()
}

// differ compares the package's reading of gz with klauspost's: the
// same class of error, the same bytes when there is none, and otherwise
// one's bytes a prefix of the other's (the two hand out what they decoded
// before an error in different amounts).
func differ(gz []byte) error {
	z, err := NewReader(bytes.NewReader(gz))
	var got []byte
	if err == nil {
		var out bytes.Buffer
		_, err = io.Copy(&out, z)
		got = out.Bytes()
	}
	want, stdErr := readKlauspost(gz)
	if kind(err) == "short" && kind(stdErr) == "ok" && (z == nil || z.state == stateHeader) {
		// klauspost reads a member's header cut short inside its name or
		// comment as the end of input: a file cut there would read as
		// whole. This package says it is cut short.
		stdErr = io.ErrUnexpectedEOF
	}
	if kind(err) == "corrupt" && z != nil && emptyCode(z) {
		// klauspost v1.20.3 resets an empty code's table without
		// clearing it and decodes with what the table held before: the
		// code length code's or the last block's distances. It may read
		// on; this package stops at the first symbol of an empty code.
		stdErr = err
	}
	if kind(err) != kind(stdErr) {
		return fmt.Errorf("error %v, klauspost's %v", err, stdErr)
	}
	if err == nil && !bytes.Equal(got, want) || common(got, want) != min(len(got), len(want)) {
		return fmt.Errorf("%d bytes, klauspost's %d: they differ from byte %d", len(got), len(want), common(got, want))
	}
	return nil
}

// emptyCode reports whether the block z stopped in has a literal/length or
// distance code without a single symbol.
func emptyCode(z *Reader) bool {
	empty := func(t []uint32) bool {
		for _, e := range t {
			if e != 0 {
				return false
			}
		}
		return true
	}
	return z.state == stateHuffman && (z.lit == &z.litBuf && empty(z.litBuf[:1<<litBits]) ||
		z.dist == &z.distBuf && empty(z.distBuf[:1<<distBits]))
}

// TestDamaged: cut short at many points, or with bytes changed, each case
// fails as klauspost/compress/gzip fails and hands out the same data before it.
func TestDamaged(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range cases {
		gz := c.gz()
		cuts := []int{0, 1, 9, 10, len(gz) - 8, len(gz) - 4, len(gz) - 1}
		for range 20 {
			cuts = append(cuts, r.IntN(len(gz)))
		}
		for _, n := range cuts {
			if n < 0 || n >= len(gz) {
				continue
			}
			if err := differ(gz[:n]); err != nil {
				t.Errorf("%s cut to %d of %d bytes: %v", c.name, n, len(gz), err)
			}
		}
		for range 40 {
			b := bytes.Clone(gz)
			i := r.IntN(len(b))
			b[i] ^= byte(1 + r.IntN(255))
			if err := differ(b); err != nil {
				t.Errorf("%s with byte %d of %d changed: %v", c.name, i, len(gz), err)
			}
		}
	}
}

// TestTruncatedIsShort: a stream cut short is io.ErrUnexpectedEOF, with
// every byte decoded before the cut handed out first.
func TestTruncatedIsShort(t *testing.T) {
	gz := compress(6, trail()[:200000])
	for _, n := range []int{11, 100, 1000, 30000, len(gz) / 2, len(gz) - 9} {
		got, err := read(bytes.NewReader(gz[:n]))
		if err != io.ErrUnexpectedEOF {
			t.Errorf("cut to %d: error %v, want io.ErrUnexpectedEOF", n, err)
		}
		if !bytes.HasPrefix(trail(), got) {
			t.Errorf("cut to %d: the %d bytes handed out are not the data's first", n, len(got))
		}
		std, _ := readKlauspost(gz[:n])
		if len(got) < len(std) {
			t.Errorf("cut to %d: %d bytes handed out, klauspost hands out %d", n, len(got), len(std))
		}
	}
}

var errSource = errors.New("connection reset")

// TestSourceError: a failed read of the source is returned as itself, not
// as a stream cut short.
func TestSourceError(t *testing.T) {
	gz := compress(6, trail()[:200000])
	for _, n := range []int{5, 100, len(gz) / 2} {
		_, err := read(io.MultiReader(bytes.NewReader(gz[:n]), iotest.ErrReader(errSource)))
		if err != errSource {
			t.Errorf("source failing after %d bytes: error %v, want %v", n, err, errSource)
		}
	}
}

// TestBadHeaders: klauspost's rules for a header.
func TestBadHeaders(t *testing.T) {
	d := []byte("data")
	body := append(raw(6, d), trailer(d)...)
	hcrc := header()
	hcrc[len(hcrc)-1] ^= 1
	long := append([]byte{0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 3}, bytes.Repeat([]byte("n"), 600)...)
	for _, c := range []struct {
		name string
		gz   []byte
		want string
	}{
		{"not gzip", []byte("{\"Records\":[]}"), "header"},
		{"not deflate", append([]byte{0x1f, 0x8b, 7, 0, 0, 0, 0, 0, 0, 3}, body...), "header"},
		{"reserved flag", append([]byte{0x1f, 0x8b, 8, 0x20, 0, 0, 0, 0, 0, 3}, body...), "header"},
		{"header CRC", append(hcrc, body...), "header"},
		{"name of 600 bytes", append(append(long, 0), body...), "header"},
		{"name of 511 bytes", append(append(long[:10+511:10+511], 0), body...), "ok"},
		{"garbage after a member", append(compress(6, d), bytes.Repeat([]byte("x"), 12)...), "header"},
		{"a few bytes after a member", append(compress(6, d), 0x1f, 0x8b), "short"},
		{"a member cut inside its comment", append(compress(6, d), 0x1f, 0x8b, 8, 16, 0, 0, 0, 0, 0, 3, 'c'), "short"},
		{"length", append(append([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3}, raw(6, d)...), append(trailer(d)[:4], 5, 0, 0, 0)...), "checksum"},
	} {
		_, err := read(bytes.NewReader(c.gz))
		if kind(err) != c.want {
			t.Errorf("%s: error %v, want %s", c.name, err, c.want)
		}
		if err := differ(c.gz); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// TestEvents: the sample trail files read as klauspost/compress/gzip reads them.
func TestEvents(t *testing.T) {
	files, _ := filepath.Glob("../../events/trails/AWSLogs/*/*/*/*/*/*/*.json.gz")
	if len(files) == 0 {
		t.Fatal("no sample trail files")
	}
	for _, f := range files {
		gz, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := differ(gz); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func FuzzReader(f *testing.F) {
	for _, c := range cases {
		if gz := c.gz(); len(gz) < 100000 {
			f.Add(gz)
		}
	}
	f.Add(compress(6, trail()[:20000]))
	f.Add(header())
	f.Fuzz(func(t *testing.T, gz []byte) {
		if err := differ(gz); err != nil {
			t.Fatal(err)
		}
	})
}

var benchKlauspost = flag.Bool("klauspost", true, "also benchmark klauspost/compress/gzip on each case")

// BenchmarkReader: MB/s of decompressed data, this package against
// klauspost/compress/gzip, the inflater it replaces.
func BenchmarkReader(b *testing.B) {
	for _, c := range cases {
		gz := c.gz()
		want, _ := readKlauspost(gz)
		if len(want) < 1<<20 {
			continue
		}
		b.Run(c.name, func(b *testing.B) {
			benchRead(b, gz, len(want), func(r io.Reader) (io.Reader, error) { return NewReader(r) })
		})
		if *benchKlauspost {
			b.Run(c.name+"/klauspost", func(b *testing.B) {
				benchRead(b, gz, len(want), func(r io.Reader) (io.Reader, error) { return kgzip.NewReader(r) })
			})
		}
	}
}

func benchRead(b *testing.B, gz []byte, size int, open func(io.Reader) (io.Reader, error)) {
	buf := make([]byte, 256<<10)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		z, err := open(bytes.NewReader(gz))
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for err == nil {
			var m int
			m, err = z.Read(buf)
			n += m
		}
		if err != io.EOF || n != size {
			b.Fatalf("%d bytes, %v", n, err)
		}
	}
}

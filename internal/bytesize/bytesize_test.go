package bytesize

import (
	"errors"
	"testing"
)

// cases drive the test, the benchmark and the fuzz seeds.
var cases = []struct {
	in   string
	want int64
	err  error
}{
	{"1048576", 1048576, nil},
	{"0", 0, nil},
	{"2GiB", 2 << 30, nil},
	{"2gib", 2 << 30, nil},
	{"500MB", 500_000_000, nil},
	{"500 MB", 500_000_000, nil},
	{" 512MiB ", 512 << 20, nil},
	{"64KiB", 64 << 10, nil},
	{"64kB", 64_000, nil},
	{"64K", 64_000, nil},
	{"3TB", 3_000_000_000_000, nil},
	{"1TiB", 1 << 40, nil},
	{"100B", 100, nil},
	{"9223372036854775807", 9223372036854775807, nil},
	{"8388608TiB", 0, ErrRange},
	{"9223372036854775808", 0, ErrRange},
	{"", 0, ErrSyntax},
	{"GiB", 0, ErrSyntax},
	{"-1", 0, ErrSyntax},
	{"+1", 0, ErrSyntax},
	{"1.5GiB", 0, ErrSyntax},
	{"2 GiBs", 0, ErrSyntax},
	{"2PiB", 0, ErrSyntax},
	{"0x10", 0, ErrSyntax},
}

func TestParse(t *testing.T) {
	for _, c := range cases {
		got, err := Parse(c.in)
		if got != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("Parse(%q) = %d, %v; want %d, %v", c.in, got, err, c.want, c.err)
		}
	}
}

func TestFormatRoundTrips(t *testing.T) {
	for _, c := range cases {
		if c.err != nil {
			continue
		}
		s := Format(c.want)
		if n, err := Parse(s); err != nil || n != c.want {
			t.Errorf("Format(%d) = %q, which parses to %d, %v", c.want, s, n, err)
		}
	}
	if got := Format(2 << 30); got != "2GiB" {
		t.Errorf("Format(2GiB) = %q", got)
	}
}

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		for _, c := range cases {
			_, _ = Parse(c.in)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, c := range cases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrRange) {
				t.Fatalf("Parse(%q): %v is neither ErrSyntax nor ErrRange", s, err)
			}
			return
		}
		if n < 0 {
			t.Fatalf("Parse(%q) = %d: negative", s, n)
		}
		if m, err := Parse(Format(n)); err != nil || m != n {
			t.Fatalf("Parse(%q) = %d, but Format gives %q -> %d, %v", s, n, Format(n), m, err)
		}
	})
}

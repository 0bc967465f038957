package trailfile_test

import (
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/cognitrail/cognitrail/pkg/trailfile"
)

// TestReadAheadReadsAsTheSource: with Options.ReadAhead a Reader returns
// what it returns without, on a file of many chunks, on a source failing
// inside the gzip stream (the source's own error, retryable, not a
// truncated file) and on a file over the size limit; stopped half-way,
// Close leaves no goroutine behind; and a Reader read after Close says
// so instead of waiting.
func TestReadAheadReadsAsTheSource(t *testing.T) {
	boom := errors.New("boom")
	big := gz(records(20000)) // several of the read-ahead's chunks
	cases := []struct {
		name string
		src  func() io.Reader
		opts trailfile.Options
	}{
		{"many chunks", func() io.Reader { return strings.NewReader(big) }, trailfile.Options{}},
		{"many chunks, one byte a read", func() io.Reader { return iotest.OneByteReader(strings.NewReader(big)) }, trailfile.Options{}},
		{"the source fails inside the gzip stream", func() io.Reader {
			return io.MultiReader(strings.NewReader(big[:len(big)/2]), iotest.ErrReader(boom))
		}, trailfile.Options{}},
		{"over the size limit", func() io.Reader { return strings.NewReader(big) }, trailfile.Options{MaxUncompressedBytes: 1 << 20}},
	}
	for _, tc := range cases {
		want := readAll(trailfile.NewReader(tc.src(), &tc.opts))
		opts := tc.opts
		opts.ReadAhead = true
		r := trailfile.NewReader(tc.src(), &opts)
		got := readAll(r)
		r.Close()
		if got.good != want.good || got.bad != want.bad || !slices.Equal(got.ids, want.ids) {
			t.Errorf("%s: %d good, %d bad records read ahead; %d and %d without", tc.name, got.good, got.bad, want.good, want.bad)
		}
		if (got.err == nil) != (want.err == nil) || got.err != nil && got.err.Error() != want.err.Error() {
			t.Errorf("%s: error %v read ahead, %v without", tc.name, got.err, want.err)
		}
	}
	if want := readAll(trailfile.NewReader(strings.NewReader(big), nil)); want.good < 20000 {
		t.Fatalf("the big file has %d records: the test reads too little", want.good)
	}

	before := runtime.NumGoroutine()
	for range 20 {
		r := trailfile.NewReader(strings.NewReader(big), &trailfile.Options{ReadAhead: true})
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		r.Close()
		if _, err := r.Next(); err == nil || errors.Is(err, io.EOF) {
			t.Fatalf("Next after Close: %v, want an error", err)
		}
		r.Close()
	}
	// Close waits for the goroutine, so nothing is left to wait for; the
	// loop only lets the runtime's count settle.
	for i := 0; runtime.NumGoroutine() > before; i++ {
		if i == 100 {
			t.Fatalf("%d goroutines after Close, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

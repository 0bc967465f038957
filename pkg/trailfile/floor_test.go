package trailfile_test

import (
	"bytes"
	"io"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/cognitrail/cognitrail/internal/inflate"
	"github.com/cognitrail/cognitrail/internal/jsonscan"
	"github.com/cognitrail/cognitrail/internal/trailgen"
	"github.com/cognitrail/cognitrail/pkg/trailfile"
)

// BenchmarkFramingFloor measures how near to the floor of issue 18
// (inflating the file alone) any streaming reader of a trail file can come
// with this package's scanner, on the delivered shape (200 MB, 37 %
// Cognito, 5 minutes). The floor is klauspost/compress/gzip's inflate, as
// the issue measures it; inflate/floor is internal/inflate's, the Reader's
// inflater, alone; frame/floor is inflating the file into a 256 KiB
// buffer and finding each record's end with a validating jsonscan.Skip,
// nothing else; reader/floor is this package's Reader, every record parsed
// (record.Parser) on top of that. Each ratio is the median of the runs'
// CPU times, the floor measured just before each run so that a drifting
// host cancels. The findings, aggregation, output and process start-up
// come on top of reader/floor (cmd/cognitrail's BenchmarkCLIRatio).
func BenchmarkFramingFloor(b *testing.B) {
	var plain, gz bytes.Buffer
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	if _, err := trailgen.Write(&plain, trailgen.Options{Bytes: 200 << 20, CognitoShare: 0.37, Seed: 7, Start: start, Span: 5 * time.Minute}); err != nil {
		b.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(&gz, gzip.DefaultCompression)
	zw.Write(plain.Bytes())
	zw.Close()
	plain = bytes.Buffer{}
	var inflated, frame, reader []float64
	for b.Loop() {
		runtime.GC()
		c0 := cpuTime()
		zr, err := gzip.NewReader(bytes.NewReader(gz.Bytes()))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, zr)
		c1 := cpuTime()
		ir, err := inflate.NewReader(bytes.NewReader(gz.Bytes()))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, ir)
		c15 := cpuTime()
		framed := frameOnly(b, gz.Bytes())
		c2 := cpuTime()
		read := readRecords(b, gz.Bytes())
		c3 := cpuTime()
		if framed != read {
			b.Fatalf("framing found %d records, the Reader %d", framed, read)
		}
		inflated = append(inflated, float64(c15-c1)/float64(c1-c0))
		frame = append(frame, float64(c2-c15)/float64(c1-c0))
		reader = append(reader, float64(c3-c2)/float64(c1-c0))
	}
	b.ReportMetric(median(inflated), "inflate/floor")
	b.ReportMetric(median(frame), "frame/floor")
	b.ReportMetric(median(reader), "reader/floor")
}

// frameOnly counts the records of a generated trail file (one document,
// `{"Records":[...]}`, as trailgen writes it) by skipping each.
func frameOnly(b *testing.B, gz []byte) int {
	zr, err := inflate.NewReader(bytes.NewReader(gz))
	if err != nil {
		b.Fatal(err)
	}
	const head = `{"Records":[`
	buf := make([]byte, 256<<10)
	var s jsonscan.Scanner
	end, pos, n, eof := 0, len(head), 0, false
	for {
		for !eof && end < len(buf) {
			m, err := zr.Read(buf[end:])
			end += m
			eof = err == io.EOF
			if err != nil && !eof {
				b.Fatal(err)
			}
		}
		if n == 0 && string(buf[:len(head)]) != head {
			b.Fatalf("the file starts %q", buf[:len(head)])
		}
		for {
			s.Reset(buf[pos:end])
			switch s.Peek() {
			case ',':
				s.Pos++
			case ']':
				return n
			}
			if s.Skip(); s.Err() != nil {
				break
			}
			pos += s.Pos
			n++
		}
		if s.Err() != jsonscan.ErrShort || eof {
			b.Fatalf("record %d: %v", n, s.Err())
		}
		end = copy(buf, buf[pos:end])
		pos = 0
	}
}

func readRecords(b *testing.B, gz []byte) int {
	r := trailfile.NewReader(bytes.NewReader(gz), nil)
	for n := 0; ; n++ {
		if _, err := r.Next(); err == io.EOF {
			return n
		} else if err != nil {
			b.Fatal(err)
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	return (s[(len(s)-1)/2] + s[len(s)/2]) / 2
}

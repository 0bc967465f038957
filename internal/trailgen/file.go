package trailgen

import (
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
)

// WriteFile writes a generated file at path, gzip-compressed at level (a
// compress/gzip level), and returns its number of records.
func WriteFile(path string, level int, o Options) (int, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	zw, err := gzip.NewWriterLevel(f, level)
	if err != nil {
		f.Close()
		return 0, err
	}
	n, err := Write(zw, o)
	if err == nil {
		err = zw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("trailgen: %s: %w", path, err)
	}
	return n, nil
}

// Inflate decompresses the gzip file at path and throws the bytes away,
// returning how many there were: the floor the benchmarks measure a scan
// of the file against.
func Inflate(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return 0, fmt.Errorf("trailgen: %s: %w", path, err)
	}
	return io.Copy(io.Discard, zr)
}

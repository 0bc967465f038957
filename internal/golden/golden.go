// Package golden compares test output with golden files, in the style of
// go/doc's tests: `go test -update` rewrites the files from what the code
// computes now, and the diff is reviewed before it is committed.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files from the current output")

// Check compares got with the file at path, or rewrites the file with -update.
// A difference is reported at its first differing line.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range min(len(gl), len(wl)) {
		if gl[i] != wl[i] {
			t.Fatalf("%s differs at line %d:\n got %s\nwant %s\n(if the change is intended, run go test -update and review the diff)", path, i+1, gl[i], wl[i])
		}
	}
	t.Fatalf("%s: %d lines, want %d (if the change is intended, run go test -update and review the diff)", path, len(gl), len(wl))
}

package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/scan"
	"github.com/cognitrail/cognitrail/pkg/trailfile"
)

const (
	testdataDir = "../../pkg/class/testdata/aws"
	trailsDir   = "../../events/trails"
	readableDir = "../../events/readable"
)

// listFiles returns every regular file under dir, relative and slash-separated.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// TestCommittedSamplesMatchGenerator fails when someone edits the generator,
// the testdata records it starts from, or the files in events/ without
// regenerating: the committed samples must be exactly what the generator
// writes.
func TestCommittedSamplesMatchGenerator(t *testing.T) {
	tmp := t.TempDir()
	files, err := Generate(testdataDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := write(files, filepath.Join(tmp, "trails"), filepath.Join(tmp, "readable")); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"trails", "readable"} {
		want := listFiles(t, filepath.Join(tmp, dir))
		got := listFiles(t, filepath.Join("../../events", dir))
		if !slices.Equal(got, want) {
			t.Fatalf("events/%s holds\n%s\nthe generator writes\n%s\nregenerate: rm -rf events/trails events/readable && go run ./internal/samples -out events/trails",
				dir, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for _, f := range want {
			w, _ := os.ReadFile(filepath.Join(tmp, dir, f))
			g, err := os.ReadFile(filepath.Join("../../events", dir, f))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(g, w) {
				t.Errorf("events/%s/%s differs from the generator's output; regenerate with go run ./internal/samples -out events/trails", dir, f)
			}
		}
	}
}

// TestGeneratorDeterministic guards the byte-for-byte comparison above: two
// runs in one process must agree, whatever the map iteration order.
func TestGeneratorDeterministic(t *testing.T) {
	a, err := Generate(testdataDir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(testdataDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("%d files then %d", len(a), len(b))
	}
	for i := range a {
		if a[i].Path != b[i].Path || !bytes.Equal(a[i].Data, b[i].Data) {
			t.Fatalf("run 2 differs at %s", a[i].Path)
		}
	}
}

// TestSamplesCoverEveryCategory scans the committed samples with the engine
// and checks that `make run` shows every category, that the digest is
// recognised and skipped, and that no file fails.
func TestSamplesCoverEveryCategory(t *testing.T) {
	var total [class.NumCategories]int
	var processed, skipped int
	for _, f := range listFiles(t, trailsDir) {
		fh, err := os.Open(filepath.Join(trailsDir, f))
		if err != nil {
			t.Fatal(err)
		}
		opts := scan.Options{Reader: trailfile.Options{Name: f}}
		res, err := scan.File(context.Background(), fh, aggregate.New(nil), &opts)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		switch res.Outcome {
		case aggregate.Processed:
			processed++
			if res.Err != nil || res.Invalid > 0 {
				t.Errorf("%s: %d invalid records, %v", f, res.Invalid, res.Err)
			}
		case aggregate.Skipped:
			skipped++
			if !strings.Contains(f, "CloudTrail-Digest") {
				t.Errorf("%s skipped: %v", f, res.Err)
			}
		default:
			t.Errorf("%s failed: %v", f, res.Err)
		}
		for c, n := range res.ByCategory {
			total[c] += n
		}
	}
	if skipped != 1 {
		t.Errorf("%d files skipped, want the one digest", skipped)
	}
	sum := 0
	for _, c := range class.Categories() {
		t.Logf("%-26s %4d", c, total[c])
		sum += total[c]
		if total[c] == 0 {
			t.Errorf("no %s record in the samples", c)
		}
	}
	t.Logf("%d records in %d files", sum, processed)
	// As in a real account trail, most records are not Cognito's.
	if other := total[class.Other]; other*2 <= sum {
		t.Errorf("only %d of %d records are other services'", other, sum)
	}
}

package finding

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/internal/golden"
	"github.com/cognitrail/cognitrail/pkg/record"
)

// TestPublishedRecords evaluates every record of pkg/class/testdata/aws (the
// project's labelled published-shape records, see SOURCES.md there), each
// with a fresh engine, and pins the findings in testdata/published.golden
// (rewrite with -update, then review).
func TestPublishedRecords(t *testing.T) {
	files, _ := filepath.Glob("../class/testdata/aws/*.json")
	if len(files) < 30 {
		t.Fatalf("only %d published records", len(files))
	}
	var out bytes.Buffer
	raised := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		e := New(nil)
		e.StartFile()
		var r record.Record
		if _, err := record.NewParser().Parse(raw, &r); err != nil {
			continue // the unusable-record cases of that corpus
		}
		got := observe(t, e, record.NewParser(), raw)
		if len(got) == 0 {
			continue
		}
		raised += len(got)
		b, _ := json.Marshal(struct {
			File     string
			Findings []Finding
		}{filepath.Base(f), got})
		if strings.Contains(string(b), "HIDDEN_") {
			t.Errorf("%s: a hidden value was output", f)
		}
		out.Write(b)
		out.WriteByte('\n')
	}
	if raised == 0 {
		t.Fatal("no published record raised a finding")
	}
	golden.Check(t, "testdata/published.golden", out.Bytes())
}

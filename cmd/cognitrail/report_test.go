package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const samples = "../../events/trails"

// The command over the sample directory must print exactly what the
// package's golden file says for the same files: same walk, same answers.
// The tables are --format table, as scan and findings call them, and the
// default; text, report's older word, is still taken.
func TestReportSamplesMatchGolden(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		golden string
	}{
		{[]string{"--format", "table"}, "text"},
		{nil, "text"},
		{[]string{"--format", "text"}, "text"},
		{[]string{"--format", "json"}, "json"},
	} {
		var out, errb bytes.Buffer
		if rc := runReport(context.Background(), append(tc.args, samples), &out, &errb); rc != exitOK {
			t.Fatalf("%q: exit %d: %s", tc.args, rc, errb.String())
		}
		want, err := os.ReadFile(filepath.Join("../../pkg/report/testdata", "samples-"+tc.golden+".golden"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), want) {
			t.Errorf("%q differs from pkg/report/testdata/samples-%s.golden", tc.args, tc.golden)
		}
	}
}

func TestReportBadFileStillReports(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json.gz")
	if err := os.WriteFile(bad, []byte("not a trail file"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	rc := runReport(context.Background(), []string{bad, samples}, &out, &errb)
	if rc != exitFailed {
		t.Errorf("exit %d, want %d", rc, exitFailed)
	}
	if !strings.Contains(errb.String(), "bad.json.gz") {
		t.Errorf("stderr does not name the bad file: %q", errb.String())
	}
	if !strings.Contains(out.String(), "203.0.113.45") {
		t.Errorf("the good files were not reported:\n%s", out.String())
	}
}

func TestReportUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"--format", "xml", samples}, {"--nope", samples}} {
		var out, errb bytes.Buffer
		if rc := runReport(context.Background(), args, &out, &errb); rc != exitUsage {
			t.Errorf("%q: exit %d, want %d", args, rc, exitUsage)
		}
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/internal/golden"
	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/metric"
)

func scanOut(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	rc := runScan(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), rc
}

// The summary and the datums for the sample files are pinned by golden
// files: `make run` prints the first.
func TestScanSamplesGolden(t *testing.T) {
	for _, format := range []string{"table", "json"} {
		out, errs, rc := scanOut(t, "--format", format, samples)
		if rc != exitOK {
			t.Fatalf("%s: exit %d: %s", format, rc, errs)
		}
		golden.Check(t, filepath.Join("testdata", "scan-samples."+format), []byte(out))
	}
}

// jsonl has one line per record with the contract's fields, and agrees with
// the datums of --format json.
func TestScanJSONLines(t *testing.T) {
	out, errs, rc := scanOut(t, "--format", "jsonl", samples)
	if rc != exitOK {
		t.Fatalf("exit %d: %s", rc, errs)
	}
	perCategory := map[string]float64{}
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(out))
	lines := 0
	for sc.Scan() {
		lines++
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d: %v", lines, err)
		}
		for _, k := range []string{"file", "index", "eventID", "eventSource", "eventName", "category", "operation", "configChange", "failed", "errorCode"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("line %d has no %s: %s", lines, k, sc.Text())
			}
		}
		if _, ok := class.ParseCategory(m["category"].(string)); !ok {
			t.Errorf("line %d: category %v", lines, m["category"])
		}
		key := m["file"].(string) + "#" + jsonNum(m["index"])
		if seen[key] {
			t.Errorf("record %s printed twice", key)
		}
		seen[key] = true
		perCategory[m["category"].(string)]++
	}
	jsonOut, _, _ := scanOut(t, "--format", "json", samples)
	var datums []metric.Datum
	if err := json.Unmarshal([]byte(jsonOut), &datums); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{}
	var read float64
	for _, d := range datums {
		if d.Name == metric.Events && len(d.Dimensions) == 1 {
			want[d.Dimensions[0].Value] += d.Sum()
		}
		if d.Name == metric.RecordsRead {
			read += d.Sum()
		}
	}
	if float64(lines) != read || lines == 0 {
		t.Errorf("%d lines, RecordsRead %v", lines, read)
	}
	for c, n := range want {
		if perCategory[c] != n {
			t.Errorf("%s: %v lines, %v in the datums", c, perCategory[c], n)
		}
	}
}

func jsonNum(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestScanStdinAndExitCodes(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(`{"Records":[{"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-idp.amazonaws.com","eventName":"InitiateAuth","errorCode":"NotAuthorizedException"}]}`), 0o644)
	bad := filepath.Join(dir, "bad.json.gz")
	os.WriteFile(bad, []byte{0x1f, 0x8b, 8, 0, 0, 0}, 0o644)

	out, errs, rc := scanOut(t, good, bad)
	if rc != exitFailed || !strings.Contains(errs, "bad.json.gz") || !strings.Contains(errs, "truncated") {
		t.Errorf("exit %d, stderr %q: want exit 1 naming the truncated file", rc, errs)
	}
	if !strings.Contains(out, "Sign-in failures          1") {
		t.Errorf("the good file was not counted:\n%s", out)
	}
	if _, _, rc := scanOut(t, "--format", "xml", good); rc != exitUsage {
		t.Errorf("bad format: exit %d", rc)
	}
	if _, _, rc := scanOut(t); rc != exitUsage {
		t.Errorf("no paths: exit %d", rc)
	}
	if _, _, rc := scanOut(t, filepath.Join(dir, "missing")); rc != exitUsage {
		t.Errorf("missing path: exit %d", rc)
	}

	f, _ := os.Open(good)
	defer f.Close()
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old }()
	out, errs, rc = scanOut(t, "--format", "jsonl", "-")
	if rc != exitOK || !strings.Contains(out, `"file":"-"`) {
		t.Errorf("stdin: exit %d out %q err %q", rc, out, errs)
	}
}

func TestRunDispatch(t *testing.T) {
	var out, errb bytes.Buffer
	if rc := run(context.Background(), []string{"frobnicate"}, &out, &errb); rc != exitUsage {
		t.Errorf("unknown command: exit %d", rc)
	}
	if rc := run(context.Background(), []string{"--help"}, &out, &errb); rc != exitOK || !strings.Contains(out.String(), "cognitrail scan") {
		t.Errorf("help: exit %d", rc)
	}
}

// --max-record-bytes reaches the reader: a longer record is counted as
// unusable, named on stderr, and the records after it are read.
func TestScanMaxRecordBytes(t *testing.T) {
	rec := func(i int, params string) string {
		return fmt.Sprintf(`{"eventVersion":"1.08","eventTime":"2026-11-20T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","eventID":"id-%d","requestParameters":{"key":%q}}`, i, params)
	}
	path := filepath.Join(t.TempDir(), "big.json")
	os.WriteFile(path, []byte(`{"Records":[`+rec(0, "a")+`,`+rec(1, strings.Repeat("x", 5000))+`,`+rec(2, "b")+`]}`), 0o644)
	out, errs, rc := scanOut(t, "--max-record-bytes", "1024", path)
	if rc != exitOK || !regexp.MustCompile(`Records\s+2 read, 1 unusable`).MatchString(out) {
		t.Errorf("exit %d, summary:\n%s\nwant 2 records read, 1 unusable", rc, out)
	}
	if !strings.Contains(errs, "big.json: record 1 (byte ") || !strings.Contains(errs, "over the size limit") {
		t.Errorf("stderr %q does not name the record over the limit", errs)
	}
	if out, _, _ := scanOut(t, path); !regexp.MustCompile(`Records\s+3 read, 0 unusable`).MatchString(out) {
		t.Errorf("with the default limit:\n%s\nwant 3 records read", out)
	}
}

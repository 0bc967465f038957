package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognitrail/cognitrail/internal/golden"
	"github.com/cognitrail/cognitrail/internal/lambdaapp"
	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/processor"
	"github.com/cognitrail/cognitrail/pkg/sink"
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
	if _, _, rc := scanOut(t); rc != exitUsage {
		t.Errorf("no paths: exit %d", rc)
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

// writeTrail writes a one-record trail file (a failed sign-in) at path.
func writeTrail(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	rec := `{"Records":[{"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-idp.amazonaws.com","eventName":"InitiateAuth","errorCode":"NotAuthorizedException"}]}`
	if err := os.WriteFile(path, []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A path that does not exist is a failed file, as README says: named on
// stderr, exit 1, and the files around it still counted.
func TestScanMissingPathFailsAlone(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	writeTrail(t, a)
	writeTrail(t, b)
	missing := filepath.Join(dir, "missing.json.gz")
	out, errs, rc := scanOut(t, a, missing, b)
	if rc != exitFailed {
		t.Errorf("exit %d, want %d", rc, exitFailed)
	}
	if !strings.Contains(errs, "missing.json.gz") {
		t.Errorf("stderr does not name the missing path: %q", errs)
	}
	if !strings.Contains(out, "Files    2 processed, 0 skipped, 1 failed") || !strings.Contains(out, "Sign-in failures          2") {
		t.Errorf("the other files were not both counted:\n%s", out)
	}

	var rout, rerr bytes.Buffer
	if rc := runReport(context.Background(), []string{a, missing, b}, &rout, &rerr); rc != exitFailed || !strings.Contains(rerr.String(), "missing.json.gz") {
		t.Errorf("report: exit %d, stderr %q", rc, rerr.String())
	}
}

// A directory that cannot be read mid-walk fails alone: its siblings are
// still walked and scanned.
func TestCollectInputsWalkErrorFailsAlone(t *testing.T) {
	dir := t.TempDir()
	writeTrail(t, filepath.Join(dir, "a", "x.json"))
	writeTrail(t, filepath.Join(dir, "c", "y.json"))
	if err := os.Mkdir(filepath.Join(dir, "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	denied := errors.New("permission denied")
	// Run as root, chmod 000 does not stop a read: fail the directory the
	// way WalkDir reports a ReadDir error, a second call with the error.
	walk := func(root string, fn fs.WalkDirFunc) error {
		return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() && filepath.Base(path) == "b" {
				if err := fn(path, d, nil); err != nil {
					return err
				}
				return fn(path, d, denied)
			}
			return fn(path, d, err)
		})
	}
	var paths, failed []string
	inputs, _ := collectInputs([]string{dir}, walk)
	for _, in := range inputs {
		if in.err != nil {
			failed = append(failed, filepath.Base(in.path))
			continue
		}
		paths = append(paths, filepath.Base(in.path))
	}
	if !slices.Equal(paths, []string{"x.json", "y.json"}) || !slices.Equal(failed, []string{"b"}) {
		t.Errorf("read %v, failed %v: want both files read and b failed", paths, failed)
	}
}

// The Lambda's key rules decide what a walk reads, whatever form the path
// takes: other services' logs are left out, Insights and digest files and
// empty files are skipped (not failed), and only trail logs are read.
func TestScanKeyRulesEveryPathForm(t *testing.T) {
	dir := t.TempDir()
	acct := filepath.Join(dir, "AWSLogs", "123456789012")
	day := filepath.Join("us-east-1", "2026", "11", "20")
	writeTrail(t, filepath.Join(acct, "CloudTrail", day, "123456789012_CloudTrail_us-east-1_20261120T1005Z_a.json.gz"))
	garbage := func(path string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("not a trail file"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	garbage(filepath.Join(acct, "elasticloadbalancing", day, "123456789012_elasticloadbalancing_us-east-1_app.lb.log.gz"))
	garbage(filepath.Join(acct, "CloudTrail-Insight", day, "123456789012_CloudTrail-Insight_us-east-1_20261120T1015Z_i.json.gz"))
	garbage(filepath.Join(acct, "CloudTrail-Digest", day, "123456789012_CloudTrail-Digest_us-east-1_t_us-east-1_20261120T101743Z.json.gz"))
	empty := filepath.Join(acct, "CloudTrail", day, "123456789012_CloudTrail_us-east-1_20261120T1010Z_empty.json.gz")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	insight := filepath.Join("CloudTrail-Insight", day, "123456789012_CloudTrail-Insight_us-east-1_20261120T1015Z_i.json.gz")

	t.Chdir(acct)
	for _, tc := range []struct {
		name                       string
		args                       []string
		processed, skipped, failed int
	}{
		{"absolute directory", []string{dir}, 1, 3, 0},
		{"relative directory", []string{"."}, 1, 3, 0},
		{"dot-slash directory", []string{"./CloudTrail-Insight"}, 0, 1, 0},
		{"relative Insights directory", []string{"CloudTrail-Insight"}, 0, 1, 0},
		{"relative Insights file", []string{insight}, 0, 1, 0},
		{"dot-slash Insights file", []string{"./" + insight}, 0, 1, 0},
		{"parent-relative digest directory", []string{filepath.Join("..", "123456789012", "CloudTrail-Digest")}, 0, 1, 0},
		{"empty file given directly", []string{empty}, 0, 1, 0},
		{"other service's log given directly", []string{filepath.Join("elasticloadbalancing", day, "123456789012_elasticloadbalancing_us-east-1_app.lb.log.gz")}, 0, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, rc := scanOut(t, tc.args...)
			if rc != exitOK {
				t.Errorf("exit %d, stderr %q", rc, errs)
			}
			want := fmt.Sprintf("Files    %d processed, %d skipped, %d failed", tc.processed, tc.skipped, tc.failed)
			if !strings.Contains(out, want) {
				t.Errorf("want %q in\n%s", want, out)
			}
			if strings.Contains(out, "elasticloadbalancing") && tc.processed > 0 {
				t.Errorf("a walk listed another service's log:\n%s", out)
			}
		})
	}
}

// Empty standard input is skipped, as an empty object is.
func TestScanEmptyStdinSkipped(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old }()
	out, errs, rc := scanOut(t, "-")
	if rc != exitOK || !strings.Contains(out, "Files    0 processed, 1 skipped, 0 failed") {
		t.Errorf("exit %d, stderr %q, out\n%s", rc, errs, out)
	}
}

// fakeS3 serves the sample files as the trail bucket would.
type fakeS3 struct{ root string }

func (f fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	b, err := os.ReadFile(filepath.Join(f.root, filepath.FromSlash(aws.ToString(in.Key))))
	if err != nil {
		return nil, err
	}
	return &s3.GetObjectOutput{
		Body: io.NopCloser(bytes.NewReader(b)), ContentLength: aws.Int64(int64(len(b))),
		ETag: aws.String(fmt.Sprintf(`"%x"`, len(b))), LastModified: aws.Time(time.Date(2026, 11, 20, 10, 20, 0, 0, time.UTC)),
	}, nil
}

// captureSink keeps what the handler publishes.
type captureSink struct{ datums []metric.Datum }

func (c *captureSink) Batches(d iter.Seq[metric.Datum]) iter.Seq[[]metric.Datum] {
	return func(yield func([]metric.Datum) bool) {
		if all := slices.Collect(d); len(all) > 0 {
			yield(all)
		}
	}
}
func (c *captureSink) Publish(_ context.Context, b []metric.Datum) (sink.Stats, error) {
	c.datums = append(c.datums, b...)
	return sink.Stats{}, nil
}

// recordSums sums the record-derived datums by name, dimensions and minute:
// file outcomes and delivery lag are dated by delivery, which a file on disk
// and an S3 object give differently.
func recordSums(datums []metric.Datum) map[string]float64 {
	out := map[string]float64{}
	for _, d := range datums {
		switch d.Name {
		case metric.FilesProcessed, metric.FilesSkipped, metric.FilesFailed, metric.DeliveryLagSeconds:
			continue
		}
		out[fmt.Sprintf("%s %v %s", d.Name, d.Dimensions, d.Timestamp.Format(time.RFC3339))] += d.Sum()
	}
	return out
}

// scan's defaults are the Lambda's: with no flags, --format json gives the
// datums the handler, configured from an empty environment, publishes for
// the same files.
func TestScanDefaultsAreTheLambdas(t *testing.T) {
	cfg, err := lambdaapp.ConfigFromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	err = filepath.WalkDir(samples, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		key, _ := filepath.Rel(samples, path)
		info, _ := d.Info()
		recs = append(recs, map[string]any{
			"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "eventTime": "2026-11-20T10:20:00Z",
			"s3": map[string]any{"bucket": map[string]any{"name": "trail"}, "object": map[string]any{"key": filepath.ToSlash(key), "size": info.Size()}},
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// One file at a time, a new handler and a new scan each: a handler
	// learns app client pools and last-seen settings across the files it
	// sees, as one scan of many files does, and the two would see the files
	// in different orders (see TestScanResolvesClientsFromTheTrail and
	// TestFindingsRestatedAcrossFiles for what carries across files).
	sk := &captureSink{}
	for _, r := range recs {
		event, _ := json.Marshal(map[string]any{"Records": []any{r}})
		h := processor.New(fakeS3{samples}, sk, nil, &processor.Options{
			Level: cfg.Level, MaxPools: cfg.MaxPools, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			// the samples' time: their records stay younger than
			// CloudWatch's age limit whatever the day the test runs
			Now: func() time.Time { return time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC) },
		})
		if _, err := h.Handle(context.Background(), event); err != nil {
			t.Fatal(err)
		}
	}
	var cli []metric.Datum
	for _, r := range recs {
		key := r["s3"].(map[string]any)["object"].(map[string]any)["key"].(string)
		out, errs, rc := scanOut(t, "--format", "json", filepath.Join(samples, filepath.FromSlash(key)))
		if rc != exitOK {
			t.Fatalf("exit %d: %s", rc, errs)
		}
		var ds []metric.Datum
		if err := json.Unmarshal([]byte(out), &ds); err != nil {
			t.Fatal(err)
		}
		cli = append(cli, ds...)
	}
	got, want := recordSums(cli), recordSums(sk.datums)
	if len(want) == 0 {
		t.Fatal("the handler published nothing")
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: scan %v, Lambda %v", k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: scan %v, the Lambda publishes no such series", k, v)
		}
	}
}

// Standard input can be read once: "scan - -" is refused before anything is
// read (exit 2), and a file reached twice is read once.
func TestScanNothingReadTwice(t *testing.T) {
	for _, cmd := range []string{"scan", "report"} {
		out, errs, rc := runOut(cmd, "-", samples, "-")
		if rc != exitUsage || !strings.Contains(errs, "given more than once") || out != "" {
			t.Errorf("%s - DIR -: exit %d, stdout %q, stderr %q", cmd, rc, out, errs)
		}
	}
	dir := t.TempDir()
	a := filepath.Join(dir, "a.json")
	writeTrail(t, a)
	out, errs, rc := scanOut(t, a, dir, a)
	if rc != exitOK {
		t.Fatalf("exit %d: %s", rc, errs)
	}
	if !strings.Contains(out, "Files    1 processed") || !strings.Contains(out, "Sign-in failures          1") {
		t.Errorf("a file named twice and inside a named directory was not read once:\n%s", out)
	}
	if !strings.Contains(errs, "a.json: given more than once, read once") {
		t.Errorf("stderr %q does not say the file was given twice", errs)
	}
}

// A directory with no trail file in it is named on stderr; it is not an
// error (exit 0), the way an empty input is not.
func TestScanEmptyDirectorySaysSo(t *testing.T) {
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"scan", "report"} {
		_, errs, rc := runOut(cmd, empty)
		if rc != exitOK || !strings.Contains(errs, empty+": no trail files") {
			t.Errorf("%s EMPTYDIR: exit %d, stderr %q", cmd, rc, errs)
		}
	}
	out, errs, rc := scanOut(t, empty, samples)
	if rc != exitOK || !strings.Contains(errs, empty+": no trail files") || !strings.Contains(out, "6 processed") {
		t.Errorf("EMPTYDIR SAMPLES: exit %d, stderr %q\n%s", rc, errs, out)
	}
}

// jsonl flags an endpoint operation pkg/class does not list, as README
// says, and only that one; the table lists it.
func TestScanFlagsUnlistedOperation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.json")
	rec := `{"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-idp.amazonaws.com","eventType":"AwsServiceEvent","eventName":"%s"}`
	body := `{"Records":[` + fmt.Sprintf(rec, "passkeys_delete_POST") + `,` + fmt.Sprintf(rec, "login_POST") + `]}`
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, rc := scanOut(t, "--format", "jsonl", path)
	if rc != exitOK {
		t.Fatalf("exit %d: %s", rc, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	for i, want := range []bool{true, false} {
		var m map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &m); err != nil {
			t.Fatal(err)
		}
		got, present := m["unlistedOperation"]
		if want && got != true || !want && present {
			t.Errorf("line %d: unlistedOperation %v (present %v), want %v: %s", i, got, present, want, lines[i])
		}
	}
	table, _, _ := scanOut(t, path)
	if !strings.Contains(table, "Unlisted endpoint operations") || !strings.Contains(table, "passkeys_delete_POST") {
		t.Errorf("the table does not list the unlisted operation:\n%s", table)
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
	out, errs, rc := scanOut(t, "--max-record-bytes", "1KiB", path)
	if rc != exitOK || !regexp.MustCompile(`Records\s+2 read, 1 unusable`).MatchString(out) {
		t.Errorf("exit %d, summary:\n%s\nwant 2 records read, 1 unusable", rc, out)
	}
	if !strings.Contains(errs, "big.json: 1 unusable record, the first: record 1 (byte ") || !strings.Contains(errs, "over the size limit") {
		t.Errorf("stderr %q does not name the record over the limit", errs)
	}
	if out, _, _ := scanOut(t, path); !regexp.MustCompile(`Records\s+3 read, 0 unusable`).MatchString(out) {
		t.Errorf("with the default limit:\n%s\nwant 3 records read", out)
	}
	for _, bad := range []string{"0", "2GiB", "lots"} {
		if _, _, rc := scanOut(t, "--max-record-bytes", bad, path); rc != exitUsage {
			t.Errorf("--max-record-bytes %s: exit %d, want %d", bad, rc, exitUsage)
		}
	}
}

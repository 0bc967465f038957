package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/internal/docs"
)

func runOut(args ...string) (stdout, stderr string, rc int) {
	var out, errb bytes.Buffer
	rc = run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), rc
}

// Every command answers -h and --help as the top level does: usage on
// stdout, exit 0.
func TestEveryCommandHelpExitsZero(t *testing.T) {
	for name := range commands {
		for _, h := range []string{"--help", "-h"} {
			out, errs, rc := runOut(name, h)
			if rc != exitOK || !strings.Contains(out, "usage: cognitrail "+name) || errs != "" {
				t.Errorf("%s %s: exit %d, stdout %q, stderr %q", name, h, rc, out, errs)
			}
		}
	}
}

// flagSets are the commands' flag sets, built by the same constructors the
// commands use.
func flagSets() map[string]*flag.FlagSet {
	scan, _ := newScanFlags()
	report, _ := newReportFlags()
	backfill, _ := newBackfillFlags()
	findings, _ := newFindingsFlags()
	replay, _ := newReplayFlags()
	ledger, _ := newLedgerResetFlags()
	posture, _ := newPostureFlags()
	return map[string]*flag.FlagSet{"scan": scan, "report": report, "backfill": backfill, "findings": findings, "replay": replay, "ledger": ledger, "posture": posture}
}

// The usage lists every flag a command defines, in its own --help and in
// cognitrail --help, and cognitrail --help includes every command's usage.
func TestUsageListsEveryFlag(t *testing.T) {
	top, _, rc := runOut("--help")
	if rc != exitOK {
		t.Fatalf("--help: exit %d", rc)
	}
	for name, fl := range flagSets() {
		own, _, _ := runOut(name, "--help")
		n := 0
		fl.VisitAll(func(f *flag.Flag) {
			n++
			// A boolean flag's line ends at its name.
			if !strings.Contains(own, "  -"+f.Name+" ") && !strings.Contains(own, "  -"+f.Name+"\n") {
				t.Errorf("%s --help does not list -%s:\n%s", name, f.Name, own)
			}
		})
		if n == 0 {
			t.Errorf("%s: no flags", name)
		}
	}
	for name := range commands {
		own, _, _ := runOut(name, "--help")
		if !strings.Contains(top, own) {
			t.Errorf("cognitrail --help lacks the usage of %s:\n%s", name, own)
		}
	}
}

// The README's command-line section names every flag of every command.
func TestREADMEListsEveryFlag(t *testing.T) {
	// The command-line page names every flag; the README's synopsis names
	// only the commands.
	section, err := docs.Page(filepath.Join("..", ".."), "docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	for name, fl := range flagSets() {
		fl.VisitAll(func(f *flag.Flag) {
			if !strings.Contains(section, "--"+f.Name) {
				t.Errorf("README's command-line section does not mention %s --%s", name, f.Name)
			}
		})
	}
}

// A rejected flag value says which flag and why, then the usage; exit 2.
func TestBadFlagValueSaysWhy(t *testing.T) {
	for _, tc := range []struct {
		args []string
		why  string
	}{
		{[]string{"scan", "--format", "xml", samples}, `invalid value "xml" for flag -format: want table, json or jsonl`},
		{[]string{"report", "--format", "xml", samples}, `invalid value "xml" for flag -format: want table, json or html`},
		{[]string{"scan", "--level", "max", samples}, `invalid value "max" for flag -level`},
		{[]string{"scan", "--max-pools", "0", samples}, `invalid value "0" for flag -max-pools: want a positive integer`},
		{[]string{"scan", "--max-uncompressed-bytes", "lots", samples}, `invalid value "lots" for flag -max-uncompressed-bytes`},
		{[]string{"scan", "--max-uncompressed-bytes", "0", samples}, `want a positive byte count`},
		{[]string{"scan", "--nope", samples}, `flag provided but not defined: -nope`},
		{[]string{"scan"}, `cognitrail scan: no PATH given`},
		{[]string{"invoke"}, `cognitrail invoke: want one EVENT.json, got 0 arguments`},
		// An S3 URL is not read as a missing file (with an empty table):
		// the message points to backfill.
		{[]string{"scan", samples, "s3://bucket/AWSLogs/"}, `cognitrail scan: s3://bucket/AWSLogs/: a PATH is on disk; for S3, cognitrail backfill s3://bucket/AWSLogs/ prints`},
		{[]string{"findings", "s3://bucket"}, `cognitrail findings: s3://bucket: a PATH is on disk; for S3, cognitrail backfill s3://bucket prints`},
		{[]string{"report", "s3://bucket"}, `aws s3 sync s3://bucket DIR`},
	} {
		out, errs, rc := runOut(tc.args...)
		if rc != exitUsage || !strings.Contains(errs, tc.why) || !strings.Contains(errs, "usage: cognitrail "+tc.args[0]) || out != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q: want exit 2 and %q", tc.args, rc, out, errs, tc.why)
		}
	}
}

// --max-uncompressed-bytes takes sizes as people write them, and the value
// takes effect.
func TestMaxUncompressedBytesSizes(t *testing.T) {
	for _, v := range []string{"2GiB", "500MB", "1048576", "10 MiB"} {
		if _, errs, rc := runOut("scan", "--max-uncompressed-bytes", v, samples); rc != exitOK {
			t.Errorf("%s: exit %d: %s", v, rc, errs)
		}
	}
	_, errs, rc := runOut("scan", "--max-uncompressed-bytes", "1KiB", samples)
	if rc != exitFailed || !strings.Contains(errs, "over the limit") {
		t.Errorf("1KiB: exit %d, stderr %q: want the sample files over the limit", rc, errs)
	}
}

// Every command reads its flags by one rule: a flag after an argument (a
// path, a URL, a key) is a flag, and "--" ends the flags, so that a
// following "-x" is an argument. For each command, the first case gives a
// flag after the arguments and checks its effect; the second puts "-x"
// after "--" and checks that it was taken as an argument.
func TestFlagsAnywhereDashDashEnds(t *testing.T) {
	t.Setenv("IDEMPOTENCY_TABLE", "")
	type tc struct {
		args      []string
		rc        int
		out, errs string // substrings of stdout and stderr ("" for any)
		notInErrs string
	}
	undefined := "flag provided but not defined"
	cases := map[string][]tc{
		"scan": {
			{args: []string{"scan", samples, "--format", "json"}, rc: exitOK, out: `"name": "FilesProcessed"`},
			{args: []string{"scan", "--format", "json", "--", "-x"}, rc: exitFailed, out: `"name": "FilesFailed"`, errs: "stat -x: no such file", notInErrs: undefined},
		},
		"findings": {
			{args: []string{"findings", samples, "--format", "jsonl"}, rc: exitOK, out: `{"file":`},
			{args: []string{"findings", "--", "-x"}, rc: exitFailed, errs: "stat -x: no such file", notInErrs: undefined},
		},
		"report": {
			{args: []string{"report", samples, "--format", "json"}, rc: exitOK, out: `{`},
			{args: []string{"report", "--", "-x"}, rc: exitFailed, errs: "stat -x: no such file", notInErrs: undefined},
		},
		"invoke": {
			{args: []string{"invoke", "event.json", "-h"}, rc: exitOK, out: "usage: cognitrail invoke"},
			{args: []string{"invoke", "--", "-x"}, errs: "-x: no such file", notInErrs: undefined, rc: -1},
		},
		"backfill": {
			{args: []string{"backfill", "s3://bucket/p", "--since", "2021-01-01", "--until", "2020-01-01"}, rc: exitUsage, errs: "--until must be after --since"},
			{args: []string{"backfill", "--", "-x"}, rc: exitUsage, errs: `"-x": want s3://BUCKET[/PREFIX]`, notInErrs: undefined},
		},
		"replay": {
			{args: []string{"replay", "http://localhost/q", "--max", "-1"}, rc: exitUsage, errs: "--max must not be negative"},
			{args: []string{"replay", "--max", "-1", "--", "-x"}, rc: exitUsage, errs: "--max must not be negative", notInErrs: undefined},
		},
		"ledger": {
			{args: []string{"ledger", "reset", "bucket", "key", "--table", "t", "--etag", "e", "--version-id", "v"}, rc: exitUsage, errs: "give --version-id or --etag, not both"},
			{args: []string{"ledger", "--table", "t", "reset", "bucket", "key", "--etag", "e", "--version-id", "v"}, rc: exitUsage, errs: "give --version-id or --etag, not both"},
			{args: []string{"ledger", "reset", "--", "-x", "key"}, rc: exitUsage, errs: "no table: give --table", notInErrs: undefined},
		},
		"posture": {
			{args: []string{"posture", "x", "--format", "xml"}, rc: exitUsage, errs: `invalid value "xml" for flag -format`},
			{args: []string{"posture", "--", "-x"}, rc: exitUsage, errs: `(got "-x")`, notInErrs: undefined},
		},
	}
	for name := range commands {
		if len(cases[name]) < 2 {
			t.Errorf("%s: no cases: every command is tested", name)
		}
	}
	for name, cs := range cases {
		for _, c := range cs {
			out, errs, rc := runOut(c.args...)
			if (c.rc >= 0 && rc != c.rc) || !strings.Contains(out, c.out) || !strings.Contains(errs, c.errs) ||
				(c.notInErrs != "" && strings.Contains(errs, c.notInErrs)) {
				t.Errorf("%s %q: exit %d (want %d), stdout %.200q (want %q), stderr %.300q (want %q)", name, c.args, rc, c.rc, out, c.out, errs, c.errs)
			}
		}
	}
}

// writeUnusable writes a trail file whose second record has no usable
// eventTime, between two good records, and returns its path.
func writeUnusable(t *testing.T) string {
	t.Helper()
	good := func(id, name string) string {
		return `{"eventVersion":"1.08","eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-idp.amazonaws.com","eventName":"` + name + `","eventID":"` + id + `","awsRegion":"us-east-1"}`
	}
	path := filepath.Join(t.TempDir(), "types.json")
	body := `{"Records":[` + good("a", "InitiateAuth") + `,{"eventVersion":"1.08","eventTime":5},` + good("b", "SignUp") + `]}`
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// findings and report say on stderr that a file had unusable records, in
// scan's words: an unjudged record may be a configuration change.
func TestUnusableRecordsNoticeEveryCommand(t *testing.T) {
	path := writeUnusable(t)
	for _, args := range [][]string{
		{"scan"}, {"scan", "--format", "json"},
		{"findings"}, {"findings", "--format", "jsonl"},
		{"report"}, {"report", "--format", "json"}, {"report", "--format", "html"},
	} {
		_, errs, rc := runOut(append(args, path)...)
		want := "cognitrail " + args[0] + ": " + path + ": 1 unusable record, the first: record 1 (byte 178): trailfile: unusable record: record: missing or invalid eventTime\n"
		if rc != exitOK || errs != want {
			t.Errorf("%q: exit %d, stderr %q, want exit 0 and %q", args, rc, errs, want)
		}
	}
}

// A file's error names the file once, on stderr as in scan's table: the
// reader's error names it already.
func TestFileErrorsNameTheFileOnce(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "x.gz")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("garbage"))
	zw.Close()
	if err := os.WriteFile(bad, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.json")
	const notJSON = ": byte 0: trailfile: not JSON: gzip-compressed, but what it decompresses to is not JSON\n"
	for _, args := range [][]string{{"scan"}, {"findings"}, {"report"}, {"report", "--format", "html"}} {
		_, errs, rc := runOut(append(args, bad, missing)...)
		want := "cognitrail " + args[0] + ": " + bad + notJSON +
			"cognitrail " + args[0] + ": stat " + missing + ": no such file or directory\n"
		if rc != exitFailed || errs != want {
			t.Errorf("%q: exit %d, stderr\n%s\nwant exit 1 and\n%s", args, rc, errs, want)
		}
	}
	// scan's table names the file in its own column.
	out, _, _ := runOut("scan", bad, writeUnusable(t))
	for _, want := range []string{
		"  failed: byte 0: trailfile: not JSON",
		"  processed with unusable records: record 1 (byte 178): trailfile: unusable record",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scan's table lacks %q:\n%s", want, out)
		}
	}
}

func TestNamedUnnamed(t *testing.T) {
	for _, tc := range []struct {
		path, err, named, unnamed string
	}{
		{"s3://b/x.gz", "s3://b/x.gz: byte 0: bad", "s3://b/x.gz: byte 0: bad", "byte 0: bad"},
		{"s3://b/x.gz", "s3object: get s3://b/x.gz: denied", "s3object: get s3://b/x.gz: denied", "s3object: get s3://b/x.gz: denied"},
		{"a.json", "context canceled", "a.json: context canceled", "context canceled"},
	} {
		err := errors.New(tc.err)
		if got := named(tc.path, err); got != tc.named {
			t.Errorf("named(%q, %q) = %q, want %q", tc.path, tc.err, got, tc.named)
		}
		if got := unnamed(tc.path, err); got != tc.unnamed {
			t.Errorf("unnamed(%q, %q) = %q, want %q", tc.path, tc.err, got, tc.unnamed)
		}
	}
}

// A flag whose default is an environment variable shows one default, the
// variable, whatever the environment holds; the variable still applies
// when the flag is not given, and a flag given, even empty, wins.
func TestEnvDefaultFlags(t *testing.T) {
	t.Setenv("IDEMPOTENCY_TABLE", "cognitrail-idempotency")
	t.Setenv("CLIENT_POOLS", "not a map")
	for _, tc := range []struct{ args []string }{{[]string{"ledger", "reset", "-h"}}, {[]string{"scan", "-h"}}} {
		out, _, _ := runOut(tc.args...)
		for _, line := range strings.Split(out, "\n") {
			if strings.Count(line, "(default") > 1 || strings.Contains(line, "cognitrail-idempotency") || strings.Contains(line, "not a map") {
				t.Errorf("%q: %q: one default, the variable's name", tc.args, line)
			}
		}
	}
	for _, tc := range []struct {
		args []string
		errs string
	}{
		// The table comes from the environment: past the "no table" check.
		{[]string{"ledger", "reset", "--version-id", "v", "--etag", "e", "b", "k"}, "give --version-id or --etag, not both"},
		{[]string{"ledger", "reset", "--table", "", "b", "k"}, "no table: give --table or set IDEMPOTENCY_TABLE"},
		{[]string{"scan", samples}, "--client-pools: "},
	} {
		_, errs, rc := runOut(tc.args...)
		if rc != exitUsage || !strings.Contains(errs, tc.errs) {
			t.Errorf("%q: exit %d, stderr %q: want exit 2 and %q", tc.args, rc, errs, tc.errs)
		}
	}
	if _, errs, rc := runOut("scan", "--client-pools", "", samples); rc != exitOK {
		t.Errorf("scan --client-pools '': exit %d: %s", rc, errs)
	}
}

// What the command line gets wrong exits 2, never 1 (which invoke keeps
// for "Lambda would retry"): an event file missing or not JSON, and no AWS
// Region, found at start by every command that calls AWS in it.
func TestConfigurationErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "event.json")
	if err := os.WriteFile(notJSON, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		errs string
	}{
		{[]string{"invoke", filepath.Join(dir, "missing.json")}, "cognitrail invoke: open " + filepath.Join(dir, "missing.json") + ": no such file or directory"},
		{[]string{"invoke", notJSON}, "cognitrail invoke: " + notJSON + ": not valid JSON"},
	} {
		if _, errs, rc := runOut(tc.args...); rc != exitUsage || !strings.Contains(errs, tc.errs) {
			t.Errorf("%q: exit %d, stderr %q: want exit 2 and %q", tc.args, rc, errs, tc.errs)
		}
	}

	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "IDEMPOTENCY_TABLE"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	for _, args := range [][]string{
		{"invoke", "../../events/s3-put.json"},
		{"replay", "http://localhost/queue"},
		{"backfill", "s3://bucket"},
		{"ledger", "reset", "--table", "t", "bucket", "key"},
	} {
		_, errs, rc := runOut(args...)
		if rc != exitUsage || !strings.Contains(errs, "configuration: no AWS Region: set AWS_REGION") || !strings.HasPrefix(errs, "cognitrail "+args[0]) {
			t.Errorf("%q: exit %d, stderr %q: want exit 2 and no AWS Region", args, rc, errs)
		}
	}
}

// findings and report show scan's progress on a terminal when they read
// many files, and count every file, skipped ones too.
func TestProgressEveryCommand(t *testing.T) {
	src := filepath.Join(samples, "AWSLogs", "123456789012", "CloudTrail", "us-east-1", "2026", "11", "20")
	ents, err := os.ReadDir(src)
	if err != nil || len(ents) == 0 {
		t.Fatal(ents, err)
	}
	body, err := os.ReadFile(filepath.Join(src, ents[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for i := range 21 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%02d.json.gz", i)), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// An empty file: skipped, and counted.
	if err := os.WriteFile(filepath.Join(dir, "empty.json"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	old := isTerminal
	isTerminal = func(io.Writer) bool { return true }
	defer func() { isTerminal = old }()
	var want string
	for _, args := range [][]string{{"scan"}, {"findings"}, {"report"}, {"report", "--format", "html"}} {
		_, errs, rc := runOut(append(args, dir)...)
		lines := strings.Split(errs, "\r")
		last := lines[len(lines)-1]
		if want == "" && args[0] == "scan" {
			want = last
		}
		if rc != exitOK || !strings.HasPrefix(last, "scanned 22/22 files, ") || last != want || !strings.HasSuffix(last, " records\n") ||
			strings.HasSuffix(last, " 0 records\n") {
			t.Errorf("%q: exit %d, stderr %q: want the progress line %q", args, rc, errs, want)
		}
	}
}

package main

import (
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/internal/trailgen"
)

// concurrencyDir writes trail files whose results depend on one another:
// the same pools' settings restated from file to file (a finding only
// when a setting changes), app clients whose pool an earlier file gave,
// sign-in failures, a damaged record, a setting of the wrong type, a
// truncated file, a digest, with delivery times in some names only.
func concurrencyDir(t *testing.T) string {
	dir := t.TempDir()
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for i := range 24 {
		at := start.Add(time.Duration(i) * 5 * time.Minute)
		var b strings.Builder
		if _, err := trailgen.Write(&b, trailgen.Options{Records: 400, CognitoShare: 0.5, ConfigShare: 0.03,
			Seed: uint64(70 + i), Start: at, Span: 5 * time.Minute}); err != nil {
			t.Fatal(err)
		}
		s := b.String()
		switch i {
		case 4:
			s = strings.Replace(s, `{"eventVersion":"`, `{"eventVersion":tru"`, 1)
		case 9:
			end := strings.LastIndexByte(s, ']')
			s = s[:end] + `,{"eventVersion":"1.08","eventTime":"2026-11-20T10:46:00Z","eventSource":"cognito-idp.amazonaws.com","eventName":"SetUserPoolMfaConfig","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","requestParameters":{"userPoolId":"us-east-1_EXAMPLE1","mfaConfiguration":1},"eventID":"wrong-type","recipientAccountId":"123456789012"}` + s[end:]
		case 6, 7:
			// An app client no record names the pool of: --client-pools
			// resolves it, once a file is finished.
			end := strings.LastIndexByte(s, ']')
			s = s[:end] + `,{"eventVersion":"1.08","userIdentity":{"type":"Unknown","principalId":"Anonymous"},"eventTime":"` + at.Add(time.Minute).Format(time.RFC3339) + `","eventSource":"cognito-idp.amazonaws.com","eventName":"InitiateAuth","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.9","requestParameters":{"authFlow":"USER_SRP_AUTH","clientId":"2example98765432"},"responseElements":null,"eventID":"unpooled-client","recipientAccountId":"123456789012"}` + s[end:]
		case 13:
			s = s[:len(s)/2]
		case 17:
			s = `{"awsAccountId":"123456789012","digestStartTime":"2026-11-20T11:00:00Z","logFiles":[]}`
		}
		name := fmt.Sprintf("file%02d.json", i)
		if i%3 != 0 {
			name = fmt.Sprintf("123456789012_CloudTrail_us-east-1_%s_f%02d.json.gz", at.Add(5*time.Minute).Format("20060102T1504Z"), i)
		}
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".gz") {
			zw := gzip.NewWriter(f)
			zw.Write([]byte(s))
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
		} else {
			f.WriteString(s)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestConcurrencySameOutput: scan, findings and report print the same bytes, on
// standard output and standard error, and exit the same, whatever
// --concurrency: files are read in parallel and finished in name order.
// With two Ps, --concurrency 1 inflates each file ahead of its parser and
// the others do not, so the comparison covers read-ahead too; and
// --concurrency 1 judges each file as it is read (judgeAsRead), the others
// defer what the files before decide, so it covers both ways of judging.
func TestConcurrencySameOutput(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	if !readAhead(1, 24) || readAhead(2, 24) {
		t.Fatal("with two Ps, one file at a time should read ahead and two should not")
	}
	dir := concurrencyDir(t)
	for _, args := range [][]string{
		{"scan", "--format", "json", "--level", "full", "--client-pools", "2example98765432=us-east-1_EXAMPLE9"},
		{"scan", "--format", "jsonl", "--client-pools", "2example98765432=us-east-1_EXAMPLE9"},
		{"scan", "--format", "table"},
		{"findings", "--format", "json", "--signin-threshold", "3"},
		{"findings", "--format", "jsonl", "--signin-threshold", "3"},
		{"findings", "--format", "ocsf"},
		{"report", "--format", "json"},
		{"report", "--format", "table"},
	} {
		var want [3]string
		for _, n := range []string{"1", "2", "5", "64"} {
			out, errOut, rc := runOut(append(append(args[:len(args):len(args)], "--concurrency", n), dir)...)
			got := [3]string{out, errOut, fmt.Sprint(rc)}
			if n == "1" {
				want = got
				if len(out) < 200 || !strings.Contains(errOut, "wrong-type") && !strings.Contains(errOut, "unusable") {
					t.Fatalf("%q: the run is too thin to compare: %d bytes out, stderr %q", args, len(out), errOut)
				}
				if slices.Contains(args, "--client-pools") && !strings.Contains(out, "us-east-1_EXAMPLE9") {
					t.Fatalf("%q: the app client --client-pools names was not resolved", args)
				}
				if args[0] == "findings" && args[2] != "ocsf" && (!strings.Contains(out, `sign-in-failures-from-one-ip`) || !strings.Contains(strings.ReplaceAll(out, " ", ""), `"previous":"false"`)) {
					t.Fatalf("%q: want a per-address finding and a setting judged against an earlier file's", args)
				}
				continue
			}
			for i, what := range []string{"stdout", "stderr", "exit code"} {
				if got[i] != want[i] {
					t.Errorf("%q --concurrency %s: %s differs from --concurrency 1 (%d bytes, want %d)", args, n, what, len(got[i]), len(want[i]))
				}
			}
		}
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/internal/golden"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/metric"
)

func findingsOut(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	rc := runFindings(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), rc
}

// The findings of the sample files are pinned by golden files (rewrite with
// -update, then review).
func TestFindingsSamplesGolden(t *testing.T) {
	for _, format := range []string{"table", "json"} {
		out, errs, rc := findingsOut(t, "--format", format, samples)
		if rc != exitOK {
			t.Fatalf("%s: exit %d: %s", format, rc, errs)
		}
		golden.Check(t, filepath.Join("testdata", "findings-samples."+format), []byte(out))
	}
}

// TestFindingsAgreeWithScan: the rows of `findings --format jsonl` are the
// findings arrays of `scan --format jsonl`, record by record, and their
// count by severity and name is the Findings metric of `scan --format json`;
// each row carries the context the contract names and no hidden value.
func TestFindingsAgreeWithScan(t *testing.T) {
	out, errs, rc := findingsOut(t, "--format", "jsonl", samples)
	if rc != exitOK {
		t.Fatalf("exit %d: %s", rc, errs)
	}
	if strings.Contains(out, "HIDDEN_") {
		t.Error("a hidden value reached the output")
	}
	byRecord := map[string][]string{}
	bySeverity := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		// A finding judged over a window across files sums many
		// records: no one record's actor or user agent speaks for it.
		window := strings.HasPrefix(fmt.Sprint(row["eventID"]), "window-")
		for _, k := range []string{"time", "severity", "finding", "account", "region", "operation", "actor", "sourceIPAddress", "userAgent", "eventID", "file", "index"} {
			if window && (k == "actor" || k == "userAgent") {
				continue
			}
			if _, ok := row[k]; !ok {
				t.Errorf("row has no %s: %s", k, sc.Text())
			}
		}
		if _, ok := finding.Lookup(row["finding"].(string)); !ok {
			t.Errorf("unknown finding %v", row["finding"])
		}
		key := row["file"].(string) + "#" + jsonNum(row["index"])
		byRecord[key] = append(byRecord[key], row["finding"].(string))
		bySeverity[row["severity"].(string)]++
	}
	if len(byRecord) == 0 {
		t.Fatal("no findings in the samples")
	}
	scanLines, _, _ := scanOut(t, "--format", "jsonl", samples)
	fromScan := map[string][]string{}
	sc = bufio.NewScanner(strings.NewReader(scanLines))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			File     string   `json:"file"`
			Index    int      `json:"index"`
			Findings []string `json:"findings"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		if len(line.Findings) > 0 {
			fromScan[line.File+"#"+jsonNum(float64(line.Index))] = line.Findings
		}
	}
	if len(fromScan) != len(byRecord) {
		t.Errorf("scan jsonl has findings on %d records, findings lists %d", len(fromScan), len(byRecord))
	}
	for k, v := range byRecord {
		if !slices.Equal(fromScan[k], v) {
			t.Errorf("%s: scan says %v, findings %v", k, fromScan[k], v)
		}
	}
	jsonOut, _, _ := scanOut(t, "--format", "json", samples)
	var datums []metric.Datum
	if err := json.Unmarshal([]byte(jsonOut), &datums); err != nil {
		t.Fatal(err)
	}
	metricSev := map[string]float64{}
	for _, d := range datums {
		if d.Name == metric.Findings && d.Dimensions[0].Name == metric.DimSeverity {
			metricSev[d.Dimensions[0].Value] += d.Sum()
		}
	}
	if len(metricSev) != len(bySeverity) {
		t.Errorf("Findings metric %v, rows %v", metricSev, bySeverity)
	}
	for k, v := range bySeverity {
		if metricSev[k] != v {
			t.Errorf("Findings{Severity=%s} = %v, rows %v", k, metricSev[k], v)
		}
	}
}

// A restated setting in a later file is quiet: the engine's state spans the
// files of one run.
func TestFindingsRestatedAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	rec := `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::123456789012:user/Alice","accountId":"123456789012"},"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-identity.amazonaws.com","eventName":"UpdateIdentityPool","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.1","userAgent":"aws-cli/2","requestParameters":{"identityPoolId":"us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE","allowUnauthenticatedIdentities":true},"responseElements":null,"eventID":"EID","eventType":"AwsApiCall","recipientAccountId":"123456789012"}`
	for i, name := range []string{"a.json", "b.json"} {
		body := `{"Records":[` + strings.Replace(rec, "EID", name, 1) + `]}`
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(i, err)
		}
	}
	out, errs, rc := findingsOut(t, "--format", "jsonl", dir)
	if rc != exitOK {
		t.Fatalf("exit %d: %s", rc, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `"eventID":"a.json"`) || !strings.Contains(lines[0], `"previous":"unknown"`) {
		t.Errorf("want one finding, on a.json, previous unknown; got:\n%s", out)
	}
}

func TestFindingsUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"--format", "xml", samples}, {"--signin-threshold", "0", samples}} {
		if _, _, rc := findingsOut(t, args...); rc != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, rc, exitUsage)
		}
	}
}

// TestFindingsWindowsFlag: --windows reaches the engine. The sample
// trails hold a spray across files (one address, ten users): raised by
// default, not with sprayUsers=11; a name findings does not know fails.
func TestFindingsWindowsFlag(t *testing.T) {
	for _, c := range []struct {
		args  []string
		spray bool
	}{{nil, true}, {[]string{"--windows", "sprayUsers=11"}, false}, {[]string{"--windows", "sprayUsers=10,window=15m"}, true}} {
		out, errs, rc := findingsOut(t, append(append([]string{"--format", "jsonl"}, c.args...), samples)...)
		if rc != exitOK {
			t.Fatalf("%v: exit %d: %s", c.args, rc, errs)
		}
		if got := strings.Contains(out, `"finding":"password-spray"`); got != c.spray {
			t.Errorf("%v: password-spray raised %v, want %v", c.args, got, c.spray)
		}
	}
	if _, errs, rc := findingsOut(t, "--windows", "sprayusers=3", samples); rc != exitUsage || !strings.Contains(errs, "sprayusers") {
		t.Errorf("an unknown name: exit %d, %s", rc, errs)
	}
}

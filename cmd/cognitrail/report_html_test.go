package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/internal/browser"
	"github.com/cognitrail/cognitrail/internal/trailgen"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/report"
)

var updateShots = flag.Bool("update-screenshots", false, "rewrite testdata/report-*.png from the page test")

// scanTotals runs `scan --format json` and sums each metric's datums that
// have no dimension (Findings: by Severity, its basic set).
func scanTotals(t *testing.T, paths ...string) map[string]float64 {
	t.Helper()
	var out, errb bytes.Buffer
	if rc := runScan(context.Background(), append([]string{"--format", "json"}, paths...), &out, &errb); rc != exitOK {
		t.Fatalf("scan: exit %d: %s", rc, errb.String())
	}
	var ds []metric.Datum
	if err := json.Unmarshal(out.Bytes(), &ds); err != nil {
		t.Fatal(err)
	}
	tot := map[string]float64{}
	for _, d := range ds {
		switch {
		case len(d.Dimensions) == 0:
			tot[d.Name] += d.Sum()
		case d.Name == metric.Findings && len(d.Dimensions) == 1 && d.Dimensions[0].Name == metric.DimSeverity:
			tot[d.Name] += d.Sum()
		}
	}
	return tot
}

var (
	sumAttr  = regexp.MustCompile(`data-signal="([^"]+)" data-sum="(\d+)"`)
	pointsRe = regexp.MustCompile(`data-points="(\d+)"`)
	rowRe    = regexp.MustCompile(`(?s)<table id="findings".*?</table>`)
)

// renderHTML writes `report --format html` of paths to a file.
func renderHTML(t *testing.T, paths ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if rc := runReport(context.Background(), append([]string{"--format", "html"}, paths...), &out, &errb); rc != exitOK {
		t.Fatalf("report --format html: exit %d: %s", rc, errb.String())
	}
	// Self-contained: nothing on the page names another place to load from.
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:)?//`).Find(out.Bytes()); m != nil {
		t.Fatalf("the page loads %s", m)
	}
	file := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// checkPage reads the DOM Chromium rendered (network off) and holds its
// numbers to `scan --format json` of the same files.
func checkPage(t *testing.T, bin, file string, tot map[string]float64, width int) string {
	t.Helper()
	dom := string(browser.DumpDOM(t, bin, file, width, 2000))
	charts := strings.Count(dom, `<svg class="chart"`)
	if charts == 0 {
		t.Fatalf("width %d: no chart in the rendered page", width)
	}
	sums := map[string]int{}
	for _, m := range sumAttr.FindAllStringSubmatch(dom, -1) {
		n, _ := strconv.Atoi(m[2])
		sums[m[1]] += n
	}
	if strings.Contains(dom, "quieter pools not drawn") {
		t.Fatalf("pools omitted: the sums below would not add up")
	}
	for sig, name := range map[string]string{"sign-in failures": metric.SignInFailures, "ForgotPassword": metric.ForgotPasswordRequests} {
		if got, want := float64(sums[sig]), tot[name]; got != want {
			t.Errorf("width %d: %s drawn %v, scan says %s %v", width, sig, got, name, want)
		}
	}
	if want := fmt.Sprintf("%d records", int(tot[metric.RecordsRead])); !strings.Contains(dom, want) {
		t.Errorf("width %d: page does not say %q", width, want)
	}
	rows := strings.Count(rowRe.FindString(dom), "<tr>") - 1 // less the header
	if want := min(int(tot[metric.Findings]), report.MaxRows); rows != want {
		t.Errorf("width %d: %d finding rows, scan counts %v findings", width, rows, tot[metric.Findings])
	}
	for _, m := range pointsRe.FindAllStringSubmatch(dom, -1) {
		if n, _ := strconv.Atoi(m[1]); n < 1 || n > report.MaxPoints {
			t.Errorf("width %d: a chart of %d points", width, n)
		}
	}
	return dom
}

// TestReportHTMLInBrowser renders the page of the sample files in headless
// Chromium with the network off, at a desktop and a phone width, and
// checks the DOM against `scan --format json`; -update-screenshots saves
// the screenshots the README shows.
func TestReportHTMLInBrowser(t *testing.T) {
	bin := browser.Find(t)
	file := renderHTML(t, samples)
	tot := scanTotals(t, samples)
	for _, width := range []int{1280, 390} {
		checkPage(t, bin, file, tot, width)
		shot := filepath.Join(t.TempDir(), "shot.png")
		browser.Screenshot(t, bin, file, shot, width, 1600)
		f, err := os.Open(shot)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != width {
			t.Errorf("screenshot %dx%d, want width %d", b.Dx(), b.Dy(), width)
		}
		if *updateShots {
			b, _ := os.ReadFile(shot)
			if err := os.WriteFile(filepath.Join("testdata", fmt.Sprintf("report-%d.png", width)), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestReportHTMLMonth: a month of generated files draws charts of at most
// MaxPoints points and a page of bounded size, whose numbers still add up.
func TestReportHTMLMonth(t *testing.T) {
	bin := browser.Find(t)
	dir := t.TempDir()
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for day := range 30 {
		at := start.Add(time.Duration(day) * 24 * time.Hour)
		name := filepath.Join(dir, fmt.Sprintf("123456789012_CloudTrail_us-east-1_%s_month%02d.json.gz", at.Add(24*time.Hour).Format("20060102T1504Z"), day))
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := trailgen.Write(zw, trailgen.Options{Records: 400, Seed: uint64(day + 1), CognitoShare: 0.6, ConfigShare: 0.01, Start: at, Span: 24 * time.Hour}); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	file := renderHTML(t, dir)
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("a month of files: a page of %d bytes", st.Size())
	if st.Size() > 1<<20 {
		t.Errorf("a month's page is %d bytes", st.Size())
	}
	dom := checkPage(t, bin, file, scanTotals(t, dir), 1280)
	if !strings.Contains(dom, "one point per 1h4m0s") {
		t.Errorf("a month should be drawn in 64-minute points (720 at most)")
	}
}

package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/cognitrail/cognitrail/internal/trailgen"
)

// benchChildEnv, when set in a test binary's environment, makes it run the
// command line it holds (JSON) instead of the tests: the benchmarks below
// measure each command's peak RSS in a process of its own.
const benchChildEnv = "COGNITRAIL_BENCH_ARGS"

func TestMain(m *testing.M) {
	if js := os.Getenv(benchChildEnv); js != "" {
		var args []string
		if err := json.Unmarshal([]byte(js), &args); err != nil {
			panic(err)
		}
		os.Exit(run(context.Background(), args, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// longSpanFile writes the month-long file: 100,000 records (about
// 200 MB uncompressed) whose eventTimes spread over 30 days, as a backfill
// or a directory of a month of files gives.
func longSpanFile(b *testing.B) string {
	path := filepath.Join(b.TempDir(), "123456789012_CloudTrail_us-east-1_20261201T0000Z_month.json.gz")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if _, err := trailgen.Write(zw, trailgen.Options{Records: 100_000, CognitoShare: 0.1, Seed: 9, Start: start, Span: 30 * 24 * time.Hour}); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	return path
}

// BenchmarkScanMonthRSS runs `cognitrail scan` and `scan --format json` on
// the month-long file, each in a child process, and reports the child's
// peak RSS (target: at most 64 MB).
func BenchmarkScanMonthRSS(b *testing.B) {
	path := longSpanFile(b)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"table", []string{"scan", path}},
		{"json", []string{"scan", "--format", "json", path}},
	} {
		b.Run(c.name, func(b *testing.B) {
			js, _ := json.Marshal(c.args)
			var peak int64
			for b.Loop() {
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), benchChildEnv+"="+string(js))
				cmd.Stderr = os.Stderr
				if err := cmd.Run(); err != nil {
					b.Fatal(err)
				}
				if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
					// Linux reports ru_maxrss in kilobytes.
					peak = max(peak, ru.Maxrss<<10)
				}
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
		})
	}
}

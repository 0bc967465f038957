package scan_test

import (
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/cognitrail/cognitrail/internal/trailgen"
	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/scan"
)

// benchFiles drives the benchmarks and the throughput test: generated trail
// files of several shapes and sizes.
var benchFiles = []struct {
	name string
	opts trailgen.Options
}{
	{"account-trail-32MB", trailgen.Options{Bytes: 32 << 20, CognitoShare: 0.1, Seed: 1}},
	{"cognito-heavy-8MB", trailgen.Options{Bytes: 8 << 20, CognitoShare: 0.9, Seed: 2}},
	{"small-100-records", trailgen.Options{Records: 100, CognitoShare: 0.2, Seed: 3}},
	// 1 % configuration calls, the records whose requests the findings decode.
	{"config-1pct-8MB", trailgen.Options{Bytes: 8 << 20, CognitoShare: 0.1, ConfigShare: 0.01, Seed: 5}},
}

type genFile struct {
	gz      []byte
	plain   int64
	records int
}

var (
	genMu    sync.Mutex
	genCache = map[string]genFile{}
)

func generated(tb testing.TB, name string, o trailgen.Options) genFile {
	genMu.Lock()
	defer genMu.Unlock()
	if g, ok := genCache[name]; ok {
		return g
	}
	var plain, gz bytes.Buffer
	n, err := trailgen.Write(&plain, o)
	if err != nil {
		tb.Fatal(err)
	}
	zw := gzip.NewWriter(&gz)
	zw.Write(plain.Bytes())
	zw.Close()
	g := genFile{gz: gz.Bytes(), plain: int64(plain.Len()), records: n}
	genCache[name] = g
	return g
}

// cpuTime is the process's user+system CPU time: it includes the garbage
// collector's work on other threads, which wall time on several cores hides.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func inflate(gz []byte) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		panic(err)
	}
	io.Copy(io.Discard, zr)
}

// benchDelivered is when the benchmark files are delivered: a quarter of an
// hour after trailgen's default start.
var benchDelivered = time.Date(2026, 11, 20, 10, 15, 0, 0, time.UTC)

func scanOnce(tb testing.TB, gz []byte) scan.Result { return scanWith(tb, gz, nil) }

func scanWith(tb testing.TB, gz []byte, e *finding.Engine) scan.Result {
	return scanAt(tb, gz, e, benchDelivered)
}

func scanAt(tb testing.TB, gz []byte, e *finding.Engine, delivered time.Time) scan.Result {
	agg := aggregate.New(nil)
	res, err := scan.File(context.Background(), bytes.NewReader(gz), agg,
		&scan.Options{DeliveredAt: delivered, Findings: e})
	if err != nil || res.Err != nil {
		tb.Fatal(err, res.Err)
	}
	_ = slices.Collect(agg.All())
	return res
}

// naive is the approach the engine is measured against: read the whole file
// and unmarshal it into maps.
func naive(gz []byte) int {
	zr, _ := stdgzip.NewReader(bytes.NewReader(gz))
	data, _ := io.ReadAll(zr)
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		panic(err)
	}
	n := 0
	for _, r := range doc["Records"].([]any) {
		if src, _ := r.(map[string]any)["eventSource"].(string); strings.HasPrefix(src, "cognito") {
			n++
		}
	}
	return n
}

func report(b *testing.B, cpu time.Duration, g genFile) {
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(g.records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(g.plain)*float64(b.N)/cpu.Seconds()/1e6, "cpu-MB/s")
}

// benchEach runs the operation prepare returns (for the sub-benchmark b)
// once per iteration on every benchmark file, reporting throughput of uncompressed JSON per CPU second.
func benchEach(b *testing.B, prepare func(b *testing.B, g genFile) func()) {
	for _, f := range benchFiles {
		b.Run(f.name, func(b *testing.B) {
			g := generated(b, f.name, f.opts)
			op := prepare(b, g)
			b.SetBytes(g.plain)
			b.ReportAllocs()
			c0 := cpuTime()
			for b.Loop() {
				op()
			}
			report(b, cpuTime()-c0, g)
		})
	}
}

func BenchmarkInflate(b *testing.B) {
	benchEach(b, func(b *testing.B, g genFile) func() { return func() { inflate(g.gz) } })
}

func BenchmarkScan(b *testing.B) {
	benchEach(b, func(b *testing.B, g genFile) func() { return func() { scanOnce(b, g.gz) } })
}

// BenchmarkScanFindings is BenchmarkScan with the findings engine on, as the
// CLI and the Lambda run it: compare the two on the same file. Each pass
// starts from an empty state, so every watched setting is new (the worst
// case: a decode and a finding per configuration call).
func BenchmarkScanFindings(b *testing.B) {
	benchEach(b, func(b *testing.B, g genFile) func() {
		return func() { scanWith(b, g.gz, finding.New(nil)) }
	})
}

func BenchmarkNaive(b *testing.B) {
	benchEach(b, func(b *testing.B, g genFile) func() { return func() { naive(g.gz) } })
}

// BenchmarkScanPlain scans uncompressed JSON from memory: the engine's own
// cost (framing, decoding, classifying, aggregating) without inflate.
func BenchmarkScanPlain(b *testing.B) {
	benchEach(b, func(b *testing.B, g genFile) func() {
		zr, _ := gzip.NewReader(bytes.NewReader(g.gz))
		plain, _ := io.ReadAll(zr)
		return func() { scanOnce(b, plain) }
	})
}

// BenchmarkCPURatio reports the two ratios the engine's targets are stated
// in: scan CPU over inflate-only CPU (target <= 1.4; wall time over the
// floor's beside it) and naive CPU over scan CPU (target >= 4.5), on the
// account-trail file; and scan over inflate on a 200 MB file whose records
// span 15 hours (a backfill's shape: many minutes, every record a distinct
// delivery lag; target <= 1.4), where the naive decoder, holding the whole
// file, is not run.
func BenchmarkCPURatio(b *testing.B) {
	b.Run(benchFiles[0].name, func(b *testing.B) {
		cpuRatio(b, generated(b, benchFiles[0].name, benchFiles[0].opts), benchDelivered, true)
	})
	b.Run("span-15h-200MB", func(b *testing.B) {
		start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
		o := trailgen.Options{Bytes: 200 << 20, CognitoShare: 0.1, Seed: 6, Start: start, Span: 15 * time.Hour}
		// Delivered after its last record, as a backfilled file is.
		cpuRatio(b, generated(b, "span-15h-200MB", o), start.Add(15*time.Hour+5*time.Minute), false)
	})
}

func cpuRatio(b *testing.B, g genFile, delivered time.Time, withNaive bool) {
	var inflateCPU, scanCPU, naiveCPU, inflateWall, scanWall time.Duration
	for b.Loop() {
		runtime.GC()
		c0, w0 := cpuTime(), time.Now()
		inflate(g.gz)
		c1, w1 := cpuTime(), time.Now()
		scanAt(b, g.gz, nil, delivered)
		c2, w2 := cpuTime(), time.Now()
		if withNaive {
			naive(g.gz)
		}
		c3 := cpuTime()
		inflateCPU += c1 - c0
		scanCPU += c2 - c1
		naiveCPU += c3 - c2
		inflateWall += w1.Sub(w0)
		scanWall += w2.Sub(w1)
	}
	b.ReportMetric(float64(scanCPU)/float64(inflateCPU), "scan/inflate")
	// Wall time over the floor's: what the function is billed for. It
	// equals the CPU ratio while the scan runs on one goroutine.
	b.ReportMetric(float64(scanWall)/float64(inflateWall), "wall/inflate")
	if withNaive {
		b.ReportMetric(float64(naiveCPU)/float64(scanCPU), "naive/scan")
	}
}

// BenchmarkLargeFile scans a generated 200 MB (uncompressed) trail file from
// disk and reports the peak resident set size, which must stay flat in the
// file's size. Run it alone (make bench does) so nothing else inflates the
// peak.
func BenchmarkLargeFile(b *testing.B) {
	path := filepath.Join(b.TempDir(), "large.json.gz")
	n, err := trailgen.WriteFile(path, gzip.BestSpeed, trailgen.Options{Bytes: 200 << 20, CognitoShare: 0.1, Seed: 4})
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	resetPeakRSS()
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		agg := aggregate.New(nil)
		res, err := scan.File(context.Background(), f, agg, nil)
		f.Close()
		if err != nil || res.Err != nil || res.Records != n {
			b.Fatalf("records %d of %d: %v %v", res.Records, n, err, res.Err)
		}
		b.SetBytes(res.Uncompressed)
	}
	if peak := peakRSS(); peak > 0 {
		b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
	}
}

// resetPeakRSS asks Linux to restart the VmHWM high-water mark.
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS returns VmHWM in bytes, or 0 where /proc is not available.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// windowState counts what a file asks of the finding State for the
// windows across files (finding.Engine.Windows): the window subjects it
// reads (Get) and merges (Put; once provisional, once committed) and the
// bytes of the entries it writes. In the ledger table (ledger.Settings) a
// read is a GetItem and a merge a GetItem and an UpdateItem.
type windowState struct {
	finding.State
	subjects      map[string]bool
	reads, merges int
	bytes         int
}

func (s *windowState) Get(_ context.Context, k string) ([]finding.Entry, error) {
	if finding.WindowKey(k) {
		s.reads++
	}
	return s.State.Get(context.Background(), k)
}

func (s *windowState) Put(_ context.Context, m map[string][]finding.Entry) error {
	for k, es := range m {
		if finding.WindowKey(k) {
			s.subjects[k] = true
			s.merges++
			for _, e := range es {
				s.bytes += len(k) + len(e.EventID) + len(e.Value) + len(time.RFC3339Nano)
			}
		}
	}
	return s.State.Put(context.Background(), m)
}

// BenchmarkScanWindowState scans each file with the findings engine over
// a State that counts the window subjects, reads and merges, commits it as
// the function does, and reports them per file with the bytes written and
// the DynamoDB requests they make in the ledger table, and the time, to
// compare with BenchmarkScanFindings.
func BenchmarkScanWindowState(b *testing.B) {
	for _, f := range benchFiles {
		g := generated(b, f.name, f.opts)
		b.Run(f.name, func(b *testing.B) {
			var st *windowState
			for b.Loop() {
				st = &windowState{State: finding.NewMemoryState(), subjects: map[string]bool{}}
				e := finding.New(&finding.Options{State: st})
				scanWith(b, g.gz, e)
				if err := e.Commit(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(st.subjects)), "subjects/file")
			b.ReportMetric(float64(st.reads+2*st.merges), "requests/file")
			b.ReportMetric(float64(st.bytes), "bytes/file")
		})
	}
}

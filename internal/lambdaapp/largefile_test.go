package lambdaapp

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/gzip"

	"github.com/cognitrail/cognitrail/internal/trailgen"
	"github.com/cognitrail/cognitrail/pkg/metric"
)

// BenchmarkLargeObject runs the handler, as deployed (S3 GetObject stream,
// DynamoDB ledger, PutMetricData, all against moto_server), on a generated
// 200 MB (uncompressed) trail object, and reports the process's peak RSS
// while handling it: the figure to compare with a 256 MB Lambda. It takes
// about half a minute, so it runs only with -bench:
//
//	go test -run '^$' -bench LargeObject -benchtime 1x ./internal/lambdaapp
func BenchmarkLargeObject(b *testing.B) {
	largeObject(b, trailgen.Options{Bytes: 200 << 20, CognitoShare: 0.1, Seed: 7, Start: time.Now().Add(-time.Hour).Truncate(time.Minute)})
}

// BenchmarkLargeObjectMonth is BenchmarkLargeObject on the month-long file:
// 100,000 records whose eventTimes spread over the last 30 days, half of
// them older than CloudWatch accepts (target: at most 64 MB peak RSS).
func BenchmarkLargeObjectMonth(b *testing.B) {
	const span = 30 * 24 * time.Hour
	largeObject(b, trailgen.Options{Records: 100_000, CognitoShare: 0.1, Seed: 9, Start: time.Now().Add(-span).Truncate(time.Minute), Span: span})
}

func largeObject(b *testing.B, gen trailgen.Options) {
	if server == nil {
		b.Skip("moto_server not available")
	}
	if err := server.Reset(); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "large.json.gz")
	n, err := trailgen.WriteFile(path, gzip.BestSpeed, gen)
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	size, _ := f.Seek(0, 2)
	f.Seek(0, 0)

	cfg := Config{
		Namespace: "CognitrailLarge", Sink: SinkCloudWatch, Level: metric.Standard,
		IdempotencyTable: "cognitrail-large", CloudWatchProtocol: ProtocolJSON, S3UsePathStyle: true,
	}
	awsCfg := server.AWSConfig()
	s3c := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = true })
	ctx := context.Background()
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		b.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(kSpace), Body: f, ContentLength: aws.Int64(size)}); err != nil {
		b.Fatal(err)
	}
	f.Close()
	if err := createTable(ctx, cfg.IdempotencyTable); err != nil {
		b.Fatal(err)
	}
	var logs strings.Builder
	h, err := New(cfg, awsCfg, os.Stderr, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		b.Fatal(err)
	}
	ev := json.RawMessage(s3Event(s3Record(kSpace, "", int(size))))

	runtime.GC()
	debug.FreeOSMemory()
	before := procStatus("VmRSS")
	resetPeakRSS()
	start := time.Now()
	for b.Loop() {
		hctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		resp, err := h.Handle(hctx, ev)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("response %+v; %d records in %d bytes compressed", resp, n, size)
	}
	elapsed := time.Since(start)
	if want := `"records":` + strconv.Itoa(n) + `,`; !strings.Contains(logs.String(), want) || !strings.Contains(logs.String(), `"outcome":"processed"`) {
		b.Fatalf("the object was not read whole (%s): %.2000s", want, logs.String())
	}
	peak := procStatus("VmHWM")
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(before)/(1<<20), "RSS-before-MB")
	b.ReportMetric(float64(inflated(b, path))/(1<<20)/elapsed.Seconds()*float64(b.N), "MB/s")
}

// resetPeakRSS asks Linux to restart the VmHWM high-water mark.
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// procStatus returns a /proc/self/status size field in bytes (0 if absent).
func procStatus(field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// inflated returns the uncompressed size of the gzip file at path.
func inflated(b *testing.B, path string) int64 {
	n, err := trailgen.Inflate(path)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

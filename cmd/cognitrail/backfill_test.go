package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognitrail/cognitrail/internal/lambdaapp"
	"github.com/cognitrail/cognitrail/internal/motoserver"
	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/notification"
	"github.com/cognitrail/cognitrail/pkg/scan"
)

// listRecorder proxies to moto_server and records every ListObjectsV2
// request's prefix and delimiter.
type listRecorder struct {
	mu    sync.Mutex
	lists []url.Values
}

func (r *listRecorder) start(t *testing.T, target string) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if q := req.URL.Query(); req.Method == http.MethodGet && q.Get("list-type") == "2" {
			r.mu.Lock()
			r.lists = append(r.lists, q)
			r.mu.Unlock()
		}
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (r *listRecorder) take() []url.Values {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.lists
	r.lists = nil
	return out
}

// backfillKeys: the sample trail files (2026-11-20, with digest and Insights
// files) and copies of them under other dates, accounts, Regions and the
// organization layout, all under the trail prefix "trails"; plus objects
// backfill must not read.
func backfillKeys(t *testing.T) (map[string][]byte, []string) {
	t.Helper()
	root := filepath.Join("..", "..", "events", "trails")
	files := map[string][]byte{}
	var bodies [][]byte
	err := filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files["trails/"+filepath.ToSlash(rel)] = b
		if strings.Contains(rel, "/CloudTrail/") {
			bodies = append(bodies, b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	gen := func(org, account, region, day, hhmm, id string) string {
		d := strings.ReplaceAll(day, "/", "")
		k := fmt.Sprintf("trails/AWSLogs/%s%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%sT%sZ_%s.json.gz", org, account, region, day, account, region, d, hhmm, id)
		files[k] = bodies[len(files)%len(bodies)]
		return k
	}
	gen("", "123456789012", "us-east-1", "2026/11/18", "2355", "before")
	gen("", "123456789012", "us-east-1", "2026/11/19", "0000", "first")
	gen("", "111111111111", "ap-south-1", "2026/11/19", "1230", "other-account")
	gen("o-a1b2c3d4e5/", "222222222222", "eu-central-1", "2026/11/20", "2355", "org")
	gen("o-a1b2c3d4e5/", "222222222222", "eu-central-1", "2026/11/21", "0000", "after")
	files["trails/AWSLogs/123456789012/elasticloadbalancing/us-east-1/2026/11/20/lb.log.gz"] = []byte("not a trail")
	files["elsewhere/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/123456789012_CloudTrail_us-east-1_20261120T1005Z_x.json.gz"] = bodies[0]
	var in []string
	for k := range files {
		if strings.HasPrefix(k, "trails/") && !strings.Contains(k, "elasticloadbalancing") &&
			!strings.Contains(k, "/2026/11/18/") && !strings.Contains(k, "/2026/11/21/") {
			in = append(in, k)
		}
	}
	slices.Sort(in)
	return files, in
}

// sortedLines returns s's lines sorted, with runs of blanks folded: the
// table columns are padded to the longest file name, which is an s3:// URL
// in one output and a temporary directory of varying length in the other.
func sortedLines(s string) []string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	for i := range l {
		l[i] = strings.Join(strings.Fields(l[i]), " ")
	}
	slices.Sort(l)
	return l
}

// TestBackfill runs `cognitrail backfill` against moto_server: only the days
// asked for are listed, the summary is `cognitrail scan`'s on the same
// files, and --publish counts each file once across a file the function
// already processed, an interrupted run and two full runs.
func TestBackfill(t *testing.T) {
	srv := motoserver.StartT(t)
	ctx := context.Background()
	cfg := srv.AWSConfig()
	const bucket, table = "cognitrail-backfill", "cognitrail-backfill-ledger"
	s3c := newBucket(t, cfg, bucket, table)
	files, inRange := backfillKeys(t)
	for k, b := range files {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: bytes.NewReader(b)}); err != nil {
			t.Fatal(err)
		}
	}
	// The same files on disk, for `cognitrail scan`, and what the engine
	// counts in them.
	dir := t.TempDir()
	var wantRecords float64
	var logFiles []string
	for _, k := range inRange {
		p := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(k, "trails/")))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, files[k], 0o644); err != nil {
			t.Fatal(err)
		}
		if (notification.Object{Key: k, Size: int64(len(files[k]))}).SkipReason() == "" {
			res, err := scan.File(ctx, bytes.NewReader(files[k]), aggregate.New(nil), nil)
			if err != nil {
				t.Fatal(err)
			}
			wantRecords += float64(res.Records)
			logFiles = append(logFiles, k)
		}
	}

	rec := &listRecorder{}
	pointAtMoto(t, rec.start(t, srv.Endpoint))
	args := []string{"s3://" + bucket + "/trails", "--since", "2026-11-19", "--until", "2026-11-21", "--concurrency", "3"}

	t.Run("summary", func(t *testing.T) {
		var out, errb bytes.Buffer
		if code := runBackfill(ctx, args, &out, &errb); code != exitOK {
			t.Fatalf("exit %d\n%s", code, errb.String())
		}
		lists := rec.take()
		days := 0
		for _, q := range lists {
			p := q.Get("prefix")
			if !strings.HasPrefix(p, "trails/AWSLogs/") || strings.Contains(p, "elasticloadbalancing") {
				t.Errorf("listed %q", p)
			}
			if q.Get("delimiter") == "" {
				days++
				if !strings.HasSuffix(p, "/2026/11/19/") && !strings.HasSuffix(p, "/2026/11/20/") {
					t.Errorf("listed %q whole, outside the days asked for", p)
				}
			}
		}
		// Six account/service/Region directories, two days each.
		if days != 12 {
			t.Errorf("%d day listings, want 12: %v", days, lists)
		}
		scanned, scanErr, code := scanOut(t, dir)
		if code != exitOK {
			t.Fatalf("scan: exit %d: %s", code, scanErr)
		}
		got := strings.ReplaceAll(out.String(), "s3://"+bucket+"/trails", dir)
		if !slices.Equal(sortedLines(got), sortedLines(scanned)) {
			t.Errorf("backfill summary:\n%s\nscan of the same files:\n%s", got, scanned)
		}
		if !strings.Contains(scanned, fmt.Sprintf("%d processed", len(logFiles))) {
			t.Errorf("scan summary does not count %d files:\n%s", len(logFiles), scanned)
		}
	})

	t.Run("publish", func(t *testing.T) {
		t.Setenv(lambdaapp.EnvIdempotencyTable, table)
		t.Setenv(lambdaapp.EnvCloudWatchProtocol, "json")
		t.Setenv(lambdaapp.EnvNamespace, "CognitoTrailLocal")
		t.Setenv(lambdaapp.EnvMaxDatumAge, "off")
		// The function processes one of the files first (an S3 event).
		first := logFiles[0]
		head, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(first)})
		if err != nil {
			t.Fatal(err)
		}
		ev, _ := json.Marshal(map[string]any{"Records": []any{map[string]any{
			"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "eventTime": time.Now().UTC().Format(time.RFC3339),
			"s3": map[string]any{"bucket": map[string]any{"name": bucket}, "object": map[string]any{
				"key": encodeKey(first), "size": len(files[first]), "eTag": aws.ToString(head.ETag)}},
		}}})
		evFile := filepath.Join(t.TempDir(), "event.json")
		if err := os.WriteFile(evFile, ev, 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		if code := runInvoke(ctx, []string{evFile}, &out, &errb); code != exitOK {
			t.Fatalf("invoke: exit %d\n%s", code, errb.String())
		}
		firstRecords := recordsRead(t, srv)
		if firstRecords == 0 || firstRecords >= wantRecords {
			t.Fatalf("after the function: RecordsRead %v (all files: %v)", firstRecords, wantRecords)
		}
		// Interrupted before it starts: nothing more is counted.
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if code := runBackfill(cancelled, append(args, "--publish"), &out, &errb); code != exitFailed {
			t.Errorf("interrupted run: exit %d, want %d", code, exitFailed)
		}
		if got := recordsRead(t, srv); got != firstRecords {
			t.Errorf("after an interrupted run: RecordsRead %v, want %v", got, firstRecords)
		}
		for round := range 2 {
			out.Reset()
			errb.Reset()
			if code := runBackfill(ctx, append(args, "--publish"), &out, &errb); code != exitOK {
				t.Fatalf("round %d: exit %d\n%s", round, code, errb.String())
			}
			published := len(logFiles) - 1
			if round == 1 {
				published = 0
			}
			if want := fmt.Sprintf("%d published", published); !strings.Contains(out.String(), want) {
				t.Errorf("round %d: %q, want %q", round, out.String(), want)
			}
			// The event lines feed the function's log group; on the
			// terminal they would bury the progress (LOG_LEVEL applies).
			if strings.Contains(errb.String(), `"message":"cognito_event"`) || strings.Contains(errb.String(), `"message":"finding"`) {
				t.Errorf("round %d: event lines on stderr:\n%.500s", round, errb.String())
			}
			if got := recordsRead(t, srv); got != wantRecords {
				t.Errorf("round %d: RecordsRead %v, want %v (each file once)", round, got, wantRecords)
			}
		}
	})
}

func TestBackfillUsage(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"bucket/prefix"},
		{"s3://"},
		{"s3://b", "--since", "yesterday"},
		{"s3://b", "--since", "2026-11-20", "--until", "2026-11-19"},
		{"s3://b", "--concurrency", "0"},
		{"s3://a", "s3://b"},
	} {
		var out, errb bytes.Buffer
		if code := runBackfill(context.Background(), args, &out, &errb); code != exitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, exitUsage)
		}
	}
}

func TestRootAndFloor(t *testing.T) {
	for in, want := range map[string]string{
		"": "AWSLogs/", "org": "org/AWSLogs/", "org/": "org/AWSLogs/",
		"AWSLogs/o-a1b2c3d4e5/": "AWSLogs/o-a1b2c3d4e5/", "x/AWSLogs/1234": "x/AWSLogs/1234",
	} {
		if got := root(in); got != want {
			t.Errorf("root(%q) = %q, want %q", in, got, want)
		}
	}
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	// The sink's own cut (its minute of slack included): a file delivered
	// before it holds only datums the sink drops.
	if got := publishFloor(now, 0); !got.Equal(now.Add(-14*24*time.Hour + time.Minute)) {
		t.Errorf("floor %v", got)
	}
	if got := publishFloor(now, -1); !got.IsZero() {
		t.Errorf("floor with the check off %v", got)
	}
}

// A damaged file is named once on stderr: the reader's error names it
// already (it said "s3://B/K: s3://B/K: byte 0: ...").
func TestBackfillBadFileNamedOnce(t *testing.T) {
	srv := motoserver.StartT(t)
	ctx := context.Background()
	cfg := srv.AWSConfig()
	const bucket = "cognitrail-backfill-bad"
	const key = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/123456789012_CloudTrail_us-east-1_20261120T1005Z_bad.json.gz"
	s3c := newBucket(t, cfg, bucket)
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("not a trail file")}); err != nil {
		t.Fatal(err)
	}
	pointAtMoto(t, srv.Endpoint)
	var out, errb bytes.Buffer
	if code := runBackfill(ctx, []string{"s3://" + bucket, "--since", "2026-11-20", "--until", "2026-11-21"}, &out, &errb); code != exitFailed {
		t.Fatalf("exit %d, want %d\n%s", code, exitFailed, errb.String())
	}
	url := "s3://" + bucket + "/" + key
	want := "cognitrail backfill: " + url + ": byte 0: trailfile: not JSON"
	if !strings.Contains(errb.String(), want) || strings.Count(errb.String(), url) != 1 {
		t.Errorf("stderr:\n%s\nwant the file named once: %q", errb.String(), want)
	}
	if !strings.Contains(out.String(), key+"  failed: byte 0: trailfile: not JSON") {
		t.Errorf("summary:\n%s\nwant the file's line without its name repeated", out.String())
	}
}

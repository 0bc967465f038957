package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognitrail/cognitrail/internal/lambdaapp"
	"github.com/cognitrail/cognitrail/internal/ledgertable"
	"github.com/cognitrail/cognitrail/internal/motoserver"
	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/ledger"
	"github.com/cognitrail/cognitrail/pkg/scan"
)

// `cognitrail ledger reset` against moto_server: an object processed, then
// skipped as a duplicate, is reset and counted again on its next delivery;
// an object an invocation holds is refused; a missing item is named.
func TestLedgerReset(t *testing.T) {
	srv := motoserver.StartT(t)
	ctx := context.Background()
	cfg := srv.AWSConfig()
	const bucket, table, namespace = "cognitrail-reset-trail", "cognitrail-reset-ledger", "CognitrailLedgerReset"
	const key = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/123456789012_CloudTrail_us-east-1_20261120T1005Z_8JAzOHLe8aWvIpQn.json.gz"
	body, err := os.ReadFile(filepath.Join("..", "..", "events", "trails", filepath.FromSlash(key)))
	if err != nil {
		t.Fatal(err)
	}
	body = restateSettings(t, body)
	res, err := scan.File(ctx, bytes.NewReader(body), aggregate.New(nil), nil)
	if err != nil || res.Records == 0 {
		t.Fatalf("sample file: %+v, %v", res, err)
	}
	s3c := newBucket(t, cfg, bucket)
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	if err := ledgertable.Create(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(body)
	etag := hex.EncodeToString(sum[:])
	event := filepath.Join(t.TempDir(), "s3-put.json")
	if err := os.WriteFile(event, fmt.Appendf(nil, `{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",`+
		`"eventTime":"2026-11-20T10:10:12.000Z","eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0",`+
		`"bucket":{"name":%q,"arn":"arn:aws:s3:::%s"},"object":{"key":%q,"size":%d,"eTag":%q,"sequencer":"00673DB5E2C4A1B3F1"}}}]}`,
		bucket, bucket, key, len(body), etag), 0o644); err != nil {
		t.Fatal(err)
	}

	pointAtMoto(t, srv.Endpoint)
	t.Setenv(lambdaapp.EnvIdempotencyTable, table)
	t.Setenv(lambdaapp.EnvCloudWatchProtocol, "json")
	t.Setenv(lambdaapp.EnvNamespace, namespace)
	t.Setenv(lambdaapp.EnvMaxDatumAge, "off")

	// invoke returns the number of finding lines the invocation logged.
	invoke := func(want string) int {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := runInvoke(ctx, []string{event}, &stdout, &stderr); code != exitOK || !strings.Contains(stdout.String(), want) {
			t.Fatalf("invoke: exit %d, response %s, want %s\n%s", code, stdout.String(), want, stderr.String())
		}
		return strings.Count(stderr.String(), `"message":"finding"`)
	}
	found := invoke(`"processed": 1`)
	if found == 0 {
		t.Fatal("the sample file raised no finding")
	}
	invoke(`"skipped": 1`)
	if got := recordsReadIn(t, srv, namespace); got != float64(res.Records) {
		t.Fatalf("RecordsRead %v before the reset, want %d", got, res.Records)
	}

	// Reset by the object's current version (HeadObject), with the table
	// from IDEMPOTENCY_TABLE.
	out, errs, code := runOut("ledger", "reset", bucket, key)
	if code != exitOK || !strings.Contains(out, "e:"+etag) || !strings.Contains(out, "done (processed)") {
		t.Fatalf("ledger reset: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	// Judged as the first time: each record against the settings as of
	// its own time, never against its own value, although the file's later
	// records moved the state on.
	if again := invoke(`"processed": 1`); again != found {
		t.Errorf("%d findings after the reset, %d the first time", again, found)
	} else {
		t.Logf("%d findings each time", found)
	}
	if got := recordsReadIn(t, srv, namespace); got != 2*float64(res.Records) {
		t.Errorf("RecordsRead %v after the reset and a delivery, want %d (counted again)", got, 2*res.Records)
	}

	// By a quoted --etag and --table, as S3 prints them.
	out, errs, code = runOut("ledger", "reset", "--etag", `"`+etag+`"`, "--table", table, bucket, key)
	if code != exitOK || !strings.Contains(out, "e:"+etag) {
		t.Fatalf("second reset: exit %d, stdout %q, stderr %q", code, out, errs)
	}

	// An invocation holds the object: refused, the item stays.
	id := ledger.ObjectID(bucket, key, "e:"+etag)
	l := ledger.New(db, ledger.Options{Table: table})
	if _, err := l.Claim(ctx, id, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	out, errs, code = runOut("ledger", "reset", "--etag", etag, bucket, key)
	if code != exitFailed || !strings.Contains(errs, "being processed by another invocation") || !strings.Contains(errs, "lease until") || out != "" {
		t.Errorf("reset of a live lease: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if it, err := l.Inspect(ctx, id); err != nil || it == nil {
		t.Errorf("the refused reset deleted the item: %+v, %v", it, err)
	}

	// No such item.
	_, errs, code = runOut("ledger", "reset", "--version-id", "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY", bucket, key)
	if code != exitFailed || !strings.Contains(errs, "no ledger item") {
		t.Errorf("reset of a missing item: exit %d, stderr %q", code, errs)
	}
}

func TestLedgerUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		why  string
	}{
		{[]string{"ledger"}, "no subcommand: want reset"},
		{[]string{"ledger", "drop"}, `unknown subcommand "drop"`},
		{[]string{"ledger", "reset", "b"}, "want BUCKET KEY, got 1 arguments"},
		{[]string{"ledger", "reset", "--table", "", "b", "k"}, "no table"},
		{[]string{"ledger", "reset", "--table", "t", "--etag", "e", "--version-id", "v", "b", "k"}, "not both"},
	} {
		out, errs, rc := runOut(tc.args...)
		if rc != exitUsage || !strings.Contains(errs, tc.why) || !strings.Contains(errs, "usage: cognitrail ledger reset") || out != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q: want exit 2 and %q", tc.args, rc, out, errs, tc.why)
		}
	}
}

// restateSettings returns the gzip trail file gz with each Update* record
// made again five minutes later: a re-processed file then finds the state
// its own later records left (the same settings), and must still raise what
// the first processing raised.
func restateSettings(t *testing.T, gz []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Records []map[string]any `json:"Records"`
	}
	if err := json.NewDecoder(zr).Decode(&f); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range f.Records[:len(f.Records):len(f.Records)] {
		if name, _ := r["eventName"].(string); !strings.HasPrefix(name, "Update") {
			continue
		}
		at, err := time.Parse(time.RFC3339, r["eventTime"].(string))
		if err != nil {
			t.Fatal(err)
		}
		again := maps.Clone(r)
		again["eventTime"] = at.Add(5 * time.Minute).Format(time.RFC3339)
		again["eventID"] = r["eventID"].(string) + "-again"
		f.Records = append(f.Records, again)
		n++
	}
	if n == 0 {
		t.Fatal("no Update record to restate")
	}
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	if err := json.NewEncoder(zw).Encode(f); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return out.Bytes()
}

package lambdaapp

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cognitrail/cognitrail/pkg/clientpool"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/processor"
	"github.com/cognitrail/cognitrail/pkg/sink"
)

const (
	prefix  = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/21/"
	kSpace  = prefix + "123456789012_CloudTrail_us-east-1_20261121T1005Z_a b+c.json.gz"
	kOrg    = "AWSLogs/o-a1b2c3d4e5/123456789012/CloudTrail/eu-west-1/2026/11/21/123456789012_CloudTrail_eu-west-1_20261121T1005Z_org.json.gz"
	kSQSSNS = prefix + "123456789012_CloudTrail_us-east-1_20261121T1010Z_via sns+sqs.json.gz"
	kSNSCT  = prefix + "123456789012_CloudTrail_us-east-1_20261121T1015Z_cloud trail+sns.json.gz"
	kEB     = prefix + "123456789012_CloudTrail_us-east-1_20261121T1020Z_eventbridge%.json.gz"
	kCorr   = prefix + "123456789012_CloudTrail_us-east-1_20261121T1025Z_corrupt.json.gz"
	kTrunc  = prefix + "123456789012_CloudTrail_us-east-1_20261121T1030Z_truncated.json.gz"
	kNotCT  = prefix + "123456789012_CloudTrail_us-east-1_20261121T1035Z_notjson.json.gz"
	kDigest = "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/21/123456789012_CloudTrail-Digest_us-east-1_trail_us-east-1_20261121T103743Z.json.gz"
)

// TestEveryShapeExactlyOnce uploads good and bad trail files, invokes the
// handler with every event shape, reads the metrics back from CloudWatch
// (moto) and compares them with what the engine computes from the same
// files; then replays every event and checks nothing was counted twice.
func TestEveryShapeExactlyOnce(t *testing.T) {
	e := newEnv(t)
	start := time.Now().Add(-3 * time.Hour).Truncate(time.Minute)
	files := map[string][]byte{
		kSpace:  trailFile(t, 60, start, 7*time.Second),
		kOrg:    trailFile(t, 45, start.Add(time.Minute), 11*time.Second),
		kSQSSNS: trailFile(t, 30, start.Add(2*time.Minute), 13*time.Second),
		kSNSCT:  trailFile(t, 50, start.Add(3*time.Minute), 5*time.Second),
		kEB:     trailFile(t, 40, start.Add(4*time.Minute), 17*time.Second),
		kNotCT:  []byte("this is not a trail file\n"),
	}
	// Corrupt: a byte flipped near the end of the deflate stream, so some
	// records are read before the fault. Truncated: the first 60 %.
	corrupt := bytes.Clone(trailFile(t, 300, start, 3*time.Second))
	corrupt[len(corrupt)*9/10] ^= 0xff
	files[kCorr] = corrupt
	trunc := trailFile(t, 300, start.Add(time.Minute), 3*time.Second)
	files[kTrunc] = trunc[:len(trunc)*6/10]
	for k, b := range files {
		e.put(k, b)
	}
	size := func(k string) int { return len(files[k]) }

	evS3 := s3Event(
		s3Record(kSpace, e.etag(kSpace), size(kSpace)),
		s3Record(kCorr, e.etag(kCorr), size(kCorr)),
		s3Record(kTrunc, e.etag(kTrunc), size(kTrunc)),
		s3Record(kDigest, "d1g3st", 812),
	)
	evSQS := sqsEvent(
		s3Event(s3Record(kOrg, e.etag(kOrg), size(kOrg))),
		snsEnvelope(s3Event(s3Record(kSQSSNS, e.etag(kSQSSNS), size(kSQSSNS)))),
		"this body is not JSON",
		testEvent,
	)
	evSNS := snsEvent(cloudTrailMessage(kSNSCT, kNotCT))
	evEB := eventBridgeEvent(kEB, e.etag(kEB), size(kEB))
	all := []string{kSpace, kOrg, kSQSSNS, kSNSCT, kEB, kCorr, kTrunc, kNotCT}

	run := func() {
		t.Helper()
		resp, err := e.invoke(evS3)
		if err != nil {
			t.Fatalf("S3 event: %v", err)
		}
		if s := resp.(processor.Summary); s.Objects+s.Skipped < 4 {
			t.Errorf("S3 event summary %+v", s)
		}
		resp, err = e.invoke(evSQS)
		if err != nil {
			t.Fatalf("SQS event: %v", err)
		}
		if f := resp.(events.SQSEventResponse).BatchItemFailures; len(f) != 1 || f[0].ItemIdentifier != "msg-2" {
			t.Errorf("SQS batchItemFailures %+v, want only msg-2", f)
		}
		if _, err := e.invoke(evSNS); err != nil {
			t.Fatalf("SNS event: %v", err)
		}
		if _, err := e.invoke(evEB); err != nil {
			t.Fatalf("EventBridge event: %v", err)
		}
		if _, err := e.invoke(testEvent); err != nil {
			t.Fatalf("test event: %v", err)
		}
	}

	run()
	// Skipped: the digest key, the SQS test event, the direct test event.
	x := e.expect(all, map[string]float64{metric.FilesSkipped: 3})
	if x.sums[keyOf(metric.FilesFailed, nil)] != 3 || x.sums[keyOf(metric.FilesProcessed, nil)] != 5 {
		t.Fatalf("engine expectations: %v processed, %v failed", x.sums[keyOf(metric.FilesProcessed, nil)], x.sums[keyOf(metric.FilesFailed, nil)])
	}
	e.check(x)

	// Replay: every object is now a duplicate, counted as skipped only.
	run()
	e.check(e.expect(all, map[string]float64{metric.FilesSkipped: 3 + 8 + 3}))

	// GetMetricStatistics agrees on a dimensionless metric.
	if got, want := e.statSum(metric.RecordsRead), x.sums[keyOf(metric.RecordsRead, nil)]; got != want {
		t.Errorf("GetMetricStatistics RecordsRead %v, want %v", got, want)
	}
	if _, err := exec.LookPath("aws"); err == nil {
		t.Run("aws CLI reads the same", func(t *testing.T) { awsCLICheck(t, e, x.sums[keyOf(metric.RecordsRead, nil)]) })
	}

	logs := e.logs.String()
	for _, banned := range []string{"HIDDEN_DUE_TO_SECURITY_REASONS", "HIDDEN_FOR_SECURITY_REASONS", "authParameters",
		"Incorrect username", "requestParameters", "responseElements", "sessionToken"} {
		if strings.Contains(logs, banned) {
			t.Errorf("logs contain %q", banned)
		}
	}
	checkLogLines(t, logs)
}

// checkLogLines checks the per-object and notable-event lines.
func checkLogLines(t *testing.T, logs string) {
	t.Helper()
	reasons := map[string]int{}
	objects := 0
	for line := range strings.Lines(logs) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			continue
		}
		switch m[MessageKey] {
		case processor.NotableMsg:
			r, _ := m["reason"].(string)
			reasons[r]++
			for _, k := range []string{"eventTime", "eventSource", "eventName", "category", "awsRegion", "account"} {
				if _, ok := m[k]; !ok {
					t.Errorf("notable line without %s: %s", k, line)
				}
			}
			if r == processor.ReasonSignInFailure && (m["errorCode"] == nil || m["sourceIPAddress"] == nil) {
				t.Errorf("sign-in failure without errorCode or IP: %s", line)
			}
		case "object":
			objects++
			if m["outcome"] == "processed" {
				for _, k := range []string{"bucket", "key", "records", "categories", "durationMs"} {
					if _, ok := m[k]; !ok {
						t.Errorf("object line without %s: %s", k, line)
					}
				}
			}
		}
	}
	for _, r := range []string{processor.ReasonSignInFailure, processor.ReasonForgotPassword, processor.ReasonConfigChange, processor.ReasonUnauthenticatedRoleCall} {
		if reasons[r] == 0 {
			t.Errorf("no %s line", r)
		}
	}
	if objects == 0 {
		t.Error("no object lines")
	}
}

// awsCLICheck reads RecordsRead with the aws CLI (v1: awsQuery), an
// independent client.
func awsCLICheck(t *testing.T, e *env, want float64) {
	end := time.Now().Add(3 * time.Hour).Truncate(time.Hour)
	cmd := exec.Command("aws", "cloudwatch", "get-metric-statistics",
		"--endpoint-url", server.Endpoint, "--region", "us-east-1",
		"--namespace", e.namespace, "--metric-name", metric.RecordsRead,
		"--start-time", end.Add(-15*24*time.Hour).Format(time.RFC3339), "--end-time", end.Format(time.RFC3339),
		"--period", "86400", "--statistics", "Sum", "--output", "json")
	cmd.Env = append(cmd.Environ(), "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_PAGER=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws: %v\n%s", err, out)
	}
	var resp struct{ Datapoints []struct{ Sum float64 } }
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("aws output: %v\n%s", err, out)
	}
	var got float64
	for _, d := range resp.Datapoints {
		got += d.Sum
	}
	if got != want {
		t.Errorf("aws CLI RecordsRead %v, want %v", got, want)
	}
}

// TestIdempotencyOff shows what README says: without IDEMPOTENCY_TABLE a
// redelivered notification is counted again.
func TestIdempotencyOff(t *testing.T) {
	e := newEnv(t)
	e.cfg.IdempotencyTable = ""
	body := trailFile(t, 20, time.Now().Add(-time.Hour), 9*time.Second)
	e.put(kSpace, body)
	ev := s3Event(s3Record(kSpace, e.etag(kSpace), len(body)))
	for range 2 {
		if _, err := e.invoke(ev); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := e.statSum(metric.RecordsRead), 2*e.expect([]string{kSpace}, nil).sums[keyOf(metric.RecordsRead, nil)]; got != want {
		t.Fatalf("RecordsRead %v, want %v (counted twice)", got, want)
	}
}

// TestQueryProtocolAndEMF: the same file through the awsQuery protocol, and
// through the EMF sink (no CloudWatch calls at all).
func TestQueryProtocolAndEMF(t *testing.T) {
	e := newEnv(t)
	e.cfg.CloudWatchProtocol = ProtocolQuery
	body := trailFile(t, 120, time.Now().Add(-2*time.Hour), 31*time.Second)
	e.put(kSpace, body)
	ev := s3Event(s3Record(kSpace, e.etag(kSpace), len(body)))
	if _, err := e.invoke(ev); err != nil {
		t.Fatal(err)
	}
	e.check(e.expect([]string{kSpace}, nil))

	e.cfg.Sink = SinkEMF
	e.cfg.IdempotencyTable = ""
	e.logs.Reset()
	if _, err := e.invoke(ev); err != nil {
		t.Fatal(err)
	}
	sums := map[string]float64{}
	for line := range strings.Lines(e.logs.String()) {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil || m["_aws"] == nil {
			continue
		}
		dirs := m["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)
		for _, md := range dirs[0].(map[string]any)["Metrics"].([]any) {
			name := md.(map[string]any)["Name"].(string)
			switch v := m[name].(type) {
			case float64:
				sums[name] += v
			case []any:
				for _, x := range v {
					sums[name] += x.(float64)
				}
			}
		}
	}
	want := map[string]float64{}
	for _, d := range e.expected[kSpace] {
		want[d.Name] += d.Sum()
	}
	for name, w := range want {
		if sums[name] != w {
			t.Errorf("EMF %s sum %v, want %v", name, sums[name], w)
		}
	}
	// Nothing more reached CloudWatch.
	e.check(e.expect([]string{kSpace}, nil))
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{
		EnvNamespace: "NS", EnvMetricsSink: "EMF", EnvDetailLevel: "full", EnvIdempotencyTable: "t",
		EnvMaxUncompressedBytes: "512MiB", EnvMaxPools: "7", EnvExpectedBucketOwner: "123456789012",
		EnvLogLevel: "debug", EnvCloudWatchProtocol: "query", EnvMaxDatumAge: "off",
		EnvResolveClients: "true", EnvClientPools: "abc=us-east-1_X", EnvMaxRecordBytes: "32MiB",
		EnvSignInIPThreshold: "40", EnvFindingsTopicARN: "arn:aws:sns:us-east-1:123456789012:findings",
		EnvNotifySeverity: "MEDIUM", EnvDelivery: "Buffered", EnvAttackWindows: "window=10m,codeFailures=4",
	}
	c, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Namespace != "NS" || c.Sink != SinkEMF || c.Level != metric.Full || c.IdempotencyTable != "t" ||
		c.MaxUncompressedBytes != 512<<20 || c.MaxPools != 7 || c.ExpectedBucketOwner != "123456789012" ||
		c.LogLevel == nil || c.CloudWatchProtocol != ProtocolQuery || c.MaxDatumAge >= 0 || c.S3UsePathStyle ||
		!c.ResolveClients || c.ClientPools[clientpool.Key{Region: "us-east-1", Client: "abc"}] != "us-east-1_X" || c.MaxRecordBytes != 32<<20 ||
		c.SignInThreshold != 40 || c.FindingsTopicARN != env[EnvFindingsTopicARN] || c.NotifySeverity != finding.Medium ||
		c.Delivery != DeliveryBuffered || c.Windows != (finding.Windows{Window: 10 * time.Minute, CodeFailures: 4}) {
		t.Fatalf("%+v", c)
	}
	c, err = ConfigFromEnv(envWith("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"))
	if err != nil || c.Namespace != metric.DefaultNamespace || c.Sink != SinkCloudWatch || c.Level != metric.Standard ||
		c.CloudWatchProtocol != ProtocolCBOR || c.IdempotencyTable != "" || c.MaxDatumAge != 0 || !c.S3UsePathStyle ||
		c.FindingsTopicARN != "" || c.NotifySeverity != finding.High || c.Delivery != DeliveryDirect {
		t.Fatalf("defaults %+v, %v", c, err)
	}
	for k, v := range map[string]string{EnvMetricsSink: "stdout", EnvDetailLevel: "max", EnvMaxPools: "-1",
		EnvMaxUncompressedBytes: "lots", EnvCloudWatchProtocol: "xml", EnvLogLevel: "loud", EnvMaxDatumAge: "2 weeks",
		EnvResolveClients: "maybe", EnvClientPools: "abc=HIDDEN_DUE_TO_SECURITY_REASONS",
		EnvSignInIPThreshold: "0", EnvNotifySeverity: "low", EnvFindingsTopicARN: "arn:aws:sqs:us-east-1:123456789012:q",
		EnvDelivery: "batched", EnvAttackWindows: "window=3h"} {
		if _, err := ConfigFromEnv(func(k2 string) string {
			if k2 == k {
				return v
			}
			return ""
		}); err == nil {
			t.Errorf("%s=%q accepted", k, v)
		}
	}
}

// TestNoNetworkAtInit: building the handler contacts nothing (the endpoint
// is unreachable, and New still succeeds at once).
func TestNoNetworkAtInit(t *testing.T) {
	cfg, err := ConfigFromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.IdempotencyTable = "t"
	awsCfg := (&env{}).unreachableConfig()
	t0 := time.Now()
	if _, err := New(cfg, awsCfg, &bytes.Buffer{}, nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 100*time.Millisecond {
		t.Errorf("New took %v", d)
	}
}

func (*env) unreachableConfig() (c awsConfig) {
	c.Region = "us-east-1"
	c.BaseEndpoint = strPtr("http://192.0.2.1:9") // TEST-NET-1: never answers
	return c
}

func strPtr(s string) *string { return &s }

// TestReservedNamespaceRefusedAtInit: an AWS/ namespace fails the function's
// start-up (every PutMetricData to it would be refused) instead of sending
// every file to the dead-letter queue.
func TestReservedNamespaceRefusedAtInit(t *testing.T) {
	for ns, ok := range map[string]bool{
		"AWS/Cognito": false, "AWS/": false, strings.Repeat("N", 256): false,
		"CognitoTrail": true, "aws/cognito": true, "MyAWS/Cognito": true, "AWS": true, "AWSCognito": true,
	} {
		c, err := ConfigFromEnv(envWith(EnvNamespace, ns))
		if (err == nil) != ok {
			t.Errorf("NAMESPACE=%.20q: error %v, want accepted=%v", ns, err, ok)
		}
		if !ok && (err == nil || !strings.Contains(err.Error(), EnvNamespace)) {
			t.Errorf("NAMESPACE=%.20q: the error does not name the variable: %v", ns, err)
		}
		if ok && c.Namespace != ns {
			t.Errorf("NAMESPACE=%q: config namespace %q", ns, c.Namespace)
		}
	}
}

// TestMaxDatumAgeWithinCloudWatch: CloudWatch refuses a whole PutMetricData
// request for one datum older than two weeks, and a refused batch is passed
// over (permanent), so an age past two weeks would lose the fresh datums
// sharing a batch with old ones: refused at start.
func TestMaxDatumAgeWithinCloudWatch(t *testing.T) {
	for v, ok := range map[string]bool{"336h": true, "24h": true, "off": true, "337h": false, "720h": false} {
		c, err := ConfigFromEnv(envWith(EnvMaxDatumAge, v))
		if ok != (err == nil) {
			t.Errorf("%s=%s: err %v, want accepted %v", EnvMaxDatumAge, v, err, ok)
		}
		if err != nil && !strings.Contains(err.Error(), EnvMaxDatumAge) {
			t.Errorf("error %q does not name %s", err, EnvMaxDatumAge)
		}
		if v == "336h" && c.MaxDatumAge != sink.DefaultMaxAge {
			t.Errorf("336h: %v", c.MaxDatumAge)
		}
	}
}

// TestFindingsTopicARNAsTheTemplate: FINDINGS_TOPIC_ARN takes what the
// template's FindingsTopicArn pattern takes. A FIFO topic refuses a publish
// without a message group, so every notification would fail, logged only.
func TestFindingsTopicARNAsTheTemplate(t *testing.T) {
	for v, ok := range map[string]bool{
		"arn:aws:sns:us-east-1:123456789012:findings":         true,
		"arn:aws-us-gov:sns:us-gov-west-1:123456789012:f_1-x": true,
		"arn:aws:sns:us-east-1:123456789012:findings.fifo":    false,
		"arn:aws:sns:::findings":                              false,
		"arn:aws:sns:us-east-1:12345:findings":                false,
		"arn:aws:sqs:us-east-1:123456789012:findings":         false,
	} {
		_, err := ConfigFromEnv(envWith(EnvFindingsTopicARN, v))
		if ok != (err == nil) {
			t.Errorf("%s=%s: err %v, want accepted %v", EnvFindingsTopicARN, v, err, ok)
		}
	}
}

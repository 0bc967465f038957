package runtimeapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"

	"github.com/cognitrail/cognitrail/internal/ledgertable"
	"github.com/cognitrail/cognitrail/internal/motoserver"
	"github.com/cognitrail/cognitrail/internal/runtimeapi"
	"github.com/cognitrail/cognitrail/internal/syncbuf"
	"github.com/cognitrail/cognitrail/internal/templatecheck"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/notification"
	"github.com/cognitrail/cognitrail/pkg/posture"
	"github.com/cognitrail/cognitrail/pkg/processor"
)

const root = "../.."

// exampleBucket is the bucket the sample events name.
const exampleBucket = "cognitrail-example-trail"

var (
	moto    *motoserver.Server
	motoErr error
	binDir  string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cognitrail-bootstrap-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	defer os.RemoveAll(dir)
	motoserver.Main(m, func(s *motoserver.Server, err error) { moto, motoErr = s, err })
}

var (
	buildOnce sync.Once
	buildErr  error
)

// binaries builds bootstrap with the Makefile target `sam build` calls
// (for the host's OS and architecture instead of linux/arm64, so it runs
// here) and the cognitrail command, once per test binary.
func binaries(t *testing.T) (bootstrap, cli string) {
	t.Helper()
	buildOnce.Do(func() {
		mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
		if err != nil {
			buildErr = err
			return
		}
		recipe, ok := templatecheck.MakeRecipe(string(mk), "build-ProcessorFunction")
		if !ok || !strings.Contains(recipe, "$(ARTIFACTS_DIR)/bootstrap") {
			buildErr = fmt.Errorf("Makefile: no build-ProcessorFunction recipe writing $(ARTIFACTS_DIR)/bootstrap")
			return
		}
		recipe = regexp.MustCompile(`\bGOOS=\S+`).ReplaceAllString(recipe, "GOOS="+runtime.GOOS)
		recipe = regexp.MustCompile(`\bGOARCH=\S+`).ReplaceAllString(recipe, "GOARCH="+runtime.GOARCH)
		recipe = strings.NewReplacer("$(GO)", "go", "$(ARTIFACTS_DIR)", binDir).Replace(recipe)
		cmd := exec.Command("sh", "-c", recipe+" && go build -o "+filepath.Join(binDir, "cognitrail")+" ./cmd/cognitrail")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("%s: %w\n%s", recipe, err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "bootstrap"), filepath.Join(binDir, "cognitrail")
}

// function is a running bootstrap process talking to a fake Runtime API.
type function struct {
	rt *runtimeapi.Server
	// ctx ends when the process exits.
	ctx    context.Context
	out    *syncbuf.Buffer
	exited chan struct{}
	err    error // the process's exit status, once exited is closed
	cmd    *exec.Cmd
}

// lambdaEnv is what Lambda itself sets for a provided.al2023 function,
// besides the function's own variables.
func lambdaEnv(rt *runtimeapi.Server) map[string]string {
	return map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          rt.Addr,
		"AWS_LAMBDA_FUNCTION_NAME":        "cognitrail-processor",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/cognitrail-processor",
		"AWS_LAMBDA_LOG_FORMAT":           "JSON",
		"AWS_REGION":                      motoserver.Region,
		"AWS_DEFAULT_REGION":              motoserver.Region,
		"AWS_ACCESS_KEY_ID":               "testing",
		"AWS_SECRET_ACCESS_KEY":           "testing",
		"AWS_SESSION_TOKEN":               "testing",
		"TZ":                              ":UTC",
		"LANG":                            "en_US.UTF-8",
	}
}

// start runs bootstrap with exactly env (nothing inherited, as in Lambda),
// and ends it at cleanup.
func start(t *testing.T, bootstrap string, rt *runtimeapi.Server, env map[string]string) *function {
	t.Helper()
	cmd := exec.Command(bootstrap)
	f := &function{rt: rt, out: &syncbuf.Buffer{}, exited: make(chan struct{}), cmd: cmd}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	cmd.Stdout, cmd.Stderr = f.out, f.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	f.ctx = ctx
	go func() {
		f.err = cmd.Wait()
		cancel(fmt.Errorf("bootstrap exited: %v", f.err))
		close(f.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-f.exited
		if t.Failed() {
			t.Logf("bootstrap output:\n%s", f.out.String())
		}
	})
	return f
}

// stop ends the process and returns all it wrote: the output reaches the
// buffer through a pipe, so only the process's end says it is all there.
func (f *function) stop() string {
	_ = f.cmd.Process.Signal(syscall.SIGKILL)
	<-f.exited
	return f.out.String()
}

// invoke hands one event to the function and returns its answer.
func (f *function) invoke(t *testing.T, event []byte) runtimeapi.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, 3*time.Minute)
	defer cancel()
	r, err := f.rt.Invoke(ctx, event)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// environments returns function environments the template gives the
// processor, from the scenarios internal/templatecheck checks: the fewest
// that between them carry every value (and every absence) of every
// variable. Running the binary for each of the dozens of scenarios would
// repeat the same runs; a variable's effect does not depend on the others'.
func environments(t *testing.T) (*templatecheck.Template, []map[string]string) {
	t.Helper()
	tpl, err := templatecheck.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ss, err := tpl.Scenarios(templatecheck.SampleParameters)
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]map[string]string{}
	vars := map[string]bool{}
	for _, s := range ss {
		st, probs, err := tpl.Evaluate(s)
		if err != nil || len(probs) > 0 {
			t.Fatalf("scenario %v: %v %v", s, err, probs)
		}
		env := st.FunctionEnvironment()
		// What Lambda sets from the LoggingConfig: the logger reads it.
		maps.Copy(env, st.LoggingEnvironment())
		byKey[fmt.Sprint(env)] = env
		for k := range env {
			vars[k] = true
		}
	}
	covered := map[string]bool{}
	var out []map[string]string
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		env := byKey[k]
		isNew := false
		for v := range vars {
			val, ok := env[v]
			pair := fmt.Sprintf("%s=%q/%v", v, val, ok)
			if !covered[pair] {
				covered[pair], isNew = true, true
			}
		}
		if isNew {
			out = append(out, env)
		}
	}
	if len(out) < 2 {
		t.Fatalf("only %d function environments from %d scenarios", len(out), len(ss))
	}
	return tpl, out
}

// placeholder is what a Ref to one of the stack's resources evaluates to.
var placeholder = regexp.MustCompile(`\{\{([A-Za-z0-9]+)\}\}`)

// TestBootstrapUnderRuntimeAPI runs the deployed binary as Lambda runs it,
// with each environment the template gives it, on every sample event,
// against moto_server; it checks each response and then that the metrics
// CloudWatch holds are what `cognitrail scan` computes from the same files.
func TestBootstrapUnderRuntimeAPI(t *testing.T) {
	motoserver.Require(t)
	if motoErr != nil {
		t.Fatal(motoErr)
	}
	bootstrap, cli := binaries(t)
	evFiles, err := filepath.Glob(filepath.Join(root, "events", "*.json"))
	if err != nil || len(evFiles) == 0 {
		t.Fatalf("no sample events: %v", err)
	}
	// Each new file announced once first, then the repeats, so that the
	// ledger's duplicates are the later events.
	slices.SortStableFunc(evFiles, func(a, b string) int { return order(a) - order(b) })
	tpl, envs := environments(t)
	for i, tplEnv := range envs {
		if i > 0 {
			// The first environment keeps the template's own log level;
			// the others go through every level Lambda can set, so that
			// every level's lines are written and checked (checkLogLines).
			// LOG_LEVEL can only raise Lambda's level: it follows it.
			level := lambdaLogLevels[(i-1)%len(lambdaLogLevels)]
			tplEnv["AWS_LAMBDA_LOG_LEVEL"], tplEnv["LOG_LEVEL"] = level, strings.ToLower(level)
		}
		t.Run(fmt.Sprintf("env%d", i), func(t *testing.T) {
			t.Logf("template environment: %v", tplEnv)
			runEnvironment(t, tpl, bootstrap, cli, tplEnv, evFiles)
		})
	}
}

// scheduledSample is EventBridge's scheduled event (PostureSchedule): no
// trail file, a posture run.
const scheduledSample = "eventbridge-scheduled.json"

// checkScheduled: with POSTURE the scheduled event is a posture run of the
// function's Region (moto holds no pool and no trail: the two coverage
// rows); without it, a function error that says posture is off.
func checkScheduled(t *testing.T, r runtimeapi.Result, on bool) {
	t.Helper()
	if !on {
		if !r.Error || !strings.Contains(string(r.Body), "posture is off") {
			t.Errorf("%s with posture off: %s, want a function error", scheduledSample, r.Body)
		}
		return
	}
	if r.Error {
		t.Errorf("%s: function error %s: %s", scheduledSample, r.ErrorType, r.Body)
		return
	}
	var sum posture.RunSummary
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sum); err != nil || sum != (posture.RunSummary{Region: motoserver.Region, Rows: 2}) {
		t.Errorf("%s: response %s (%v), want a posture run with the two coverage rows", scheduledSample, r.Body, err)
	}
}

// order puts the events that repeat an earlier event's object last.
func order(path string) int {
	switch filepath.Base(path) {
	case "eventbridge-object-created.json", "sns-cloudtrail.json", "sqs-sns-s3.json":
		return 1
	}
	return 0
}

func runEnvironment(t *testing.T, tpl *templatecheck.Template, bootstrap, cli string, tplEnv map[string]string, evFiles []string) {
	ctx := context.Background()
	if err := moto.Reset(); err != nil {
		t.Fatal(err)
	}
	awsCfg := moto.AWSConfig()
	s3c := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(exampleBucket)}); err != nil {
		t.Fatal(err)
	}
	trails := filepath.Join(root, "events", "trails")
	err := filepath.WalkDir(trails, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		key, _ := filepath.Rel(trails, p)
		_, err = s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(exampleBucket), Key: aws.String(filepath.ToSlash(key)), Body: bytes.NewReader(body)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	rt := runtimeapi.NewServer()
	t.Cleanup(rt.Close)
	env := lambdaEnv(rt)
	for k, v := range tplEnv {
		// The stack's resources, under names this test creates: a table's
		// Ref is its name, a topic's its ARN.
		env[k] = placeholder.ReplaceAllStringFunc(v, func(m string) string {
			id := placeholder.FindStringSubmatch(m)[1]
			name := "cognitrail-" + strings.ToLower(id)
			switch typ := tpl.Resources[id].Type; typ {
			case "AWS::DynamoDB::Table":
				return name
			case "AWS::SNS::Topic":
				return "arn:aws:sns:" + motoserver.Region + ":123456789012:" + name
			default:
				t.Fatalf("%s: Ref to %s, a %s: the test does not create those", k, id, typ)
				return ""
			}
		})
	}
	ledgerOn := env["IDEMPOTENCY_TABLE"] != ""
	if ledgerOn {
		if err := ledgertable.Create(ctx, dynamodb.NewFromConfig(awsCfg), env["IDEMPOTENCY_TABLE"]); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range env {
		// A topic the function publishes to, the stack's or the operator's.
		if name, ok := strings.CutPrefix(v, "arn:aws:sns:"+motoserver.Region+":123456789012:"); ok {
			if _, err := sns.NewFromConfig(awsCfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// What differs from a deployment: the endpoint, the wire protocol moto
	// speaks, and the age check (the samples are older than CloudWatch's
	// two weeks, eventually).
	env["AWS_ENDPOINT_URL"] = moto.Endpoint
	env["CLOUDWATCH_PROTOCOL"] = "json"
	env["MAX_DATUM_AGE"] = "off"
	f := start(t, bootstrap, rt, env)

	seen := map[string]bool{}
	var scanned []string // keys whose metrics the function publishes, with repeats
	// Files the function skips without a file to scan: duplicates and S3
	// test events.
	unscannedSkips := 0
	for _, path := range evFiles {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(path) == scheduledSample {
			checkScheduled(t, f.invoke(t, raw), env["POSTURE"] == "true")
			continue
		}
		ev, err := notification.Parse(raw)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var fresh, repeats, skipped, skippedObjects, apiCalls int
		for _, m := range ev.Messages {
			apiCalls += len(m.APICalls)
			for _, o := range m.Objects {
				if seen[o.Key] && ledgerOn {
					repeats++
					unscannedSkips++
					continue
				}
				seen[o.Key] = true
				fresh++
				scanned = append(scanned, o.Key)
			}
			for _, s := range m.Skipped {
				skipped++
				if s.Object.Key == "" {
					unscannedSkips++
				} else {
					skippedObjects++
					scanned = append(scanned, s.Object.Key)
				}
			}
		}
		r := f.invoke(t, raw)
		name := filepath.Base(path)
		if r.Error {
			t.Errorf("%s: function error %s: %s", name, r.ErrorType, r.Body)
			continue
		}
		t.Logf("%s: %s", name, r.Body)
		switch ev.Shape {
		case notification.ShapeSQS:
			var resp events.SQSEventResponse
			if err := json.Unmarshal(r.Body, &resp); err != nil || resp.BatchItemFailures == nil || len(resp.BatchItemFailures) != 0 {
				t.Errorf("%s: response %s, want an empty batchItemFailures (err %v)", name, r.Body, err)
			}
		case notification.ShapeS3Batch:
			var resp events.S3BatchJobResponse
			if err := json.Unmarshal(r.Body, &resp); err != nil {
				t.Fatalf("%s: response %s: %v", name, r.Body, err)
			}
			if resp.InvocationID != ev.Batch.InvocationID || resp.InvocationSchemaVersion != ev.Batch.SchemaVersion || len(resp.Results) != len(ev.Messages) {
				t.Errorf("%s: response %s does not answer invocation %s (schema %s) with %d results", name, r.Body, ev.Batch.InvocationID, ev.Batch.SchemaVersion, len(ev.Messages))
			}
			for i, res := range resp.Results {
				if i < len(ev.Messages) && (res.TaskID != ev.Messages[i].ID || res.ResultCode != processor.BatchSucceeded) {
					t.Errorf("%s: task %s: result %+v, want Succeeded", name, ev.Messages[i].ID, res)
				}
			}
		default:
			var sum processor.Summary
			dec := json.NewDecoder(bytes.NewReader(r.Body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&sum); err != nil {
				t.Fatalf("%s: response %s is not a Summary: %v", name, r.Body, err)
			}
			// Objects counts every object the event announced, the digest
			// files skipped by their key included (issue 17), but not a test
			// event, which names none and is skipped all the same.
			want := processor.Summary{Shape: ev.Shape, Objects: fresh + repeats + skippedObjects, Processed: fresh, Skipped: repeats + skipped, APICalls: apiCalls}
			if sum != want {
				t.Errorf("%s: summary %+v, want %+v", name, sum, want)
			}
		}
	}
	if err := rt.Err(); err != nil {
		t.Error(err)
	}
	// An event the function refuses: its ERROR line is checked too.
	if r := f.invoke(t, []byte(`{"not":"an event"}`)); !r.Error {
		t.Errorf("a malformed event answered %s, want a function error", r.Body)
	}
	byLevel := checkLogLines(t, f.stop())
	if byLevel["ERROR"] == 0 {
		t.Error("no ERROR line")
	}
	if env["LOG_LEVEL"] == "debug" && env["AWS_LAMBDA_LOG_LEVEL"] == "DEBUG" && byLevel["DEBUG"] == 0 {
		t.Error("no DEBUG line at level DEBUG")
	}
	scannedSeries := scanExpect(t, cli, env, scanned)
	scannedSeries[series{name: "FilesSkipped", stat: "Sum"}] += float64(unscannedSkips)
	// Per pool: a call that names only an app client goes to the pool of
	// its own Region, so scan (the whole run at once) and the function
	// (file by file) agree although the samples' client id names a pool
	// in two Regions.
	want := asMotoAnswers(scannedSeries)
	got := readBack(t, env["NAMESPACE"], scannedSeries)
	for _, k := range sortedSeries(want) {
		if got[k] != want[k] {
			t.Errorf("%s: CloudWatch has %v, cognitrail scan computed %v", k, got[k], want[k])
		}
	}
	for _, k := range sortedSeries(got) {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: CloudWatch has %v, cognitrail scan computed nothing", k, got[k])
		}
	}
	if len(want) < 10 {
		t.Errorf("only %d series expected: the sample files were not read", len(want))
	}
}

// lambdaLogLevels are the AWS_LAMBDA_LOG_LEVEL values Lambda sets under a
// JSON LoggingConfig (TRACE and FATAL aside, which the library reads as
// INFO).
var lambdaLogLevels = []string{"DEBUG", "INFO", "WARN", "ERROR"}

// checkLogLines checks what the function wrote, stdout and stderr: every
// line is one JSON object whose keys are unique (at any depth: a reader
// keeps one of two equal keys, and which one is not defined), with one
// message, level and timestamp; the finding and cognito_event lines carry
// their record's time as eventTime, never a second timestamp.
// It returns the number of lines by level.
func checkLogLines(t *testing.T, out string) map[string]int {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	byMsg, byLevel := map[string]int{}, map[string]int{}
	for _, line := range lines {
		if err := uniqueKeys(line); err != nil {
			t.Errorf("log line %s: %v", line, err)
			continue
		}
		var l map[string]any
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Errorf("log line %s: %v", line, err)
			continue
		}
		for _, k := range []string{"message", "level", "timestamp"} {
			if _, ok := l[k].(string); !ok {
				t.Errorf("log line %s: no %s", line, k)
			}
		}
		msg, _ := l["message"].(string)
		byMsg[msg]++
		byLevel[fmt.Sprint(l["level"])]++
		if msg == processor.FindingMsg || msg == processor.NotableMsg {
			if _, err := time.Parse(time.RFC3339, fmt.Sprint(l["eventTime"])); err != nil {
				t.Errorf("%s line %s: eventTime: %v", msg, line, err)
			}
		}
	}
	t.Logf("log lines by message: %v, by level: %v", byMsg, byLevel)
	if byMsg[processor.FindingMsg] == 0 || byMsg[processor.NotableMsg] == 0 {
		t.Errorf("no %s or no %s line: the samples no longer exercise them", processor.FindingMsg, processor.NotableMsg)
	}
	return byLevel
}

// uniqueKeys checks that line is exactly one JSON object whose objects, at
// any depth, have no key twice (encoding/json would keep the last).
func uniqueKeys(line string) error {
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("not a JSON object")
	}
	if err := objectKeys(dec); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("more after the object (%v)", err)
	}
	return nil
}

// objectKeys reads the rest of an object whose '{' was read.
func objectKeys(dec *json.Decoder) error {
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		k, _ := tok.(string)
		if seen[k] {
			return fmt.Errorf("key %q twice", k)
		}
		seen[k] = true
		if err := skipValue(dec); err != nil {
			return err
		}
	}
	_, err := dec.Token() // '}'
	return err
}

func skipValue(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		return objectKeys(dec)
	case json.Delim('['):
		for dec.More() {
			if err := skipValue(dec); err != nil {
				return err
			}
		}
		_, err := dec.Token()
		return err
	}
	return nil
}

// series names a metric series; stat is what is compared: DeliveryLagSeconds
// depends on when the object was written (now, in moto; the key's time for
// scan), so only its sample count is compared, other metrics' sums.
type series struct {
	name string
	dims string // Name=Value,... in the order published
	stat string
}

func (s series) String() string { return s.name + "{" + s.dims + "} " + s.stat }

func sortedSeries(m map[series]float64) []series {
	return slices.SortedFunc(maps.Keys(m), func(a, b series) int { return strings.Compare(a.String(), b.String()) })
}

type datum struct {
	Name       string `json:"name"`
	Dimensions []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"dimensions"`
	Values []float64 `json:"values"`
	Counts []float64 `json:"counts"`
}

// asMotoAnswers is what moto answers GetMetricData for each series: a
// query with dimensions matches exactly those, a query without dimensions
// matches every series of the metric (README, "Trying it locally"). Only
// the series published are listed, so only they are asked for.
func asMotoAnswers(m map[series]float64) map[series]float64 {
	out := map[series]float64{}
	for s, v := range m {
		all := series{name: s.name, stat: s.stat}
		_, published := m[all]
		if s.stat == "Maximum" {
			out[s] = max(out[s], v)
			if published && s.dims != "" {
				out[all] = max(out[all], v)
			}
			continue
		}
		out[s] += v
		if published && s.dims != "" {
			out[all] += v
		}
	}
	return out
}

// statOf is the statistic a series is compared by: a count's Sum, the
// lag's SampleCount (its values are seconds), a peak's Maximum (each file
// publishes its view of a window).
func statOf(name string) string {
	switch s := metric.StatOf(name); {
	case name == metric.DeliveryLagSeconds:
		return "SampleCount"
	case s == metric.StatMaximum:
		return metric.StatMaximum
	}
	return metric.StatSum
}

// scanExpect runs `cognitrail scan --format json` once on the local copies
// of keys, in the order the function read them, with the flags matching the
// function's environment, and totals each series. scan reads a path given
// twice once, so a key the function read again (no ledger) is given as a
// copy under another directory.
func scanExpect(t *testing.T, cli string, env map[string]string, keys []string) map[series]float64 {
	t.Helper()
	want := map[series]float64{}
	trails, err := filepath.Abs(filepath.Join(root, "events", "trails"))
	if err != nil {
		t.Fatal(err)
	}
	copies := t.TempDir()
	times := map[string]int{}
	args := []string{"scan", "--format", "json"}
	flags := map[string]string{"DETAIL_LEVEL": "--level", "MAX_POOLS": "--max-pools", "CLIENT_POOLS": "--client-pools",
		"MAX_RECORD_BYTES": "--max-record-bytes", "MAX_UNCOMPRESSED_BYTES": "--max-uncompressed-bytes",
		"MAX_SERIES_PER_DIMENSION": "--max-series-per-dimension", "ATTACK_WINDOWS": "--windows"}
	for _, v := range slices.Sorted(maps.Keys(flags)) {
		if val, ok := env[v]; ok {
			args = append(args, flags[v]+"="+val)
		}
	}
	if env["RESOLVE_CLIENTS"] == "true" {
		args = append(args, "--resolve-clients")
	}
	for _, k := range keys {
		p := filepath.Join(trails, filepath.FromSlash(k))
		if n := times[k]; n > 0 {
			cp := filepath.Join(copies, fmt.Sprint(n), filepath.FromSlash(k))
			body, err := os.ReadFile(p)
			if err == nil {
				err = os.MkdirAll(filepath.Dir(cp), 0o755)
			}
			if err == nil {
				err = os.WriteFile(cp, body, 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
			p = cp
		}
		times[k]++
		args = append(args, p)
	}
	cmd := exec.Command(cli, args...)
	cmd.Dir = root
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cognitrail %v: %v\n%s", args, err, stderr.String())
	}
	var ds []datum
	if err := json.Unmarshal(out, &ds); err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		var dims []string
		for _, dim := range d.Dimensions {
			dims = append(dims, dim.Name+"="+dim.Value)
		}
		s := series{name: d.Name, dims: strings.Join(dims, ","), stat: statOf(d.Name)}
		for i, v := range d.Values {
			c := 1.0
			if i < len(d.Counts) {
				c = d.Counts[i]
			}
			switch s.stat {
			case "Sum":
				want[s] += v * c
			case "Maximum":
				want[s] = max(want[s], v)
			default:
				want[s] += c
			}
		}
	}
	return want
}

// readBack lists every series in namespace and reads its total with
// GetMetricData (which in moto matches dimensions exactly).
func readBack(t *testing.T, namespace string, want map[series]float64) map[series]float64 {
	t.Helper()
	ctx := context.Background()
	c := cw.NewFromConfig(moto.AWSConfig(), func(o *cw.Options) {
		o.Protocol = awsjson.New10(schemas.GraniteServiceVersion20100801)
		o.DisableRequestCompression = true
	})
	// moto lists a series once per datapoint: keep one of each.
	var metrics []cwtypes.Metric
	listed := map[string]bool{}
	p := cw.NewListMetricsPaginator(c, &cw.ListMetricsInput{Namespace: aws.String(namespace)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Metrics {
			k := aws.ToString(m.MetricName)
			for _, d := range m.Dimensions {
				k += "|" + aws.ToString(d.Name) + "=" + aws.ToString(d.Value)
			}
			if !listed[k] {
				listed[k] = true
				metrics = append(metrics, m)
			}
		}
	}
	end := time.Now().Add(24 * time.Hour).Truncate(time.Hour)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	period := int32(end.Sub(start) / time.Second / 60 * 60)
	got := map[series]float64{}
	for chunk := range slices.Chunk(metrics, 400) {
		in := &cw.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(end)}
		ids := map[string]series{}
		for i, m := range chunk {
			var dims []string
			for _, d := range m.Dimensions {
				dims = append(dims, aws.ToString(d.Name)+"="+aws.ToString(d.Value))
			}
			s := series{name: aws.ToString(m.MetricName), dims: strings.Join(dims, ","), stat: statOf(aws.ToString(m.MetricName))}
			id := fmt.Sprintf("q%d", i)
			ids[id] = s
			in.MetricDataQueries = append(in.MetricDataQueries, cwtypes.MetricDataQuery{
				Id:         aws.String(id),
				MetricStat: &cwtypes.MetricStat{Metric: &m, Period: aws.Int32(period), Stat: aws.String(s.stat)},
			})
		}
		out, err := c.GetMetricData(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.MetricDataResults {
			for _, v := range r.Values {
				if s := ids[aws.ToString(r.Id)]; s.stat == "Maximum" {
					got[s] = max(got[s], v)
				} else {
					got[s] += v
				}
			}
		}
	}
	if len(metrics) == 0 {
		t.Errorf("no metrics in namespace %s", namespace)
	}
	return got
}

// TestBootstrapInitError: a configuration the function cannot work with is
// reported to the Runtime API at init, naming the variable, and the process
// exits non-zero without taking an event.
func TestBootstrapInitError(t *testing.T) {
	bootstrap, _ := binaries(t)
	for _, tc := range []struct{ name, value string }{
		{"LOG_LEVEL", "bogus"},
		{"METRICS_SINK", "stdout"},
		{"MAX_POOLS", "0"},
		{"DETAIL_LEVEL", "everything"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := runtimeapi.NewServer()
			t.Cleanup(rt.Close)
			env := lambdaEnv(rt)
			env["NAMESPACE"] = "CognitoTrail"
			env[tc.name] = tc.value
			f := start(t, bootstrap, rt, env)
			ctx, cancel := context.WithTimeout(f.ctx, 2*time.Minute)
			defer cancel()
			e, err := rt.InitError(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(e.ErrorMessage, tc.name) || !strings.Contains(e.ErrorMessage, tc.value) || e.ErrorType == "" {
				t.Errorf("init error %+v does not name %s=%s", e, tc.name, tc.value)
			}
			select {
			case <-f.exited:
			case <-time.After(2 * time.Minute):
				t.Fatal("bootstrap still running 2 minutes after its init error")
			}
			var exit *exec.ExitError
			if !errors.As(f.err, &exit) || exit.ExitCode() == 0 {
				t.Errorf("bootstrap exit: %v, want a non-zero status", f.err)
			}
			if err := rt.Err(); err != nil {
				t.Error(err)
			}
		})
	}
}

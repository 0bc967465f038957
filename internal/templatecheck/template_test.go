package templatecheck

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/internal/lambdaapp"
	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/notification"

	"github.com/cognitrail/cognitrail/internal/docs"
)

const root = "../.."

// samples: the scenarios every check runs over.
var samples = SampleParameters

func load(t *testing.T) *Template {
	t.Helper()
	tpl, err := Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// patternMatchesFunction checks that parameter name's AllowedPattern
// accepts exactly the cases the function accepts at start-up, so a value
// the function would refuse fails the deployment instead, and returns the
// pattern for the caller's own checks.
func patternMatchesFunction(t *testing.T, tpl *Template, name string, cases []string, accepts func(string) bool) *regexp.Regexp {
	t.Helper()
	p := tpl.Parameters[name].AllowedPattern
	re, err := regexp.Compile(p)
	if err != nil {
		t.Fatalf("%s AllowedPattern %q: %v", name, p, err)
	}
	for _, c := range cases {
		if got, want := re.MatchString(c), accepts(c); got != want {
			t.Errorf("%s %.60q (%d chars): pattern accepts=%v, the function accepts=%v", name, c, len(c), got, want)
		}
	}
	return re
}

// evaluated is the stack the template creates for s.
func evaluated(t *testing.T, tpl *Template, s Scenario) *Stack {
	t.Helper()
	st, _, err := tpl.Evaluate(s)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// rulesHold evaluates the template's Rules for s: whether the stack would
// be created, and if not, why.
func rulesHold(t *testing.T, tpl *Template, s Scenario) (bool, string) {
	t.Helper()
	env, err := tpl.NewEnv(s)
	if err != nil {
		t.Fatal(err)
	}
	ok, why, err := env.RulesHold()
	if err != nil {
		t.Fatal(err)
	}
	return ok, why
}

func scenarios(t *testing.T, tpl *Template) []Scenario {
	t.Helper()
	ss, err := tpl.Scenarios(samples)
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

// TestTemplateMatchesCatalog is the consistency check: in every scenario,
// every alarm, anomaly detector, dashboard metric, insight rule and saved
// query refers to what the code really publishes and logs.
func TestTemplateMatchesCatalog(t *testing.T) {
	tpl := load(t)
	ss := scenarios(t, tpl)
	if len(ss) < 50 {
		t.Fatalf("only %d scenarios; the condition parameters were not enumerated", len(ss))
	}
	seen := map[string]bool{}
	for _, s := range ss {
		probs, err := tpl.Check(s)
		if err != nil {
			t.Fatalf("scenario %v: %v", s, err)
		}
		for _, p := range probs {
			if k := p.String(); !seen[k] {
				seen[k] = true
				t.Errorf("scenario %v: %s", s, k)
			}
		}
	}
	t.Logf("%d scenarios checked", len(ss))
}

// TestBothModes: each deployment mode has its own way in and none of the
// other's, and the pieces every mode needs are there.
func TestBothModes(t *testing.T) {
	tpl := load(t)
	want := map[string]struct{ present, absent []string }{
		"new-bucket": {
			present: []string{"TrailBucket", "TrailBucketPolicy", "S3InvokePermission", "Trail"},
			absent:  []string{"ObjectCreatedRule", "EventBridgeInvokePermission", "DeadLetterQueuePolicy"},
		},
		"existing-bucket": {
			present: []string{"ObjectCreatedRule", "EventBridgeInvokePermission", "DeadLetterQueuePolicy"},
			absent:  []string{"TrailBucket", "TrailBucketPolicy", "S3InvokePermission", "Trail"},
		},
	}
	common := []string{"ProcessorFunction", "ProcessorRole", "ProcessorLogGroup", "DeadLetterQueue", "IdempotencyTable", "AlarmTopic", "Dashboard"}
	for mode, w := range want {
		st, probs, err := tpl.Evaluate(Scenario{"TrailSource": mode, "ExistingTrailBucketName": "example-trail-bucket"})
		if err != nil || len(probs) > 0 {
			t.Fatalf("%s: %v %v", mode, err, probs)
		}
		for _, id := range append(w.present, common...) {
			if _, ok := st.Resources[id]; !ok {
				t.Errorf("%s: %s missing", mode, id)
			}
		}
		for _, id := range w.absent {
			if _, ok := st.Resources[id]; ok {
				t.Errorf("%s: %s should not exist", mode, id)
			}
		}
	}

	// new-bucket: S3 notifies the function of .json.gz objects under AWSLogs/.
	st, _, _ := tpl.Evaluate(Scenario{})
	lc := asList(asMap(st.Resources["TrailBucket"]["NotificationConfiguration"])["LambdaConfigurations"])
	if len(lc) != 1 {
		t.Fatalf("TrailBucket notifications: %v", lc)
	}
	rules := asList(asMap(asMap(asMap(lc[0])["Filter"])["S3Key"])["Rules"])
	got := map[string]string{}
	for _, r := range rules {
		got[scalarString(asMap(r)["Name"])] = scalarString(asMap(r)["Value"])
	}
	if got["prefix"] != "AWSLogs/" || got["suffix"] != ".json.gz" {
		t.Errorf("S3 notification filter %v, want prefix AWSLogs/ suffix .json.gz", got)
	}
	// The seed's identity pool data-event selector, when asked for.
	st, _, _ = tpl.Evaluate(Scenario{"LogIdentityPoolDataEvents": "true"})
	sel := asList(st.Resources["Trail"]["AdvancedEventSelectors"])
	if len(sel) != 2 || !strings.Contains(toJSON(sel[1]), `"Equals":["Data"]`) || !strings.Contains(toJSON(sel[1]), `"Equals":["AWS::Cognito::IdentityPool"]`) {
		t.Errorf("data-event selector: %s", toJSON(sel))
	}

	// existing-bucket: the rule matches the bucket and the prefix.
	st, _, _ = tpl.Evaluate(Scenario{"TrailSource": "existing-bucket", "ExistingTrailBucketName": "example-trail-bucket", "TrailKeyPrefix": "org"})
	pattern := toJSON(st.Resources["ObjectCreatedRule"]["EventPattern"])
	for _, s := range []string{`"detail-type":["Object Created"]`, `"name":["example-trail-bucket"]`, `"wildcard":"org/AWSLogs/*/CloudTrail/*.json.gz"`} {
		if !strings.Contains(pattern, s) {
			t.Errorf("event pattern %s lacks %s", pattern, s)
		}
	}
	// The template's Rules refuse existing-bucket without a bucket name.
	if ok, _ := rulesHold(t, tpl, Scenario{"TrailSource": "existing-bucket"}); ok {
		t.Error("existing-bucket without ExistingTrailBucketName is accepted")
	}
}

// TestLeastPrivilege: GetObject only under the trail prefix, DynamoDB and
// KMS statements only when their resources exist.
func TestLeastPrivilege(t *testing.T) {
	tpl := load(t)
	for _, tc := range []struct {
		s             Scenario
		objects       string
		dynamo, kms   bool
		expectedOwner string
	}{
		{Scenario{}, "arn:aws:s3:::cognitrail-123456789012-us-east-1-1b2c3d4e/AWSLogs/*", true, false, "123456789012"},
		{Scenario{"TrailSource": "existing-bucket", "ExistingTrailBucketName": "b", "TrailKeyPrefix": "p/q", "EnableIdempotency": "false",
			"KmsKeyArn": samples["KmsKeyArn"], "ExpectedBucketOwner": "210987654321"}, "arn:aws:s3:::b/p/q/AWSLogs/*", false, true, "210987654321"},
	} {
		st, probs, err := tpl.Evaluate(tc.s)
		if err != nil || len(probs) > 0 {
			t.Fatal(err, probs)
		}
		doc := toJSON(st.Resources["ProcessorRole"])
		if !strings.Contains(doc, `"Action":["s3:GetObject","s3:GetObjectVersion"],"Effect":"Allow","Resource":"`+tc.objects+`"`) {
			t.Errorf("%v: GetObject not limited to %s: %s", tc.s, tc.objects, doc)
		}
		// ListBucket on the trail bucket only: it makes a deleted trail
		// file a 404 (FilesFailed), not a 403 retried into the DLQ.
		bucketARN := tc.objects[:strings.Index(tc.objects, "/")]
		if !strings.Contains(doc, `"Action":"s3:ListBucket","Effect":"Allow","Resource":"`+bucketARN+`"`) ||
			strings.Count(doc, "s3:ListBucket") != 1 {
			t.Errorf("%v: s3:ListBucket not granted on exactly %s: %s", tc.s, bucketARN, doc)
		}
		if strings.Contains(doc, "s3:*") || strings.Contains(doc, `"Action":"*"`) {
			t.Errorf("%v: wildcard action in %s", tc.s, doc)
		}
		if got := strings.Contains(doc, "dynamodb:"); got != tc.dynamo {
			t.Errorf("%v: dynamodb statement present=%v", tc.s, got)
		}
		if got := strings.Contains(doc, "kms:Decrypt"); got != tc.kms {
			t.Errorf("%v: kms statement present=%v", tc.s, got)
		}
		vars := asMap(asMap(st.Resources["ProcessorFunction"]["Environment"])["Variables"])
		if vars["EXPECTED_BUCKET_OWNER"] != tc.expectedOwner {
			t.Errorf("%v: EXPECTED_BUCKET_OWNER=%v, want %s", tc.s, vars["EXPECTED_BUCKET_OWNER"], tc.expectedOwner)
		}
		if _, ok := vars["IDEMPOTENCY_TABLE"]; ok != tc.dynamo {
			t.Errorf("%v: IDEMPOTENCY_TABLE set=%v", tc.s, ok)
		}
	}
}

// TestRequiredAlarms: every alarm issue 4 asks for exists, on the metric it
// is about.
func TestRequiredAlarms(t *testing.T) {
	tpl := load(t)
	st := evaluated(t, tpl, Scenario{})
	have := map[string]bool{}
	for _, id := range st.ofType("AWS::CloudWatch::Alarm") {
		p := st.Resources[id]
		if name, ok := p["MetricName"]; ok {
			have[MetricRef{Namespace: scalarString(p["Namespace"]), Name: scalarString(name), Dims: dimsOf(p["Dimensions"])}.String()] = true
			continue
		}
		for _, q := range asList(p["Metrics"]) {
			if ms, ok := asMap(q)["MetricStat"]; ok {
				m := asMap(asMap(ms)["Metric"])
				have["anomaly "+MetricRef{Namespace: scalarString(m["Namespace"]), Name: scalarString(m["MetricName"]), Dims: dimsOf(m["Dimensions"])}.String()] = true
			}
		}
	}
	ns := metric.DefaultNamespace
	for _, want := range []string{
		ns + "/" + metric.IdentityPoolConfigChanges + "{}",
		ns + "/" + metric.UserPoolConfigChanges + "{}",
		ns + "/" + metric.SignInFailures + "{}",
		"anomaly " + ns + "/" + metric.SignInFailures + "{}",
		ns + "/" + metric.ForgotPasswordRequests + "{}",
		ns + "/" + metric.IdentityPoolRoleCalls + "{AuthType=unauthenticated}",
		ns + "/" + metric.FilesFailed + "{}",
		ns + "/" + metric.Findings + "{Severity=high}",
		ns + "/" + metric.FilesProcessed + "{}",
		"AWS/Lambda/Errors{FunctionName={{ProcessorFunction}}}",
		"AWS/SQS/ApproximateNumberOfMessagesVisible{QueueName={{DeadLetterQueue.QueueName}}}",
		"AWS/SQS/ApproximateAgeOfOldestMessage{QueueName={{DeadLetterQueue.QueueName}}}",
	} {
		if !have[want] {
			t.Errorf("no alarm on %s (have %v)", want, slices.Sorted(maps.Keys(have)))
		}
	}
	// NoFilesProcessed's behaviour is TestNoFilesProcessedAlarm's.

	// Delivery=buffered adds the buffer queue's depth and age, and only then.
	queueAlarms := func(s Scenario) []string {
		st := evaluated(t, tpl, s)
		var got []string
		for _, id := range st.ofType("AWS::CloudWatch::Alarm") {
			p := st.Resources[id]
			if r := (MetricRef{Namespace: scalarString(p["Namespace"]), Name: scalarString(p["MetricName"]), Dims: dimsOf(p["Dimensions"])}); r.Dims["QueueName"] == GetAttOf("BufferQueue", "QueueName") {
				got = append(got, r.String())
			}
		}
		slices.Sort(got)
		return got
	}
	if got, want := queueAlarms(Scenario{"Delivery": "buffered"}), []string{
		"AWS/SQS/ApproximateAgeOfOldestMessage{QueueName={{BufferQueue.QueueName}}}",
		"AWS/SQS/ApproximateNumberOfMessagesVisible{QueueName={{BufferQueue.QueueName}}}",
	}; !slices.Equal(got, want) {
		t.Errorf("buffered: buffer queue alarms %v, want %v", got, want)
	}
	if got := queueAlarms(Scenario{}); len(got) > 0 {
		t.Errorf("direct: buffer queue alarms %v", got)
	}
}

// TestSavedQueries: the seed's six questions, over the notable-event lines.
func TestSavedQueries(t *testing.T) {
	tpl := load(t)
	if n := len(tpl.ResourcesOfType("AWS::Logs::QueryDefinition")); n != 6 {
		t.Errorf("%d query definitions, want the seed's 6", n)
	}
	if n := len(tpl.ResourcesOfType("AWS::CloudWatch::InsightRule")); n != 2 {
		t.Errorf("%d insight rules, want 2 (NotAuthorizedException and ForgotPassword source IPs)", n)
	}
}

func TestBuild(t *testing.T) {
	tpl := load(t)
	for _, p := range tpl.CheckBuild(root) {
		t.Error(p)
	}
}

// TestParametersMatchCode: parameter defaults and allowed values agree with
// the code's.
func TestParametersMatchCode(t *testing.T) {
	tpl := load(t)
	if got := tpl.Parameters["Namespace"].Default; got != metric.DefaultNamespace {
		t.Errorf("Namespace default %q, want metric.DefaultNamespace %q", got, metric.DefaultNamespace)
	}
	for _, v := range tpl.Parameters["DetailLevel"].AllowedValues {
		if _, err := metric.ParseLevel(v); err != nil {
			t.Error(err)
		}
	}
	if l, _ := metric.ParseLevel(tpl.Parameters["DetailLevel"].Default); l != metric.Standard {
		t.Errorf("DetailLevel default %q, the code's default is standard", tpl.Parameters["DetailLevel"].Default)
	}
	if got, want := tpl.Parameters["MaxPools"].Default, itoa(aggregate.DefaultMaxPools); got != want {
		t.Errorf("MaxPools default %s, aggregate.DefaultMaxPools is %s", got, want)
	}
}

// The checker must catch what it is for: a template that drifted from the
// catalog fails, with a message naming the problem.
func TestCheckerCatchesDrift(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"wrong metric name in an alarm", "MetricName: FilesFailed", "MetricName: FileFailures", `no metric "FileFailures"`},
		{"wrong dimension set in an alarm", "        - Name: AuthType\n          Value: unauthenticated", "        - Name: Category\n          Value: unauthenticated", "is not published with dimensions [Category]"},
		{"wrong auth type", "Value: unauthenticated", "Value: guest", `"guest" is not an auth type`},
		{"wrong category on the dashboard", `"Events","Category","hosted-ui",{"label":"hosted UI"}`, `"Events","Category","hostedui",{"label":"hosted UI"}`, `"hostedui" is not a category`},
		{"standard-level set in an alarm", "      MetricName: UserPoolConfigChanges\n", "      MetricName: UserPoolConfigChanges\n      Dimensions:\n        - Name: Operation\n          Value: UpdateUserPool\n", "published at level standard"},
		{"hard-coded namespace", `[["${Namespace}","FilesProcessed"]`, `[["CognitoTrail","FilesProcessed"]`, `namespace "CognitoTrail" is not the function's NAMESPACE "Custom/Cognito"`},
		{"Average of a count", `"FilesSkipped"],`, `"FilesSkipped",{"stat":"Average"}],`, "use the Sum statistic"},
		{"SEARCH with a wrong schema", `{\"${Namespace}\",Category,ErrorCode} MetricName=\"Errors\"`, `{\"${Namespace}\",ErrorCode} MetricName=\"Errors\"`, "is not published with dimensions [ErrorCode]"},
		{"widget past the grid", `{"type":"metric","x":12,"y":11,"width":12,"height":6`, `{"type":"metric","x":14,"y":11,"width":12,"height":6`, "leaves the 24-unit grid"},
		{"insight rule filter misspelt", `"Filters": [`, `"Filter": [`, `unknown field "Filter"`},
		{"saved query with a misspelt command", "| sort @timestamp desc", "| sortt @timestamp desc", `query command "sortt"`},
		{"alarm with two returned series", "          Label: sign-in failures (0 where none published)\n          ReturnData: true", "          Label: sign-in failures (0 where none published)\n          ReturnData: true\n        - Id: extra\n          Expression: dense * 2", "Metrics return data"},
		{"SEARCH namespace unquoted", `{\"${Namespace}\",Category,ErrorCode}`, `{${Namespace},Category,ErrorCode}`, "must be in double quotes"},
		{"insight rule on an unlogged field", `"Keys": ["$.sourceIPAddress"]`, `"Keys": ["$.sourceIp"]`, `"$.sourceIp", not a notable-event field`},
		{"query on an unlogged field", "| stats count(*) as count by sourceIPAddress\n", "| stats count(*) as count by clientIp\n", `uses field "clientIp"`},
		{"alarm missing from the status widget", `,"${NoFilesProcessedAlarm.Arn}"${BufferQueueAlarms}]`, `${BufferQueueAlarms}]`, "NoFilesProcessedAlarm is missing from the alarm status widget"},
		{"buffered alarm missing from the status widget", `,"${BufferQueueAgeAlarm.Arn}"'`, `'`, "BufferQueueAgeAlarm is missing from the alarm status widget"},
		{"FilesFailed on one period", "      MetricName: FilesFailed\n      Statistic: Sum\n      Period: 300\n      EvaluationPeriods: 6\n      DatapointsToAlarm: 1\n", "      MetricName: FilesFailed\n      Statistic: Sum\n      Period: 300\n      EvaluationPeriods: 1\n", "a late file's datapoint would be missed"},
		{"no TreatMissingData", "      TreatMissingData: breaching\n", "", "no TreatMissingData"},
		{"PutMetricData on any namespace", "cloudwatch:namespace: !Ref Namespace", "cloudwatch:namespace: CognitoTrail", "must be conditioned on cloudwatch:namespace"},
		{"standard-level widget shown at basic", "EmitStandard: !Not [!Equals [!Ref DetailLevel, basic]]", "EmitStandard: !Equals [!Ref DetailLevel, !Ref DetailLevel]", "published at level standard, but this stack publishes basic"},
		{"Lambda's own log level above INFO", "        LogFormat: JSON\n", "        LogFormat: JSON\n        ApplicationLogLevel: WARN\n", "ApplicationLogLevel WARN: Lambda would drop"},
		// Delivery=buffered.
		{"no partial batch responses", "      FunctionResponseTypes: [ReportBatchItemFailures]\n", "", "lacks ReportBatchItemFailures"},
		{"visibility timeout under six function timeouts", `"120": { VisibilityTimeout: 1020,`, `"120": { VisibilityTimeout: 600,`, "visibility timeout 600 s is less than 6 x the function timeout 120 s"},
		{"no redrive to the dead-letter queue", "      RedrivePolicy:\n        deadLetterTargetArn: !GetAtt DeadLetterQueue.Arn\n        maxReceiveCount: !Ref MaxReceiveCount\n", "", "does not redrive to the dead-letter queue"},
		{"large batches without a window", "      MaximumBatchingWindowInSeconds: !Ref BatchingWindow\n", "", "above 10 needs MaximumBatchingWindowInSeconds"},
		{"buffered bucket still notifies the function", "        LambdaConfigurations: !If\n          - Direct\n", "        LambdaConfigurations: !If\n          - NewBucket\n", "notifications go to {{ProcessorFunction.Arn}}, not the buffer queue"},
		{"buffered rule still targets the function", "Arn: !If [Buffered, !GetAtt BufferQueue.Arn, !GetAtt ProcessorFunction.Arn]", "Arn: !GetAtt ProcessorFunction.Arn", "notifications go to {{ProcessorFunction.Arn}}, not the buffer queue"},
		{"direct bucket notifies the queue", "        LambdaConfigurations: !If\n          - Direct\n", "        LambdaConfigurations: !If\n          - Buffered\n", "DELIVERY=direct, but no bucket notification or rule sends trail files to the function"},
		{"S3 may still invoke the function in buffered mode", "    Condition: NewBucketDirect\n    Properties:\n      Action: lambda:InvokeFunction", "    Condition: NewBucket\n    Properties:\n      Action: lambda:InvokeFunction", "S3 may still invoke the function"},
		{"anyone may send to the buffer queue", "              Principal: { Service: s3.amazonaws.com }\n              Action: sqs:SendMessage\n              Resource: !GetAtt BufferQueue.Arn", "              Principal: \"*\"\n              Action: sqs:SendMessage\n              Resource: !GetAtt BufferQueue.Arn", "policy allows principal *"},
		{"S3 may send from any account", "                StringEquals:\n                  aws:SourceAccount: !Ref AWS::AccountId\n            - Sid: ObjectCreatedEvents", "            - Sid: ObjectCreatedEvents", "without aws:SourceAccount"},
		{"a second policy on the dead-letter queue", "  BufferQueueEventSource:\n", "  RedriveSourcePolicy:\n    Type: AWS::SQS::QueuePolicy\n    Properties:\n      Queues: [!Ref DeadLetterQueue]\n      PolicyDocument: {}\n\n  BufferQueueEventSource:\n", "queue policies [DeadLetterQueuePolicy RedriveSourcePolicy]: a queue has one policy"},
		{"backlog alarm on the dead-letter queue", "      MetricName: ApproximateNumberOfMessagesVisible\n      Dimensions:\n        - Name: QueueName\n          Value: !GetAtt BufferQueue.QueueName", "      MetricName: ApproximateNumberOfMessagesVisible\n      Dimensions:\n        - Name: QueueName\n          Value: !GetAtt DeadLetterQueue.QueueName", "no alarm on the buffer queue's ApproximateNumberOfMessagesVisible"},
		{"age alarm fires on one retry", `VisibilityTimeout: 1020, OldestMessageAlarm: 2040 }`, `VisibilityTimeout: 1020, OldestMessageAlarm: 1100 }`, "fires on a message retried once"},
		{"age alarm fires after the dead-letter queue", `VisibilityTimeout: 1020, OldestMessageAlarm: 2040 }`, `VisibilityTimeout: 1020, OldestMessageAlarm: 5100 }`, "only fires after SQS has moved the message"},
		{"no poll grant", "Action: [sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes]", "Action: [sqs:ReceiveMessage]", "does not let the event source mapping poll it"},
		{"bucket does not wait for the queue policy", "DestinationGrant: !If [Buffered, !Ref BufferQueuePolicy, !Ref S3InvokePermission]", "DestinationGrant: !If [Buffered, \"\", !Ref S3InvokePermission]", "does not wait for the buffer queue's policy"},
		{"bucket does not wait for the invoke permission", "DestinationGrant: !If [Buffered, !Ref BufferQueuePolicy, !Ref S3InvokePermission]", "DestinationGrant: !If [Buffered, !Ref BufferQueuePolicy, \"\"]", "does not wait for S3's permission to invoke the function"},
		{"function not told it is buffered", "          DELIVERY: !Ref Delivery\n", "", "DELIVERY=direct, but an event source mapping feeds the function"},
		{"reference to a resource of the other mode", "Value: !If [NewBucket, !Ref TrailBucket, !Ref ExistingTrailBucketName]", "Value: !Ref TrailBucket", "TrailBucket: the resource does not exist in this scenario"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Count(string(orig), tc.old) < 1 {
				t.Fatalf("the template no longer contains %q; update this test", tc.old)
			}
			mutated := strings.Replace(string(orig), tc.old, tc.new, 1)
			tpl, err := Parse([]byte(mutated))
			if err != nil {
				t.Fatal(err)
			}
			// The first scenario that shows the problem is enough: the
			// scenarios are many, and the drift cases too. They are visited
			// in a stride through the list, so that every axis (the first
			// ones vary slowest) changes early.
			var all []string
			for _, s := range spread(scenarios(t, tpl)) {
				probs, err := tpl.Check(s)
				if err != nil {
					all = append(all, err.Error())
				}
				for _, p := range probs {
					all = append(all, p.String())
				}
				for _, p := range all {
					if strings.Contains(p, tc.want) {
						return
					}
				}
			}
			t.Errorf("want a problem containing %q, got %d problems: %.5q", tc.want, len(all), all)
		})
	}

	// And the Makefile side.
	tpl, err := Parse([]byte(strings.Replace(string(orig), "ProcessorFunction:\n    Type: AWS::Serverless::Function", "ProcessorFn:\n    Type: AWS::Serverless::Function", 1)))
	if err != nil {
		t.Fatal(err)
	}
	probs := tpl.CheckBuild(root)
	if len(probs) == 0 || !strings.Contains(probs[0].Msg, "no target build-ProcessorFn") {
		t.Errorf("renamed function: %v", probs)
	}
}

func TestCheckMetric(t *testing.T) {
	for _, tc := range []struct {
		r     MetricRef
		level metric.Level
		ok    bool
	}{
		{MetricRef{"NS", "Events", map[string]string{"Category": "hosted-ui"}, "Sum"}, metric.Basic, true},
		{MetricRef{"NS", "Events", map[string]string{"Category": "hosted-ui", "Operation": ""}, "Sum"}, metric.Basic, false},
		{MetricRef{"NS", "Events", map[string]string{"Category": "hosted-ui", "Operation": ""}, "Sum"}, metric.Standard, true},
		{MetricRef{"NS", "Events", map[string]string{"Category": "hosted-ui", "UserPoolId": ""}, "Sum"}, metric.Standard, false},
		{MetricRef{"NS", "Events", map[string]string{"Category": "hosted-ui", "UserPoolId": ""}, "Sum"}, metric.Full, true},
		{MetricRef{"NS", "Errors", map[string]string{"Category": "other"}, "Sum"}, metric.Basic, false},
		{MetricRef{"NS", "DeliveryLagSeconds", nil, "p99"}, metric.Basic, true},
		{MetricRef{"NS", "SignInFailures", nil, "Sum"}, metric.Basic, true},
		{MetricRef{"NS", "SignInFailure", nil, "Sum"}, metric.Basic, false},
		{MetricRef{"AWS/Lambda", "Errors", map[string]string{"FunctionName": "{{ProcessorFunction}}"}, "Sum"}, metric.Basic, true},
		{MetricRef{"AWS/Lambda", "Errors", map[string]string{"FunctionName": "someone-elses"}, "Sum"}, metric.Basic, false},
	} {
		err := CheckMetric(tc.r, "NS", tc.level)
		if (err == nil) != tc.ok {
			t.Errorf("%v at %v: err=%v, want ok=%v", tc.r, tc.level, err, tc.ok)
		}
	}
}

func TestParseSearch(t *testing.T) {
	r, err := ParseSearch(`SEARCH('{CognitoTrail,Category,Operation} MetricName="Events" Category="hosted-ui"', 'Sum', 300)`)
	if err != nil {
		t.Fatal(err)
	}
	if r.String() != "CognitoTrail/Events{Category=hosted-ui,Operation} Sum" {
		t.Errorf("got %s", r)
	}
	if _, err := ParseSearch(`SEARCH('{CognitoTrail,Category} Category="x"', 'Sum', 300)`); err == nil {
		t.Error("SEARCH without MetricName accepted")
	}
}

var readmeCount = regexp.MustCompile(`at most (\d+) custom metrics at the basic level`)

// TestREADMEMetricCount: the README's basic-level metric count is the one
// the catalog implies.
func TestREADMEMetricCount(t *testing.T) {
	b, err := docs.Read(root)
	if err != nil {
		t.Fatal(err)
	}
	m := readmeCount.FindStringSubmatch(b)
	if m == nil {
		t.Skip("README has no \"at most N custom metrics at the basic level\" yet")
	}
	if got, want := string(m[1]), itoa(BasicSeriesUpperBound()); got != want {
		t.Errorf("README says at most %s basic-level metrics, the catalog gives %s", got, want)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestEventBridgeRuleMatchesSampleEvent: the existing-bucket rule's pattern
// matches the sample "Object Created" event of a log file, and not a digest.
func TestEventBridgeRuleMatchesSampleEvent(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "events/eventbridge-object-created.json"))
	if err != nil {
		t.Skip(err)
	}
	var event map[string]any
	if err := json.Unmarshal(b, &event); err != nil {
		t.Fatal(err)
	}
	bucket := scalarString(asMap(asMap(event["detail"])["bucket"])["name"])
	st, probs, err := load(t).Evaluate(Scenario{"TrailSource": "existing-bucket", "ExistingTrailBucketName": bucket})
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	pattern := asMap(st.Resources["ObjectCreatedRule"]["EventPattern"])
	if !matchPattern(pattern, event) {
		t.Errorf("pattern %s does not match %s", toJSON(pattern), b)
	}
	obj := asMap(asMap(event["detail"])["object"])
	for _, key := range []string{
		"AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/20/123456789012_CloudTrail-Digest_us-east-1_t_us-east-1_20261120T101012Z.json.gz",
		"AWSLogs/123456789012/CloudTrail-Insight/us-east-1/2026/11/20/x.json.gz",
		"other/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/x.json.gz",
	} {
		obj["key"] = key
		if matchPattern(pattern, event) {
			t.Errorf("pattern matches %s", key)
		}
	}
}

// matchPattern is enough of EventBridge's matching for the rule: nested
// objects, lists of exact values, prefix and wildcard.
func matchPattern(pattern, event map[string]any) bool {
	for k, p := range pattern {
		v, ok := event[k]
		if exists, set := asMap(firstOf(p))["exists"].(bool); set {
			if exists != ok {
				return false
			}
			continue
		}
		if !ok {
			return false
		}
		if sub, ok := p.(map[string]any); ok {
			if !matchPattern(sub, asMap(v)) {
				return false
			}
			continue
		}
		s := scalarString(v)
		matched := false
		for _, alt := range asList(p) {
			switch a := alt.(type) {
			case string:
				matched = matched || a == s
			case map[string]any:
				if pre, ok := a["prefix"].(string); ok {
					matched = matched || strings.HasPrefix(s, pre)
				}
				if w, ok := a["wildcard"].(string); ok {
					re := "^" + strings.ReplaceAll(regexp.QuoteMeta(w), `\*`, ".*") + "$"
					matched = matched || regexp.MustCompile(re).MatchString(s)
				}
			}
		}
		if !matched {
			return false
		}
	}
	return true
}

func firstOf(p any) any {
	if l := asList(p); len(l) > 0 {
		return l[0]
	}
	return nil
}

// TestRealtimeFindingsRule: with RealtimeFindings the rule sends exactly the
// catalog's operations (finding.Operations) from Cognito's two services to
// the function, matches the sample event and not a failed call, and its
// failures reach the dead-letter queue; without it there is no rule.
func TestRealtimeFindingsRule(t *testing.T) {
	tpl := load(t)
	st, probs, err := tpl.Evaluate(Scenario{"RealtimeFindings": "true"})
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	rule := st.Resources["CognitoApiCallRule"]
	pattern := asMap(rule["EventPattern"])
	detail := asMap(pattern["detail"])
	var wantOps, wantSources []string
	for src, ops := range finding.Operations() {
		wantSources = append(wantSources, src)
		wantOps = append(wantOps, ops...)
	}
	slices.Sort(wantOps)
	slices.Sort(wantSources)
	gotOps := slices.Sorted(slices.Values(stringList(detail["eventName"])))
	if !slices.Equal(gotOps, wantOps) {
		t.Errorf("rule eventName %v, the catalog's operations %v", gotOps, wantOps)
	}
	if got := slices.Sorted(slices.Values(stringList(detail["eventSource"]))); !slices.Equal(got, wantSources) {
		t.Errorf("rule eventSource %v, want %v", got, wantSources)
	}
	if got := slices.Sorted(slices.Values(stringList(pattern["source"]))); !slices.Equal(got, slices.Sorted(slices.Values(notification.APICallSources))) {
		t.Errorf("rule source %v, want %v", got, notification.APICallSources)
	}
	b, err := os.ReadFile(filepath.Join(root, "events/eventbridge-cognito-api-call.json"))
	if err != nil {
		t.Fatal(err)
	}
	var event map[string]any
	if err := json.Unmarshal(b, &event); err != nil {
		t.Fatal(err)
	}
	if !matchPattern(pattern, event) {
		t.Errorf("pattern %s does not match the sample event", toJSON(pattern))
	}
	asMap(event["detail"])["errorCode"] = "AccessDeniedException"
	if matchPattern(pattern, event) {
		t.Error("pattern matches a failed call")
	}
	delete(asMap(event["detail"]), "errorCode")
	asMap(event["detail"])["eventName"] = "DescribeIdentityPool"
	if matchPattern(pattern, event) {
		t.Error("pattern matches an operation outside the catalog")
	}
	targets := asList(rule["Targets"])
	if len(targets) != 1 || asMap(targets[0])["Arn"] != GetAttOf("ProcessorFunction", "Arn") ||
		asMap(asMap(targets[0])["DeadLetterConfig"])["Arn"] != GetAttOf("DeadLetterQueue", "Arn") {
		t.Errorf("rule targets %s", toJSON(targets))
	}
	if p := st.Resources["RealtimeInvokePermission"]; p == nil || p["SourceArn"] != GetAttOf("CognitoApiCallRule", "Arn") {
		t.Errorf("invoke permission %v", p)
	}
	if doc := toJSON(st.Resources["DeadLetterQueuePolicy"]); !strings.Contains(doc, `"aws:SourceArn":"`+GetAttOf("CognitoApiCallRule", "Arn")+`"`) {
		t.Errorf("dead-letter queue policy %s does not admit the rule", doc)
	}
	st, _, err = tpl.Evaluate(Scenario{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"CognitoApiCallRule", "RealtimeInvokePermission", "DeadLetterQueuePolicy"} {
		if _, ok := st.Resources[id]; ok {
			t.Errorf("RealtimeFindings false: %s exists", id)
		}
	}
}

// TestFindingsTopic: the function publishes findings to the topic given, or
// to the one the stack creates for NotifyEmail, and may publish nowhere
// else; without either there is no topic, no grant and no variable.
// RealtimeFindings without a topic is refused.
func TestFindingsTopic(t *testing.T) {
	tpl := load(t)
	const arn = "arn:aws:sns:us-east-1:123456789012:security-findings"
	for _, tc := range []struct {
		s            Scenario
		topic        any // FINDINGS_TOPIC_ARN and the sns:Publish resource
		created, sub bool
	}{
		{Scenario{}, nil, false, false},
		{Scenario{"NotifyEmail": "soc@example.com"}, RefOf("FindingsTopic"), true, true},
		{Scenario{"FindingsTopicArn": arn}, arn, false, false},
		{Scenario{"FindingsTopicArn": arn, "NotifyEmail": "soc@example.com"}, arn, false, true},
	} {
		st, probs, err := tpl.Evaluate(tc.s)
		if err != nil || len(probs) > 0 {
			t.Fatal(tc.s, err, probs)
		}
		vars := asMap(asMap(st.Resources[st.FunctionID]["Environment"])["Variables"])
		if got := vars["FINDINGS_TOPIC_ARN"]; got != tc.topic {
			t.Errorf("%v: FINDINGS_TOPIC_ARN %v, want %v", tc.s, got, tc.topic)
		}
		var publish []any
		for stmt := range roleStatements(st.Resources["ProcessorRole"]) {
			if stmt["Action"] == "sns:Publish" {
				publish = append(publish, stmt["Resource"])
			}
		}
		if tc.topic == nil && len(publish) > 0 || tc.topic != nil && (len(publish) != 1 || publish[0] != tc.topic) {
			t.Errorf("%v: sns:Publish on %v, want %v", tc.s, publish, tc.topic)
		}
		if _, ok := st.Resources["FindingsTopic"]; ok != tc.created {
			t.Errorf("%v: FindingsTopic created=%v", tc.s, ok)
		}
		sub, ok := st.Resources["FindingsEmailSubscription"]
		if ok != tc.sub || ok && (sub["TopicArn"] != tc.topic || sub["Endpoint"] != "soc@example.com") {
			t.Errorf("%v: subscription %v", tc.s, sub)
		}
	}
	if ok, _ := rulesHold(t, tpl, Scenario{"RealtimeFindings": "true"}); ok {
		t.Error("RealtimeFindings without a topic is accepted")
	}
}

// TestFindingsDashboard: the dashboard counts findings by severity (and by
// name at standard) and lists the latest finding lines.
func TestFindingsDashboard(t *testing.T) {
	tpl := load(t)
	for _, level := range []string{"basic", "standard"} {
		st := evaluated(t, tpl, Scenario{"DetailLevel": level})
		refs, _, _, queries, err := DashboardRefs(scalarString(st.Resources["Dashboard"]["DashboardBody"]))
		if err != nil {
			t.Fatal(err)
		}
		var severities []string
		byName := false
		for _, r := range refs {
			if r.Name == metric.Findings {
				if v, ok := r.Dims[metric.DimSeverity]; ok {
					severities = append(severities, v)
				}
				_, named := r.Dims[metric.DimFinding]
				byName = byName || named
			}
		}
		slices.Sort(severities)
		if !slices.Equal(severities, []string{"high", "medium"}) {
			t.Errorf("%s: findings by severity %v", level, severities)
		}
		if byName != (level == "standard") {
			t.Errorf("%s: findings by name shown=%v", level, byName)
		}
		found := false
		for _, q := range queries {
			found = found || strings.Contains(q, `message = "`+FindingMsg+`"`)
		}
		if !found {
			t.Errorf("%s: no log widget over the finding lines: %v", level, queries)
		}
	}
}

// TestFunctionEnvironmentIsValidConfig: in every scenario the function's
// environment is a configuration the function accepts, and says what the
// parameters asked for.
func TestFunctionEnvironmentIsValidConfig(t *testing.T) {
	// The variables the function reads: those ConfigFromEnv asks for.
	var known []string
	lambdaapp.ConfigFromEnv(func(k string) string {
		known = append(known, k)
		return ""
	})
	if len(known) < 20 {
		t.Fatalf("ConfigFromEnv asked for %d variables: %v", len(known), known)
	}
	tpl := load(t)
	for _, s := range scenarios(t, tpl) {
		st := evaluated(t, tpl, s)
		vars := asMap(asMap(st.Resources[st.FunctionID]["Environment"])["Variables"])
		env := map[string]string{}
		for k, v := range vars {
			if !slices.Contains(known, k) {
				t.Fatalf("%v: the function reads no environment variable %s", s, k)
			}
			env[k] = scalarString(v)
		}
		cfg, err := lambdaapp.ConfigFromEnv(func(k string) string { return env[k] })
		if err != nil {
			t.Fatalf("%v: the function would refuse its environment: %v", s, err)
		}
		e := st.Env
		if cfg.Namespace != e.Param("Namespace") || cfg.Sink != e.Param("MetricsSink") || cfg.Level.String() != e.Param("DetailLevel") {
			t.Errorf("%v: config %+v does not follow the parameters", s, cfg)
		}
		if (cfg.IdempotencyTable != "") != (e.Param("EnableIdempotency") == "true") {
			t.Errorf("%v: IdempotencyTable %q", s, cfg.IdempotencyTable)
		}
		if cfg.ResolveClients != (e.Param("ResolveClients") == "true") || len(cfg.ClientPools) != strings.Count(e.Param("ClientPools"), "=") {
			t.Errorf("%v: ResolveClients %v, ClientPools %v", s, cfg.ResolveClients, cfg.ClientPools)
		}
		doc := toJSON(st.Resources["ProcessorRole"])
		if got := strings.Contains(doc, "cognito-idp:"); got != (cfg.ResolveClients || cfg.Posture) {
			t.Errorf("%v: cognito-idp statements present=%v", s, got)
		}
		if cfg.Posture != (e.Param("PostureSchedule") != "") {
			t.Errorf("%v: POSTURE %v", s, cfg.Posture)
		}
		// The posture grants are TestPostureGrants'.
		if cfg.ResolveClients && (!strings.Contains(doc, `"Action":"cognito-idp:ListUserPoolClients","Effect":"Allow","Resource":"arn:aws:cognito-idp:us-east-1:123456789012:userpool/*"`) ||
			(!cfg.Posture && strings.Count(doc, "cognito-idp:") != 3)) {
			t.Errorf("%v: the lookup's grant is not exactly ListUserPools and ListUserPoolClients on this account's pools: %s", s, doc)
		}
		if cfg.NotifySeverity.String() != e.Param("NotifySeverity") || strconv.Itoa(cfg.SignInThreshold) != e.Param("SigninIPThreshold") {
			t.Errorf("%v: NotifySeverity %v, SignInThreshold %d", s, cfg.NotifySeverity, cfg.SignInThreshold)
		}
		notify := e.Param("FindingsTopicArn") != "" || e.Param("NotifyEmail") != ""
		if (cfg.FindingsTopicARN != "") != notify || strings.Contains(doc, "sns:Publish") != notify {
			t.Errorf("%v: FINDINGS_TOPIC_ARN %q, sns:Publish granted %v", s, cfg.FindingsTopicARN, strings.Contains(doc, "sns:Publish"))
		}
		if w, err := finding.ParseWindows(e.Param("AttackWindows")); err != nil || cfg.Windows != w {
			t.Errorf("%v: AttackWindows parameter %q, config %+v", s, e.Param("AttackWindows"), cfg.Windows)
		}
		if p := e.Param("MaxRecordBytes"); p != strconv.Itoa(cfg.MaxRecordBytes) {
			t.Errorf("%v: MaxRecordBytes parameter %s, config %d", s, p, cfg.MaxRecordBytes)
		}
		if cfg.CloudWatchProtocol != lambdaapp.ProtocolCBOR {
			t.Errorf("%v: CloudWatch protocol %q in AWS, want the SDK default", s, cfg.CloudWatchProtocol)
		}
	}
}

// TestStackDeletionKeepsData: deleting or replacing the stack neither fails
// on a bucket that holds objects (CloudFormation cannot delete a non-empty
// bucket: the Athena results bucket fills with every query) nor drops data
// not yet used (the dead-letter queue's events, the trail files).
func TestStackDeletionKeepsData(t *testing.T) {
	tpl := load(t)
	for _, typ := range []string{"AWS::S3::Bucket", "AWS::SQS::Queue"} {
		ids := tpl.ResourcesOfType(typ)
		if len(ids) == 0 {
			t.Fatalf("no %s", typ)
		}
		for _, id := range ids {
			r := tpl.Resources[id]
			if r.DeletionPolicy != "Retain" || r.UpdateReplacePolicy != "Retain" {
				t.Errorf("%s (%s): DeletionPolicy %q, UpdateReplacePolicy %q; want Retain for both", id, typ, r.DeletionPolicy, r.UpdateReplacePolicy)
			}
		}
	}
}

// TestOrganizationTrailDelivery: with OrganizationId the new bucket accepts
// an organization trail's files (AWSLogs/<org id>/...) under the CloudTrail
// User Guide's organization-trail statement, the stack's own trail becomes
// the organization trail, and the function reads and is notified of those
// keys; without it, nothing of the kind (issue 7: only AWSLogs/<account>/
// could be written).
func TestOrganizationTrailDelivery(t *testing.T) {
	tpl := load(t)
	const org = "o-a1b2c3d4e5"
	const bucket = "arn:aws:s3:::cognitrail-123456789012-us-east-1-1b2c3d4e"
	for _, tc := range []struct {
		s       Scenario
		want    string // the statement's JSON, "" for none
		orgFlag bool
	}{
		{Scenario{"OrganizationId": org},
			`{"Action":"s3:PutObject","Condition":{"StringEquals":{"aws:SourceArn":"arn:aws:cloudtrail:us-east-1:123456789012:trail/cognitrail-cognito","s3:x-amz-acl":"bucket-owner-full-control"}},"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Resource":"{{TrailBucket.Arn}}/AWSLogs/` + org + `/*","Sid":"AWSCloudTrailOrganizationWrite"}`, true},
		{Scenario{"OrganizationId": org, "CreateTrail": "false", "TrailKeyPrefix": "p"},
			`{"Action":"s3:PutObject","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:123456789012:trail/*"},"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}},"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Resource":"{{TrailBucket.Arn}}/p/AWSLogs/` + org + `/*","Sid":"AWSCloudTrailOrganizationWrite"}`, false},
		{Scenario{}, "", false},
	} {
		st, probs, err := tpl.Evaluate(tc.s)
		if err != nil || len(probs) > 0 {
			t.Fatal(tc.s, err, probs)
		}
		var got string
		for _, stmt := range asList(asMap(st.Resources["TrailBucketPolicy"]["PolicyDocument"])["Statement"]) {
			if asMap(stmt)["Sid"] == "AWSCloudTrailOrganizationWrite" {
				got = toJSON(stmt)
			}
		}
		if got != tc.want {
			t.Errorf("%v: organization statement\n got %s\nwant %s", tc.s, got, tc.want)
		}
		if tr, ok := st.Resources["Trail"]; ok && tr["IsOrganizationTrail"] != tc.orgFlag {
			t.Errorf("%v: IsOrganizationTrail %v", tc.s, tr["IsOrganizationTrail"])
		}
		if tc.want == "" {
			continue
		}
		// The function reads the organization layout's keys and S3 notifies it.
		key := "AWSLogs/" + org + "/210987654321/CloudTrail/us-east-1/2026/11/20/x.json.gz"
		if p := tc.s["TrailKeyPrefix"]; p != "" {
			key = p + "/" + key
		}
		role := toJSON(st.Resources["ProcessorRole"])
		m := regexp.MustCompile(`"Resource":"(arn:aws:s3:::[^"]*AWSLogs/\*)"`).FindStringSubmatch(role)
		if m == nil || !strings.HasPrefix(bucket+"/"+key, strings.TrimSuffix(m[1], "*")) {
			t.Errorf("%v: GetObject resource %v does not cover %s", tc.s, m, key)
		}
		lc := asList(asMap(st.Resources["TrailBucket"]["NotificationConfiguration"])["LambdaConfigurations"])
		rules := asList(asMap(asMap(asMap(lc[0])["Filter"])["S3Key"])["Rules"])
		if prefix := scalarString(asMap(rules[0])["Value"]); !strings.HasPrefix(key, prefix) {
			t.Errorf("%v: notification prefix %q does not cover %s", tc.s, prefix, key)
		}
	}
}

// TestCheckLogsQueryKnowsFindingLines: a query over the finding lines may
// use their fields (those of a `cognitrail findings` row), not the
// notable-event lines', and the other way round.
func TestCheckLogsQueryKnowsFindingLines(t *testing.T) {
	for q, ok := range map[string]bool{
		`fields @timestamp, severity, finding, actor, eventID | filter message = "finding"`:         true,
		`fields @timestamp, severity, sub | filter message = "finding"`:                             false,
		`fields @timestamp, severity | filter message = "cognito_event"`:                            false,
		`fields @timestamp, reason, sub | filter message = "cognito_event"`:                         true,
		`fields @timestamp, severity, finding | filter message = "object"`:                          false,
		`filter message = "finding" and severity = "high" | stats count(*) as n by finding, region`: true,
	} {
		if err := CheckLogsQuery(q); (err == nil) != ok {
			t.Errorf("%s: %v, want ok=%v", q, err, ok)
		}
	}
}

// spread returns ss in the order i*stride mod len(ss), a stride prime to the
// length: neighbours in the result differ in the slow axes too.
func spread(ss []Scenario) []Scenario {
	n := len(ss)
	stride := 97
	for n > 0 && gcd(stride, n) != 1 {
		stride += 2
	}
	out := make([]Scenario, n)
	for i := range out {
		out[i] = ss[i*stride%n]
	}
	return out
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// TestDeployPageListsEveryParameter: docs/deploy.md's Parameters table
// names every parameter of the template (in a row's first column, alone
// or with its companions), and no parameter the template lacks.
func TestDeployPageListsEveryParameter(t *testing.T) {
	tpl := load(t)
	page, err := os.ReadFile(filepath.Join(root, "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	start := strings.Index(s, "\n## Parameters\n")
	if start < 0 {
		t.Fatal("docs/deploy.md has no Parameters section")
	}
	s = s[start+1:]
	if end := strings.Index(s[1:], "\n## "); end >= 0 {
		s = s[:end+1]
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(s, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 {
			continue
		}
		for _, m := range regexp.MustCompile("`([A-Za-z]+)`").FindAllStringSubmatch(cells[1], -1) {
			listed[m[1]] = true
		}
	}
	for name := range tpl.Parameters {
		if !listed[name] {
			t.Errorf("docs/deploy.md's Parameters table does not list %s", name)
		}
		delete(listed, name)
	}
	delete(listed, "Parameter")
	for name := range listed {
		t.Errorf("docs/deploy.md's Parameters table lists %s, which the template does not have", name)
	}
}

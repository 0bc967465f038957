package templatecheck

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestBufferedDelivery: Delivery=buffered puts a queue between the way in
// (the bucket's notification or the Object Created rule) and the function,
// with the parameters' batch size, window and receive count, and leaves no
// direct invocation behind; direct mode has none of it.
func TestBufferedDelivery(t *testing.T) {
	tpl := load(t)
	buffered := []string{"BufferQueue", "BufferQueuePolicy", "BufferQueueEventSource", "BufferQueueBacklogAlarm", "BufferQueueAgeAlarm"}
	for _, tc := range []struct {
		s                 Scenario
		present, absent   []string
		vis, age, receive int
	}{
		{Scenario{"Delivery": "buffered", "Timeout": "300", "BatchSize": "500", "BatchingWindow": "30", "MaxReceiveCount": "7", "TrailKeyPrefix": "org"},
			append([]string{"TrailBucket"}, buffered...), []string{"S3InvokePermission", "EventBridgeInvokePermission"}, 2100, 4200, 7},
		{Scenario{"Delivery": "buffered", "TrailSource": "existing-bucket", "ExistingTrailBucketName": "example-trail-bucket", "TrailKeyPrefix": "org"},
			append([]string{"ObjectCreatedRule", "DeadLetterQueuePolicy"}, buffered...), []string{"S3InvokePermission", "EventBridgeInvokePermission", "TrailBucket"}, 1020, 2040, 5},
		{Scenario{"TrailKeyPrefix": "org"}, []string{"S3InvokePermission", "TrailBucket"}, append([]string{"EventBridgeInvokePermission"}, buffered...), 0, 0, 0},
		{Scenario{"TrailSource": "existing-bucket", "ExistingTrailBucketName": "example-trail-bucket", "TrailKeyPrefix": "org"},
			[]string{"EventBridgeInvokePermission", "ObjectCreatedRule"}, append([]string{"S3InvokePermission"}, buffered...), 0, 0, 0},
	} {
		st, probs, err := tpl.Evaluate(tc.s)
		if err != nil || len(probs) > 0 {
			t.Fatal(tc.s, err, probs)
		}
		for _, id := range tc.present {
			if _, ok := st.Resources[id]; !ok {
				t.Errorf("%v: %s missing", tc.s, id)
			}
		}
		for _, id := range tc.absent {
			if _, ok := st.Resources[id]; ok {
				t.Errorf("%v: %s should not exist", tc.s, id)
			}
		}
		want := tc.s["Delivery"]
		if want == "" {
			want = DeliveryDirect
		}
		if got := st.Delivery(); got != want {
			t.Errorf("%v: DELIVERY=%s", tc.s, got)
		}
		// What the way in targets: the queue or the function, with the
		// same key filter in both modes.
		target := GetAttOf("ProcessorFunction", "Arn")
		if want == DeliveryBuffered {
			target = GetAttOf("BufferQueue", "Arn")
		}
		if b, ok := st.Resources["TrailBucket"]; ok {
			nc := asMap(b["NotificationConfiguration"])
			key, other := "LambdaConfigurations", "QueueConfigurations"
			if want == DeliveryBuffered {
				key, other = other, key
			}
			if _, ok := nc[other]; ok {
				t.Errorf("%v: bucket has %s too: %s", tc.s, other, toJSON(nc))
			}
			c := asList(nc[key])
			if len(c) != 1 || !strings.Contains(toJSON(c[0]), `"`+target+`"`) ||
				!strings.Contains(toJSON(c[0]), `"Rules":[{"Name":"prefix","Value":"org/AWSLogs/"},{"Name":"suffix","Value":".json.gz"}]`) {
				t.Errorf("%v: bucket notification %s, want one %s to %s under org/AWSLogs/", tc.s, toJSON(nc), key, target)
			}
			// The bucket waits for the grant S3 checks when it puts the
			// notification: the invoke permission or the queue policy.
			grant := "S3InvokePermission"
			if want == DeliveryBuffered {
				grant = "BufferQueuePolicy"
			}
			if deps := st.dependencies("TrailBucket"); !slices.Equal(deps, []string{grant}) {
				t.Errorf("%v: the bucket waits for %v, want exactly %s", tc.s, deps, grant)
			}
		}
		if r, ok := st.Resources["ObjectCreatedRule"]; ok {
			tg := asList(r["Targets"])
			if len(tg) != 1 || asMap(tg[0])["Arn"] != target ||
				asMap(asMap(tg[0])["DeadLetterConfig"])["Arn"] != GetAttOf("DeadLetterQueue", "Arn") {
				t.Errorf("%v: rule targets %s, want %s with the dead-letter queue", tc.s, toJSON(tg), target)
			}
			// The dead-letter queue's one policy still admits the rule.
			if doc := toJSON(st.Resources["DeadLetterQueuePolicy"]); !strings.Contains(doc, `"aws:SourceArn":"`+GetAttOf("ObjectCreatedRule", "Arn")+`"`) {
				t.Errorf("%v: dead-letter queue policy %s", tc.s, doc)
			}
		}
		// The dashboard shows the buffer queue's depth and age in buffered
		// mode (the checker holds the alarm widget to every alarm).
		refs, _, _, _, err := DashboardRefs(scalarString(st.Resources["Dashboard"]["DashboardBody"]))
		if err != nil {
			t.Fatal(err)
		}
		var shown []string
		for _, r := range refs {
			if r.Dims["QueueName"] == GetAttOf("BufferQueue", "QueueName") {
				shown = append(shown, r.Name)
			}
		}
		if wantShown := want == DeliveryBuffered; slices.Equal(shown, []string{"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"}) != wantShown {
			t.Errorf("%v: dashboard shows the buffer queue's %v", tc.s, shown)
		}
		if want != DeliveryBuffered {
			continue
		}
		esm := st.Resources["BufferQueueEventSource"]
		batch, window := tc.s["BatchSize"], tc.s["BatchingWindow"]
		if batch == "" {
			batch, window = tpl.Parameters["BatchSize"].Default, tpl.Parameters["BatchingWindow"].Default
		}
		if scalarString(esm["BatchSize"]) != batch || scalarString(esm["MaximumBatchingWindowInSeconds"]) != window ||
			!slices.Equal(stringList(esm["FunctionResponseTypes"]), []string{"ReportBatchItemFailures"}) ||
			esm["EventSourceArn"] != GetAttOf("BufferQueue", "Arn") || esm["FunctionName"] != RefOf("ProcessorFunction") {
			t.Errorf("%v: event source mapping %s", tc.s, toJSON(esm))
		}
		q := st.Resources["BufferQueue"]
		rp := asMap(q["RedrivePolicy"])
		if atoiOr(q["VisibilityTimeout"], 0) != tc.vis || atoiOr(rp["maxReceiveCount"], 0) != tc.receive ||
			rp["deadLetterTargetArn"] != GetAttOf("DeadLetterQueue", "Arn") || q["SqsManagedSseEnabled"] != true {
			t.Errorf("%v: queue %s, want visibility %d, redrive to the DLQ after %d", tc.s, toJSON(q), tc.vis, tc.receive)
		}
		if th := atoiOr(st.Resources["BufferQueueAgeAlarm"]["Threshold"], 0); th != tc.age {
			t.Errorf("%v: age alarm threshold %d, want %d", tc.s, th, tc.age)
		}
	}
}

// TestBufferQueueMapping: the looked-up visibility timeout is six times
// each Timeout plus the longest batching window, the age alarm twice that,
// for exactly the Timeout values the template's Rule admits in buffered
// mode, which include the default and the maximum.
func TestBufferQueueMapping(t *testing.T) {
	tpl := load(t)
	m := asMap(tpl.Mappings["BufferQueueByTimeout"])
	var keys []int
	for k, v := range m {
		timeout, err := strconv.Atoi(k)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, timeout)
		vis, age := atoiOr(asMap(v)["VisibilityTimeout"], 0), atoiOr(asMap(v)["OldestMessageAlarm"], 0)
		if vis != VisibilityTimeoutFactor*timeout+MaxBatchingWindow || age != 2*vis {
			t.Errorf("Timeout %d: VisibilityTimeout %d (want %d), OldestMessageAlarm %d (want %d)", timeout, vis, VisibilityTimeoutFactor*timeout+MaxBatchingWindow, age, 2*vis)
		}
		if vis > 43200 {
			t.Errorf("Timeout %d: visibility timeout %d over SQS's 12 hours", timeout, vis)
		}
	}
	slices.Sort(keys)
	var admitted []int
	for _, v := range []string{"10", "29", "30", "60", "90", "120", "150", "180", "300", "600", "900"} {
		if ok, _ := rulesHold(t, tpl, Scenario{"Delivery": "buffered", "Timeout": v}); ok {
			n, _ := strconv.Atoi(v)
			admitted = append(admitted, n)
		}
	}
	if !slices.Equal(admitted, keys) {
		t.Errorf("buffered mode admits Timeout %v, the mapping has %v", admitted, keys)
	}
	for _, p := range []string{tpl.Parameters["Timeout"].Default, tpl.Parameters["Timeout"].MaxValue} {
		if _, ok := m[p]; !ok {
			t.Errorf("Timeout %s (default or maximum) is not in the mapping", p)
		}
	}
	// The parameters' ranges are Lambda's and SQS's.
	for name, want := range map[string][2]string{
		"BatchSize":       {"1", strconv.Itoa(MaxBatchSize)},
		"BatchingWindow":  {"0", strconv.Itoa(MaxBatchingWindow)},
		"MaxReceiveCount": {strconv.Itoa(MinMaxReceiveCount), "1000"},
	} {
		if p := tpl.Parameters[name]; p.MinValue != want[0] || p.MaxValue != want[1] {
			t.Errorf("%s: MinValue %s MaxValue %s, want %v", name, p.MinValue, p.MaxValue, want)
		}
	}
}

// TestBufferedRules: the template's Rules refuse what Lambda would refuse
// when it creates the mapping (a batch over 10 without a window) and a
// Timeout the mapping has no visibility timeout for; direct mode is free.
func TestBufferedRules(t *testing.T) {
	tpl := load(t)
	for _, tc := range []struct {
		s  Scenario
		ok bool
	}{
		{Scenario{"Delivery": "buffered"}, true},
		{Scenario{"Delivery": "buffered", "BatchSize": "100", "BatchingWindow": "0"}, false},
		{Scenario{"Delivery": "buffered", "BatchSize": "10", "BatchingWindow": "0"}, true},
		{Scenario{"Delivery": "buffered", "BatchSize": "11", "BatchingWindow": "1"}, true},
		{Scenario{"Delivery": "buffered", "Timeout": "150"}, false},
		{Scenario{"Timeout": "150", "BatchingWindow": "0"}, true},
	} {
		if ok, why := rulesHold(t, tpl, tc.s); ok != tc.ok {
			t.Errorf("%v: accepted=%v (%s), want %v", tc.s, ok, why, tc.ok)
		}
	}
}

// TestBufferedQueuePollGrant: the event source mapping's actions
// (implicitActions: Lambda's service use of the function's role) are
// granted in buffered mode only, on the buffer queue only, and the code
// never calls them itself.
func TestBufferedQueuePollGrant(t *testing.T) {
	poll := []string{"sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"}
	calls := sdkCalls(t)
	for _, a := range poll {
		if len(calls[a]) > 0 {
			t.Errorf("the function's code calls %s (%v): it is no longer only the event source mapping's", a, calls[a])
		}
		if _, ok := implicitActions[a]; !ok {
			t.Errorf("%s has no reason in implicitActions", a)
		}
	}
	tpl := load(t)
	seen := map[bool]bool{}
	for _, s := range scenarios(t, tpl) {
		st := evaluated(t, tpl, s)
		buffered := st.Delivery() == DeliveryBuffered
		seen[buffered] = true
		for stmt := range roleStatements(st.Resources["ProcessorRole"]) {
			acts := oneOrMore(stmt["Action"])
			if !slices.ContainsFunc(acts, func(a string) bool { return slices.Contains(poll, a) }) {
				continue
			}
			if !buffered || !slices.Equal(slices.Sorted(slices.Values(acts)), poll) || stmt["Resource"] != GetAttOf("BufferQueue", "Arn") {
				t.Fatalf("%v: poll statement %s", s, toJSON(stmt))
			}
		}
		if buffered && !st.grants("sqs:ReceiveMessage", GetAttOf("BufferQueue", "Arn")) {
			t.Fatalf("%v: buffered without the poll grant", s)
		}
	}
	if !seen[true] || !seen[false] {
		t.Errorf("scenarios cover buffered=%v direct=%v", seen[true], seen[false])
	}
}

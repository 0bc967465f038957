package templatecheck

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/cognitrail/cognitrail/internal/lambdaapp"
)

// Delivery modes: the function's DELIVERY variable, the template's Delivery
// parameter.
const (
	DeliveryDirect   = lambdaapp.DeliveryDirect
	DeliveryBuffered = lambdaapp.DeliveryBuffered
)

// Buffered-mode figures (AWS Lambda Developer Guide, "Using Lambda with
// Amazon SQS"): the queue's visibility timeout at least six times the
// function timeout; a BatchSize above 10 needs a batching window of at least
// 1 s; at most 10,000 messages a batch and 300 s of window; a
// maxReceiveCount of at least 5 so that throttled batches are not sent to
// the dead-letter queue.
const (
	VisibilityTimeoutFactor = 6
	MaxBatchSize            = 10000
	MaxBatchingWindow       = 300
	MinMaxReceiveCount      = 5
)

// attID returns the resource id of a GetAttOf(id, attr) placeholder.
func attID(v any, attr string) (string, bool) {
	s, ok := v.(string)
	if !ok || !strings.HasPrefix(s, "{{") || !strings.HasSuffix(s, "."+attr+"}}") {
		return "", false
	}
	return strings.TrimSuffix(strings.TrimPrefix(s, "{{"), "."+attr+"}}"), true
}

// DeadLetterQueueID is the queue the function's failed asynchronous events
// go to (EventInvokeConfig's OnFailure destination).
func (st *Stack) DeadLetterQueueID() string {
	fn := st.Resources[st.FunctionID]
	dest := asMap(asMap(asMap(fn["EventInvokeConfig"])["DestinationConfig"])["OnFailure"])["Destination"]
	id, _ := attID(dest, "Arn")
	return id
}

// Delivery is the function's DELIVERY variable ("direct" when unset).
func (st *Stack) Delivery() string {
	vars := asMap(asMap(st.Resources[st.FunctionID]["Environment"])["Variables"])
	if d := scalarString(vars[envDeliveryVar]); d != "" {
		return d
	}
	return DeliveryDirect
}

// envDeliveryVar is the function's DELIVERY variable.
const envDeliveryVar = lambdaapp.EnvDelivery

// objectCreatedRules are the EventBridge rules that carry S3 "Object
// Created" events (the trail files), not the realtime API-call rule.
func (st *Stack) objectCreatedRules() []string {
	var ids []string
	for _, id := range st.ofType("AWS::Events::Rule") {
		if slices.Contains(stringList(asMap(st.Resources[id]["EventPattern"])["detail-type"]), "Object Created") {
			ids = append(ids, id)
		}
	}
	return ids
}

var placeholderRef = regexp.MustCompile(`^\{\{([A-Za-z0-9]+)\}\}$`)

// dependencies returns the resources id waits for: its DependsOn and the
// resources its Metadata refers to (the conditional dependency
// CloudFormation allows), sorted.
func (st *Stack) dependencies(id string) []string {
	r := st.Env.t.Resources[id]
	deps := slices.Clone(r.DependsOn)
	md, err := st.Env.Eval(r.Metadata)
	if err != nil {
		return deps
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		case string:
			if m := placeholderRef.FindStringSubmatch(v); m != nil {
				deps = append(deps, m[1])
			} else if id, ok := attID(v, "Arn"); ok {
				deps = append(deps, id)
			}
		}
	}
	walk(md)
	slices.Sort(deps)
	return slices.Compact(deps)
}

// notifyingBuckets are the buckets with a notification configuration.
func (st *Stack) notifyingBuckets() []string {
	var ids []string
	for _, id := range st.ofType("AWS::S3::Bucket") {
		if _, ok := st.Resources[id]["NotificationConfiguration"]; ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// checkDelivery checks the way trail files reach the function: in direct
// mode S3 or the rule invokes it, nothing reads a queue; in buffered mode
// they send to one queue, which an event source mapping with partial batch
// responses reads, whose visibility timeout covers six function timeouts
// and the batching window, which redrives to the dead-letter queue, which
// only the bucket or the rule may send to, and which has a depth and an age
// alarm. Every queue has at most one policy.
func (st *Stack) checkDelivery() []Problem {
	var probs []Problem
	fail := func(id, format string, a ...any) { probs = append(probs, Problem{id, fmt.Sprintf(format, a...)}) }
	fnArn := GetAttOf(st.FunctionID, "Arn")

	policies := map[string][]string{} // queue id -> policy ids
	for _, id := range st.ofType("AWS::SQS::QueuePolicy") {
		for _, q := range asList(st.Resources[id]["Queues"]) {
			policies[strings.Trim(scalarString(q), "{}")] = append(policies[strings.Trim(scalarString(q), "{}")], id)
		}
	}
	for q, ps := range policies {
		if len(ps) > 1 {
			fail(q, "has %d queue policies %v: a queue has one policy, and each AWS::SQS::QueuePolicy replaces the other; merge them", len(ps), ps)
		}
	}

	// Where each way in sends trail files.
	var targets []string // GetAtt ...Arn of what buckets and rules deliver to
	for _, b := range st.notifyingBuckets() {
		nc := asMap(st.Resources[b]["NotificationConfiguration"])
		for _, c := range asList(nc["LambdaConfigurations"]) {
			targets = append(targets, scalarString(asMap(c)["Function"]))
		}
		for _, c := range asList(nc["QueueConfigurations"]) {
			targets = append(targets, scalarString(asMap(c)["Queue"]))
		}
	}
	for _, r := range st.objectCreatedRules() {
		for _, tg := range asList(st.Resources[r]["Targets"]) {
			targets = append(targets, scalarString(asMap(tg)["Arn"]))
		}
	}
	esms := st.ofType("AWS::Lambda::EventSourceMapping")
	dlq := st.DeadLetterQueueID()

	switch mode := st.Delivery(); mode {
	case DeliveryDirect:
		if len(targets) == 0 {
			fail(st.FunctionID, "DELIVERY=direct, but no bucket notification or rule sends trail files to the function")
		}
		for _, t := range targets {
			if t != fnArn {
				fail(st.FunctionID, "DELIVERY=direct, but trail file notifications go to %s, not the function", t)
			}
		}
		for _, id := range esms {
			fail(id, "DELIVERY=direct, but an event source mapping feeds the function")
		}
		for _, b := range st.notifyingBuckets() {
			if !slices.ContainsFunc(st.dependencies(b), func(d string) bool {
				return st.Types[d] == "AWS::Lambda::Permission" && st.Resources[d]["Principal"] == "s3.amazonaws.com"
			}) {
				fail(b, "does not wait for S3's permission to invoke the function: S3 checks the destination when it puts the notification")
			}
		}
		return probs
	case DeliveryBuffered:
	default:
		fail(st.FunctionID, "DELIVERY=%q is neither %s nor %s", mode, DeliveryDirect, DeliveryBuffered)
		return probs
	}

	if len(esms) != 1 {
		fail(st.FunctionID, "DELIVERY=buffered needs exactly one event source mapping, found %v", esms)
		return probs
	}
	esmID := esms[0]
	esm := st.Resources[esmID]
	queue, ok := attID(esm["EventSourceArn"], "Arn")
	if !ok || st.Types[queue] != "AWS::SQS::Queue" {
		fail(esmID, "EventSourceArn %v is not a queue of this stack", esm["EventSourceArn"])
		return probs
	}
	if fn := scalarString(esm["FunctionName"]); fn != RefOf(st.FunctionID) && fn != fnArn {
		fail(esmID, "FunctionName %s is not the function", fn)
	}
	if !slices.Contains(stringList(esm["FunctionResponseTypes"]), "ReportBatchItemFailures") {
		fail(esmID, "FunctionResponseTypes lacks ReportBatchItemFailures: one failed trail file would send the whole batch back, and the files done would be read again")
	}
	batch, window := atoiOr(esm["BatchSize"], 10), atoiOr(esm["MaximumBatchingWindowInSeconds"], 0)
	if batch < 1 || batch > MaxBatchSize || window < 0 || window > MaxBatchingWindow {
		fail(esmID, "BatchSize %d (1 to %d) or MaximumBatchingWindowInSeconds %d (0 to %d) out of range", batch, MaxBatchSize, window, MaxBatchingWindow)
	}
	if batch > 10 && window < 1 {
		fail(esmID, "BatchSize %d above 10 needs MaximumBatchingWindowInSeconds of at least 1, got %d", batch, window)
	}

	q := st.Resources[queue]
	timeout := atoiOr(st.Resources[st.FunctionID]["Timeout"], 3)
	vis := atoiOr(q["VisibilityTimeout"], 30)
	if vis < VisibilityTimeoutFactor*timeout+window {
		fail(queue, "visibility timeout %d s is less than %d x the function timeout %d s plus the batching window %d s", vis, VisibilityTimeoutFactor, timeout, window)
	}
	rp := asMap(q["RedrivePolicy"])
	if dlq == "" || scalarString(rp["deadLetterTargetArn"]) != GetAttOf(dlq, "Arn") {
		fail(queue, "RedrivePolicy %v does not redrive to the dead-letter queue %s", rp, dlq)
	} else if n := atoiOr(rp["maxReceiveCount"], 0); n < MinMaxReceiveCount {
		fail(queue, "redrive maxReceiveCount %d, want at least %d", n, MinMaxReceiveCount)
	}
	if q["SqsManagedSseEnabled"] != true && q["KmsMasterKeyId"] == nil {
		fail(queue, "not encrypted at rest (SqsManagedSseEnabled or KmsMasterKeyId)")
	}
	if len(targets) == 0 {
		fail(queue, "no bucket notification or rule sends trail files to it")
	}
	for _, t := range targets {
		if t != GetAttOf(queue, "Arn") {
			fail(queue, "DELIVERY=buffered, but trail file notifications go to %s, not the buffer queue", t)
		}
	}
	for _, id := range st.ofType("AWS::Lambda::Permission") {
		p := st.Resources[id]
		src := scalarString(p["SourceArn"])
		for _, r := range st.objectCreatedRules() {
			if src == GetAttOf(r, "Arn") {
				fail(id, "DELIVERY=buffered, but rule %s may still invoke the function", r)
			}
		}
		if scalarString(p["Principal"]) == "s3.amazonaws.com" {
			fail(id, "DELIVERY=buffered, but S3 may still invoke the function")
		}
	}
	for _, b := range st.notifyingBuckets() {
		if !slices.ContainsFunc(st.dependencies(b), func(d string) bool { return slices.Contains(policies[queue], d) }) {
			fail(b, "does not wait for the buffer queue's policy: S3 checks the destination when it puts the notification")
		}
	}
	probs = append(probs, st.checkBufferQueuePolicy(queue, policies[queue])...)
	probs = append(probs, st.checkBufferQueueAlarms(queue, vis, timeout, window, atoiOr(rp["maxReceiveCount"], 0))...)
	if !st.grants("sqs:ReceiveMessage", GetAttOf(queue, "Arn")) || !st.grants("sqs:DeleteMessage", GetAttOf(queue, "Arn")) ||
		!st.grants("sqs:GetQueueAttributes", GetAttOf(queue, "Arn")) {
		fail(queue, "the function's role does not let the event source mapping poll it (sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes on the queue)")
	}
	return probs
}

// checkBufferQueuePolicy: only the trail bucket (its ARN and this account)
// and the Object Created rule may send to the buffer queue.
func (st *Stack) checkBufferQueuePolicy(queue string, policies []string) []Problem {
	var probs []Problem
	fail := func(format string, a ...any) { probs = append(probs, Problem{queue, fmt.Sprintf(format, a...)}) }
	if len(policies) != 1 {
		fail("needs one queue policy letting the trail bucket or the rule send, found %v", policies)
		return probs
	}
	want := map[string]string{} // service principal -> aws:SourceArn
	for _, b := range st.notifyingBuckets() {
		name := scalarString(st.Resources[b]["BucketName"])
		if name == "" {
			name = RefOf(b)
		}
		want["s3.amazonaws.com"] = "arn:" + Pseudo["AWS::Partition"] + ":s3:::" + name
	}
	for _, r := range st.objectCreatedRules() {
		want["events.amazonaws.com"] = GetAttOf(r, "Arn")
	}
	got := map[string]bool{}
	for _, s := range asList(asMap(st.Resources[policies[0]]["PolicyDocument"])["Statement"]) {
		s := asMap(s)
		if s["Effect"] != "Allow" {
			continue
		}
		svc := scalarString(asMap(s["Principal"])["Service"])
		src, ok := want[svc]
		if !ok {
			fail("policy allows principal %v, want only %v", s["Principal"], want)
			continue
		}
		cond := asMap(s["Condition"])
		arn := asMap(cond["ArnEquals"])["aws:SourceArn"]
		if arn == nil {
			arn = asMap(cond["ArnLike"])["aws:SourceArn"]
		}
		if scalarString(arn) != src {
			fail("policy lets %s send with aws:SourceArn %v, want %s", svc, arn, src)
		}
		if svc == "s3.amazonaws.com" && scalarString(asMap(cond["StringEquals"])["aws:SourceAccount"]) != Pseudo["AWS::AccountId"] {
			fail("policy lets S3 send without aws:SourceAccount %s (a bucket name can be taken by another account)", Pseudo["AWS::AccountId"])
		}
		if a := s["Action"]; scalarString(a) != "sqs:SendMessage" {
			fail("policy allows %v, want sqs:SendMessage only", a)
		}
		if scalarString(s["Resource"]) != GetAttOf(queue, "Arn") {
			fail("policy statement on %v, not the queue", s["Resource"])
		}
		got[svc] = true
	}
	for svc := range want {
		if !got[svc] {
			fail("policy does not let %s send the trail file notifications", svc)
		}
	}
	return probs
}

// checkBufferQueueAlarms: a depth alarm and an age alarm on the buffer
// queue, both notifying; the age alarm fires neither for a message that
// failed once and is then done (one visibility timeout, a batching window
// and a run) nor only once SQS has moved it to the dead-letter queue.
func (st *Stack) checkBufferQueueAlarms(queue string, vis, timeout, window, maxReceive int) []Problem {
	var probs []Problem
	found := map[string]bool{}
	for _, id := range st.ofType("AWS::CloudWatch::Alarm") {
		p := st.Resources[id]
		if p["Namespace"] != "AWS/SQS" || dimsOf(p["Dimensions"])["QueueName"] != GetAttOf(queue, "QueueName") {
			continue
		}
		name := scalarString(p["MetricName"])
		found[name] = true
		if len(asList(p["AlarmActions"])) == 0 {
			probs = append(probs, Problem{id, "buffer queue alarm without AlarmActions"})
		}
		if name == "ApproximateAgeOfOldestMessage" {
			th := atoiOr(p["Threshold"], 0)
			if low := vis + window + timeout; th < low {
				probs = append(probs, Problem{id, fmt.Sprintf("age threshold %d s fires on a message retried once (visibility timeout %d + window %d + timeout %d s)", th, vis, window, timeout)})
			}
			if maxReceive > 0 && th >= maxReceive*vis {
				probs = append(probs, Problem{id, fmt.Sprintf("age threshold %d s only fires after SQS has moved the message to the dead-letter queue (%d receives x %d s)", th, maxReceive, vis)})
			}
		}
	}
	for _, m := range []string{"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"} {
		if !found[m] {
			probs = append(probs, Problem{queue, "no alarm on the buffer queue's " + m})
		}
	}
	return probs
}

// grants says whether the function's role allows action on resource.
func (st *Stack) grants(action, resource string) bool {
	role, ok := attID(st.Resources[st.FunctionID]["Role"], "Arn")
	if !ok {
		return false
	}
	for s := range roleStatements(st.Resources[role]) {
		if s["Effect"] == "Allow" && slices.Contains(oneOrMore(s["Action"]), action) && slices.Contains(oneOrMore(s["Resource"]), resource) {
			return true
		}
	}
	return false
}

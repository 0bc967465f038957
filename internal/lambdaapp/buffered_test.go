package lambdaapp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cognitrail/cognitrail/internal/ledgertable"
	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/ledger"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/scan"
)

// bufferedFiles uploads n files whose records spread over enough minutes
// that their batch needs more than one PutMetricData request.
func (e *env) bufferedFiles(n int) []string {
	e.t.Helper()
	var keys []string
	e.bodies, e.modified = map[string][]byte{}, map[string]time.Time{}
	for i := range n {
		key := fmt.Sprintf("AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/123456789012_CloudTrail_us-east-1_20261120T10%02dZ_b%d.json.gz", i, i)
		start := time.Now().Add(-time.Duration(10+i) * time.Hour).Truncate(time.Minute)
		body := trailFile(e.t, 90, start, 61*time.Second)
		e.put(key, body)
		keys = append(keys, key)
		head, err := e.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			e.t.Fatal(err)
		}
		e.bodies[key], e.modified[key] = body, aws.ToTime(head.LastModified)
	}
	return keys
}

// sqsOfKeys is an SQS event of one message per key.
func (e *env) sqsOfKeys(keys ...string) string {
	var bodies []string
	for _, k := range keys {
		bodies = append(bodies, s3Event(s3Record(k, e.etag(k), 100)))
	}
	ev := sqsEvent(bodies...)
	// Message ids that name the key: SQS keeps a message's id across
	// redeliveries, whatever batch it lands in.
	for i, k := range keys {
		ev = strings.Replace(ev, fmt.Sprintf(`"messageId":"msg-%d"`, i), fmt.Sprintf(`"messageId":"id-%s"`, k[len(k)-12:]), 1)
	}
	return ev
}

// expireLeases ends every running claim's lease, as time does after a
// crashed invocation (whose releases never reached DynamoDB).
func (e *env) expireLeases() {
	e.t.Helper()
	ctx := context.Background()
	db := dynamodb.NewFromConfig(server.AWSConfig())
	out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(e.cfg.IdempotencyTable)})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, it := range out.Items {
		if _, ok := it[ledger.AttrLease]; !ok {
			continue
		}
		if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(e.cfg.IdempotencyTable), Key: map[string]ddbtypes.AttributeValue{ledger.AttrKey: it[ledger.AttrKey]},
			UpdateExpression:          aws.String("SET #l = :one"),
			ExpressionAttributeNames:  map[string]string{"#l": ledger.AttrLease},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":one": &ddbtypes.AttributeValueMemberN{Value: "1"}},
		}); err != nil {
			e.t.Fatal(err)
		}
	}
}

func failuresOf(t *testing.T, out any) []events.SQSBatchItemFailure {
	t.Helper()
	r, ok := out.(events.SQSEventResponse)
	if !ok {
		t.Fatalf("response %#v, want an SQS response", out)
	}
	return r.BatchItemFailures
}

// sqsFailures invokes the handler on an SQS event and returns the messages
// it reports failed.
func (e *env) sqsFailures(event string) []events.SQSBatchItemFailure {
	e.t.Helper()
	out, err := e.invoke(event)
	if err != nil {
		e.t.Fatal(err)
	}
	return failuresOf(e.t, out)
}

// TestBufferedCrashPoints: buffered mode, six files in one SQS event, the
// function dies at each step of the batch protocol (package processor's
// doc); SQS redelivers the messages regrouped (three and three, in
// another order, then all six again as duplicates). Every record is
// counted exactly once: CloudWatch's sums equal an independent scan of
// each file.
func TestBufferedCrashPoints(t *testing.T) {
	const k = 6
	// Each point is the first request the dead function does not make,
	// told by its operation and, for the ledger's writes, its item and
	// what it sets: the claims, the reads, the series budget's requests,
	// the batch item, per PutMetricData a progress write, "published", the
	// members' and then the batch's "done".
	nth := func(n int, pred func(op, body string) bool) func(string, []byte) bool {
		seen := 0
		return func(op string, body []byte) bool {
			if pred(op, string(body)) {
				seen++
			}
			return seen == n
		}
	}
	isOp := func(want string) func(op, body string) bool {
		return func(op, _ string) bool { return op == want }
	}
	// ledgerWrite tells an UpdateItem on a batch item (or an object's)
	// and whether it marks the item done.
	ledgerWrite := func(op, body string) (batch, done, ok bool) {
		if op != "UpdateItem" {
			return false, false, false
		}
		var in struct {
			Key              map[string]map[string]string
			UpdateExpression string
		}
		if json.Unmarshal([]byte(body), &in) != nil {
			return false, false, false
		}
		return strings.HasPrefix(in.Key[ledger.AttrKey]["S"], ledger.BatchPrefix), strings.Contains(in.UpdateExpression, "#outcome"), true
	}
	batchWrite := func(op, body string) bool {
		batch, _, ok := ledgerWrite(op, body)
		return ok && batch
	}
	finish := func(ofBatch bool) func(op, body string) bool {
		return func(op, body string) bool {
			batch, done, ok := ledgerWrite(op, body)
			return ok && done && batch == ofBatch
		}
	}
	points := []struct {
		name  string
		crash func(op string, body []byte) bool
		// logged is a fragment the retries must log.
		logged string
		// lost: the batch was published when the function died, so the
		// event lines of the members it had not finished are lost (the
		// documented window), never doubled.
		lost bool
	}{
		{name: "after claims", crash: nth(1, isOp("GetObject"))},
		{name: "before the batch item", crash: nth(1, batchWrite)},
		{name: "after the batch item", crash: nth(1, isOp("PutMetricData"))},
		{name: "mid-publish", crash: nth(2, isOp("PutMetricData")), logged: `"resumedAtBatch":1`},
		{name: "after publish before finish", crash: nth(1, finish(false)), lost: true},
		{name: "between finishes", crash: nth(3, finish(false)), lost: true},
		{name: "before the batch's finish", crash: nth(1, finish(true)), lost: true},
	}
	for _, pt := range points {
		t.Run(pt.name, func(t *testing.T) {
			e, p := newProxiedEnv(t)
			e.cfg.Delivery = DeliveryBuffered
			keys := e.bufferedFiles(k)
			if publishes := e.bufferedPublishes(keys); publishes < 2 {
				t.Fatalf("the files make %d PutMetricData requests, want 2 or more for a mid-publish crash", publishes)
			}
			p.crashWhen(pt.crash)
			out, err := e.invoke(e.sqsOfKeys(keys...))
			if err != nil {
				t.Fatal(err)
			}
			p.revive(t)
			if f := failuresOf(t, out); len(f) == 0 && pt.name != "before the batch's finish" {
				t.Fatal("the crashed invocation reported no failure")
			}
			e.expireLeases()
			for _, group := range [][]string{{keys[5], keys[3], keys[1]}, {keys[0], keys[2], keys[4]}, keys} {
				if f := e.sqsFailures(e.sqsOfKeys(group...)); len(f) != 0 {
					t.Fatalf("retry of %d messages: failures %v", len(group), f)
				}
			}
			if pt.logged != "" && !strings.Contains(e.logs.String(), pt.logged) {
				t.Errorf("the retries did not log %s", pt.logged)
			}
			e.checkEventLinesOnce(keys, pt.lost)
			dups := strings.Count(e.logs.String(), `"reason":"duplicate"`)
			if dups < k {
				t.Errorf("%d duplicates skipped, want at least the %d of the last delivery", dups, k)
			}
			x := e.expect(keys, map[string]float64{"FilesSkipped": float64(dups)})
			// Findings are judged file after file over a batch's overlay of
			// the state, so their count follows the grouping, which the
			// retries change on purpose; the records are what must be
			// counted once.
			x.ignore = map[string]bool{metric.Findings: true}
			e.check(x)
		})
	}
}

// bufferedPublishes is the number of PutMetricData requests one batch of
// the files makes: its datums, merged, by the thousand.
func (e *env) bufferedPublishes(keys []string) int {
	e.t.Helper()
	agg := aggregate.New(&aggregate.Options{Level: e.cfg.Level})
	for _, k := range keys {
		one := aggregate.New(&aggregate.Options{Level: e.cfg.Level})
		body, at := e.bodies[k], e.modified[k]
		if _, err := scan.File(context.Background(), bytes.NewReader(body), one, &scan.Options{DeliveredAt: at,
			Findings: finding.New(&finding.Options{State: forgetful{}})}); err != nil {
			e.t.Fatal(err)
		}
		agg.Merge(one)
	}
	return (len(slices.Collect(agg.All())) + 999) / 1000
}

// TestBufferedTransientReadFailsItsMessageOnly: one file of six cannot be
// read (S3 answers 500 beyond the SDK's retries): only its message is
// retried, the other five are published at once, in one batch; the retry,
// alone in its event, counts the sixth (it names a batch that does not list
// it, and joins a new one). Every record once.
func TestBufferedTransientReadFailsItsMessageOnly(t *testing.T) {
	const k = 6
	e, p := newProxiedEnv(t)
	e.cfg.Delivery = DeliveryBuffered
	keys := e.bufferedFiles(k)
	p.failPath = keys[2][len(keys[2])-12:]
	f := e.sqsFailures(e.sqsOfKeys(keys...))
	if want := "id-" + keys[2][len(keys[2])-12:]; len(f) != 1 || f[0].ItemIdentifier != want {
		t.Fatalf("failures %v, want only %s", f, want)
	}
	rest := append(append([]string{}, keys[:2]...), keys[3:]...)
	if got, want := p.count("PutMetricData"), e.bufferedPublishes(rest); got != want {
		t.Errorf("%d PutMetricData requests for the five files read, want %d (one batch)", got, want)
	}
	p.failPath = ""
	if f := e.sqsFailures(e.sqsOfKeys(keys[2])); len(f) != 0 {
		t.Fatalf("retry: %v", f)
	}
	x := e.expect(keys, nil)
	x.ignore = map[string]bool{metric.Findings: true}
	e.check(x)
}

// TestBufferedResumeReplaysTheBudget: an execution environment whose series
// budget (one value per dimension) was spent by an earlier file folds some
// of a batch's values into "other"; it dies mid-publish, and the batch is
// resumed in a fresh environment, whose budget would decide otherwise. The
// resumed batch replays the recorded decisions: what CloudWatch receives in
// all is exactly what an uninterrupted run sends.
func TestBufferedResumeReplaysTheBudget(t *testing.T) {
	e := newEnv(t)
	e.cfg.Delivery = DeliveryBuffered
	e.cfg.MaxSeriesPerDimension = 1
	keys := e.bufferedFiles(6)
	spender := "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/123456789012_CloudTrail_us-east-1_20261120T0900Z_spend.json.gz"
	// The spender holds the templates the batch's files hold least (their
	// last ones), so that its values are not those the batch would keep.
	tmpl := templates(t)
	var recs []map[string]any
	for i, r := range tmpl[len(tmpl)-8:] {
		c := map[string]any{}
		for k, v := range r {
			c[k] = v
		}
		c["eventTime"] = time.Now().Add(-20 * time.Hour).Add(time.Duration(i) * time.Minute).UTC().Format(time.RFC3339)
		c["eventID"] = fmt.Sprintf("10000000-0000-4000-8000-%012d", i)
		recs = append(recs, c)
	}
	raw, err := json.Marshal(map[string]any{"Records": recs})
	if err != nil {
		t.Fatal(err)
	}
	e.put(spender, gz(raw))

	run := func(table string, crash bool) publishedSums {
		t.Helper()
		p := newFaultProxy(t, server.Endpoint)
		sums := publishedSums{}
		p.onForward = func(op string, body []byte) {
			if op == "PutMetricData" {
				if err := sums.add(body); err != nil {
					t.Error(err)
				}
			}
		}
		me := *e
		me.endpoint = p.URL
		me.cfg.IdempotencyTable = table
		if err := ledgertable.Create(context.Background(), dynamodb.NewFromConfig(server.AWSConfig()), table); err != nil {
			t.Fatal(err)
		}
		h := me.handler()
		ctx := context.Background()
		if _, err := h.Handle(ctx, json.RawMessage(e.sqsOfKeys(spender))); err != nil {
			t.Fatal(err)
		}
		if crash {
			dead := false
			p.setPlan(func(op string, n int) fault {
				if op == "PutMetricData" && n == 3 { // the batch's second request
					dead = true
				}
				if dead {
					return drop
				}
				return pass
			})
		}
		out, err := h.Handle(ctx, json.RawMessage(e.sqsOfKeys(keys...)))
		if err != nil {
			t.Fatal(err)
		}
		if !crash {
			return sums
		}
		if len(failuresOf(t, out)) == 0 {
			t.Fatal("the crashed invocation reported no failure")
		}
		p.setPlan(nil)
		me.expireLeases()
		// Another execution environment: a fresh handler and budget.
		for _, group := range [][]string{{keys[4], keys[1]}, keys} {
			if f := me.sqsFailures(e.sqsOfKeys(group...)); len(f) != 0 {
				t.Fatalf("retry: %v", f)
			}
		}
		if !strings.Contains(me.logs.String(), `"resumedAtBatch":1`) {
			t.Errorf("the batch was not resumed:\n%s", me.logs.String())
		}
		return sums
	}
	want := run(e.cfg.IdempotencyTable+"-whole", false)
	got := run(e.cfg.IdempotencyTable+"-crash", true)
	folded := 0
	for k, v := range want {
		if strings.Contains(string(k), "="+aggregate.OtherValue) {
			folded++
		}
		if k == keyOf(metric.FilesSkipped, nil) {
			continue // the retries' duplicates
		}
		if got[k] != v {
			t.Errorf("%s: %v after the resume, %v uninterrupted", k, got[k], v)
		}
	}
	if folded == 0 {
		t.Fatal("the budget folded nothing: the test proves nothing")
	}
}

// checkEventLinesOnce: every file has exactly one processed object line,
// and the cognito_event and finding lines written are those the processed
// lines count, once. When lost, the files finished by a resumed, already
// published batch (not read again) or before the function died may have
// none: lost, never doubled.
func (e *env) checkEventLinesOnce(keys []string, lost bool) {
	e.t.Helper()
	processed := map[string]int{}
	counted := 0
	for line := range strings.Lines(e.logs.String()) {
		var l struct {
			Message, Outcome, Key string
			EventLines            int
		}
		if json.Unmarshal([]byte(line), &l) != nil || l.Message != "object" || l.Outcome != "processed" {
			continue
		}
		processed[l.Key]++
		counted += l.EventLines
	}
	for _, k := range keys {
		if processed[k] > 1 || processed[k] == 0 && !lost {
			e.t.Errorf("%s: %d processed object lines, want 1", k, processed[k])
		}
	}
	ev, fi := e.eventLines()
	if written := ev + fi; written != counted || counted == 0 && !lost {
		e.t.Errorf("%d event lines written, the processed object lines count %d", written, counted)
	}
}

// TestBufferedUnidentifiedObjectsAlone: CloudTrail's SNS message names
// neither a version nor an ETag, so nothing can name it in a batch item
// before it is read: in buffered mode it is processed alone, as in direct
// mode, beside the batch of the others; each counted once, a redelivery
// of both skipped.
func TestBufferedUnidentifiedObjectsAlone(t *testing.T) {
	e := newEnv(t)
	e.cfg.Delivery = DeliveryBuffered
	keys := e.bufferedFiles(3)
	ev := sqsEvent(snsEnvelope(cloudTrailMessage(keys[0])),
		s3Event(s3Record(keys[1], e.etag(keys[1]), 100)), s3Event(s3Record(keys[2], e.etag(keys[2]), 100)))
	for range 2 {
		if f := e.sqsFailures(ev); len(f) != 0 {
			t.Fatalf("failures %v", f)
		}
	}
	if !strings.Contains(e.logs.String(), `"message":"batch","outcome":"processed","objects":2`) {
		t.Errorf("no batch of the two identified objects:\n%s", e.logs.String())
	}
	x := e.expect(keys, map[string]float64{metric.FilesSkipped: 3})
	x.ignore = map[string]bool{metric.Findings: true}
	e.check(x)
}

// TestBufferedDuplicateInOneEvent: an object announced by two messages of
// one SQS event is counted once and its second announcement is a
// duplicate in FilesSkipped, as direct mode counts it.
func TestBufferedDuplicateInOneEvent(t *testing.T) {
	for _, delivery := range []string{DeliveryDirect, DeliveryBuffered} {
		t.Run(delivery, func(t *testing.T) {
			e := newEnv(t)
			e.cfg.Delivery = delivery
			keys := e.bufferedFiles(2)
			ev := sqsEvent(s3Event(s3Record(keys[0], e.etag(keys[0]), 100)),
				s3Event(s3Record(keys[0], e.etag(keys[0]), 100)), s3Event(s3Record(keys[1], e.etag(keys[1]), 100)))
			if f := e.sqsFailures(ev); len(f) != 0 {
				t.Fatalf("failures %v", f)
			}
			x := e.expect(keys, map[string]float64{metric.FilesSkipped: 1})
			x.ignore = map[string]bool{metric.Findings: true}
			e.check(x)
		})
	}
}

// TestBufferedResumedCorruptMemberStaysFailed: a batch with a corrupt
// member is published and the function dies before marking any member
// done. The retry, which finishes the published batch without reading
// its members again, must still record the corrupt member as failed, in
// the ledger and on its object line, as the first attempt judged it.
func TestBufferedResumedCorruptMemberStaysFailed(t *testing.T) {
	e, p := newProxiedEnv(t)
	e.cfg.Delivery = DeliveryBuffered
	keys := e.bufferedFiles(2)
	kCorrupt := "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/123456789012_CloudTrail_us-east-1_20261120T1100Z_corrupt.json.gz"
	corrupt := bytes.Clone(trailFile(t, 300, time.Now().Add(-3*time.Hour).Truncate(time.Minute), 3*time.Second))
	corrupt[len(corrupt)*9/10] ^= 0xff
	e.put(kCorrupt, corrupt)
	keys = append(keys, kCorrupt)
	// The first member's "done" is the first request the dead function
	// does not make: the batch is published, no member is done.
	p.crashWhen(func(op string, body []byte) bool {
		if op != "UpdateItem" {
			return false
		}
		var in struct {
			Key              map[string]map[string]string
			UpdateExpression string
		}
		return json.Unmarshal(body, &in) == nil && !strings.HasPrefix(in.Key[ledger.AttrKey]["S"], ledger.BatchPrefix) &&
			strings.Contains(in.UpdateExpression, "#outcome")
	})
	if _, err := e.invoke(e.sqsOfKeys(keys...)); err != nil {
		t.Fatal(err)
	}
	p.revive(t)
	if strings.Contains(e.logs.String(), `"outcome":"failed"`) {
		t.Fatal("an object line said failed before the crash: the retry proves nothing")
	}
	e.expireLeases()
	if f := e.sqsFailures(e.sqsOfKeys(kCorrupt)); len(f) != 0 {
		t.Fatalf("retry: failures %v", f)
	}
	if n := strings.Count(e.logs.String(), `"resumedAtBatch"`); n == 0 {
		t.Fatal("the retry did not resume the published batch")
	}
	l := ledger.New(dynamodb.NewFromConfig(server.AWSConfig()), ledger.Options{Table: e.cfg.IdempotencyTable})
	for _, k := range keys {
		want := "processed"
		if k == kCorrupt {
			want = "failed"
		}
		it, err := l.Inspect(context.Background(), ledger.ObjectID(bucket, k, "e:"+e.etag(k)))
		if err != nil {
			t.Fatal(err)
		}
		if it == nil || !it.Done || it.Outcome != want {
			t.Errorf("%s: ledger item %+v, want done, outcome %s", k, it, want)
		}
		var outcomes []string
		for line := range strings.Lines(e.logs.String()) {
			var l struct{ Message, Outcome, Key string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Message == "object" && l.Key == k && l.Outcome != "error" {
				outcomes = append(outcomes, l.Outcome)
			}
		}
		if len(outcomes) != 1 || outcomes[0] != want {
			t.Errorf("%s: object lines with outcomes %v, want one %s", k, outcomes, want)
		}
	}
	x := e.expect(keys, nil)
	x.ignore = map[string]bool{metric.Findings: true}
	e.check(x)
}

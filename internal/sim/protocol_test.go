package sim

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/metric"
)

// scripted builds a world whose faults are script's, with one trail file
// holding a new identity pool with guest access (a high finding) and
// sign-in failures.
func scripted(t *testing.T, buffered bool, script func(op string, n int) Fault) (*World, message) {
	t.Helper()
	tmpl, err := LoadTemplates("../../pkg/class/testdata/aws")
	if err != nil {
		t.Fatal(err)
	}
	var trace strings.Builder
	w := newWorld(Config{Seed: 1, Templates: tmpl, Trace: &trace, Script: script})
	t.Cleanup(func() {
		if t.Failed() {
			t.Log("trace:\n" + trace.String())
		}
	})
	w.buffered = buffered
	at := start.Add(-time.Hour)
	recs := []json.RawMessage{
		w.record("old-1.03-identity-createidentitypool", at, "", "us-east-1:11111111-49a6-454b-9e45-000000000001"),
		w.record("idp-signup", at.Add(time.Second), "", ""),
	}
	v := w.put(trailKey(0, at), recs, at.Add(5*time.Minute))
	if len(v.must) != 1 || v.must[0].name != finding.IdentityPoolGuestAccessEnabled {
		t.Fatalf("the file raises %v", v.must)
	}
	return w, w.message(v)
}

// deliver runs one delivery of msgs in env and returns its attempt.
func deliver(w *World, env *environment, msgs ...message) *attempt {
	a := &attempt{id: len(w.attempts) + 1, messages: msgs, event: w.event(msgs), start: w.now, env: env}
	w.run([]*attempt{a})
	return a
}

func isOp(op, prefix string) bool { return strings.HasPrefix(op, prefix) }

// findingsSent counts the SNS messages of the file's finding.
func findingsSent(w *World, k findingKey) int {
	n := 0
	for _, m := range w.sns.Accepted {
		if messageKey(m.Message) == k {
			n++
		}
	}
	return n
}

// TestNotifyFailureRetried: SNS throttles the first publish beyond the
// SDK's retries. The file is not marked done, so the retry (reading it
// again) sends the finding; a later duplicate sends nothing. Before
// notifications came before done, the file was done and the finding lost.
func TestNotifyFailureRetried(t *testing.T) {
	for _, buffered := range []bool{false, true} {
		w, m := scripted(t, buffered, func(op string, n int) Fault {
			if isOp(op, "sns.Publish") && n == 1 {
				return Throttle
			}
			return None
		})
		env := w.coldStart()
		first := deliver(w, env, m)
		if len(w.failedMessages(first)) != 1 || len(w.sns.Accepted) != 0 {
			t.Fatalf("buffered=%v: first attempt %s, %d messages", buffered, describe(first.result, first.err), len(w.sns.Accepted))
		}
		w.now = w.now.Add(time.Minute)
		for range 2 {
			if a := deliver(w, env, m); len(w.failedMessages(a)) != 0 {
				t.Fatalf("buffered=%v: retry %s", buffered, describe(a.result, a.err))
			}
		}
		if n := findingsSent(w, m.v.must[0]); n != 1 {
			t.Fatalf("buffered=%v: finding sent %d times, want 1", buffered, n)
		}
		if bad := w.check(); len(bad) > 0 {
			t.Fatalf("buffered=%v: %s", buffered, strings.Join(bad, "\n"))
		}
	}
}

// TestNotifyCrashAfterDone: the process dies right after the file (or the
// batch's publish) is recorded; the retry must still have the finding sent
// exactly once. Before, the finding was sent after the file was done, and
// the crash lost it.
func TestNotifyCrashAfterDone(t *testing.T) {
	for _, tc := range []struct {
		name     string
		buffered bool
		op       string
		n        int
	}{
		// Direct: the object's item is written by the claim, the progress
		// and the finish.
		{"direct finish", false, `dynamodb.UpdateItem "trail-bucket"`, 3},
		// Buffered: the batch item by its creation, the progress and the
		// published mark.
		{"buffered published", true, "dynamodb.UpdateItem batch#", 3},
	} {
		w, m := scripted(t, tc.buffered, func(op string, n int) Fault {
			if isOp(op, tc.op) && n == tc.n {
				return CrashAfter
			}
			return None
		})
		first := deliver(w, w.coldStart(), m)
		if first.crashed == "" {
			t.Fatalf("%s: no crash", tc.name)
		}
		w.now = w.now.Add(lease + time.Minute)
		if a := deliver(w, w.coldStart(), m); len(w.failedMessages(a)) != 0 {
			t.Fatalf("%s: retry %s", tc.name, describe(a.result, a.err))
		}
		if n := findingsSent(w, m.v.must[0]); n != 1 {
			t.Fatalf("%s: finding sent %d times, want 1", tc.name, n)
		}
		if bad := w.check(); len(bad) > 0 {
			t.Fatalf("%s: %s", tc.name, strings.Join(bad, "\n"))
		}
	}
}

// TestResumeAfterClientLearned: issue 14, item 4. A file whose records
// name an app client but not its pool is published in many requests; the
// first attempt, in a cold environment, counts them under ClientId and
// dies before its k-th request (every k). Another file then teaches a
// warm environment the client's pool, and the retry runs there: it must
// resolve as the first attempt did (the pairs recorded with the first
// progress), or its datums move from ClientId to UserPoolId and a resume
// by datum key repeats or skips some. With the recorded pairs ignored,
// the retry republished the ClientId counts under the pool.
func TestResumeAfterClientLearned(t *testing.T) {
	for _, buffered := range []bool{false, true} {
		for k, more := 2, true; more; k++ {
			t.Run(fmt.Sprintf("buffered=%v/k=%d", buffered, k), func(t *testing.T) {
				more = resumeAfterClientLearned(t, buffered, k)
			})
		}
	}
}

// resumeAfterClientLearned runs the story with the crash before the k-th
// request, and reports whether the first attempt crashed (false: k is
// past its last request).
func resumeAfterClientLearned(t *testing.T, buffered bool, k int) bool {
	t.Helper()
	puts := 0
	w, _ := scripted(t, buffered, func(op string, n int) Fault {
		if isOp(op, "cloudwatch.PutMetricData") {
			puts++
			if puts == k {
				return CrashBefore
			}
		}
		return None
	})
	w.level, w.requestDatums = metric.Standard, 7
	at := start.Add(-3 * time.Hour)
	var recs []json.RawMessage
	for i := range 40 {
		recs = append(recs, w.record(clientOnly[i%2], at.Add(time.Duration(i)*time.Minute), "", ""))
	}
	clientOnlyFile := w.message(w.put(trailKey(1, at), recs, at.Add(time.Hour)))
	teacher := w.message(w.put(trailKey(2, at), []json.RawMessage{
		w.record("idp-admininitiateauth-success", at, "", ""),
	}, at.Add(5*time.Minute)))

	if first := deliver(w, w.coldStart(), clientOnlyFile); first.crashed == "" {
		if k == 2 {
			t.Fatal("the file is published in one request")
		}
		return false
	}
	warm := w.coldStart()
	if a := deliver(w, warm, teacher); len(w.failedMessages(a)) != 0 {
		t.Fatalf("buffered=%v k=%d: teacher %s", buffered, k, describe(a.result, a.err))
	}
	w.now = w.now.Add(lease + time.Minute)
	if a := deliver(w, warm, clientOnlyFile); len(w.failedMessages(a)) != 0 {
		t.Fatalf("buffered=%v k=%d: retry %s", buffered, k, describe(a.result, a.err))
	}
	w.versions = w.versions[1:] // the scripted world's own file is never delivered
	if bad := w.check(); len(bad) > 0 {
		t.Fatalf("%s", strings.Join(bad, "\n"))
	}
	return true
}

// TestBatchMemberFinishFails: a batch of two files is published and
// notified, the first member is marked done and the second's mark is
// throttled. The first member's lines are the attempt's to write: a retry
// finds it done and writes none. Before, the attempt gave up on every
// member's lines, and the first file's finding line was never written
// (seeds 1840, 3813).
func TestBatchMemberFinishFails(t *testing.T) {
	marks, etag := 0, ""
	w, m := scripted(t, true, func(op string, n int) Fault {
		if etag != "" && isOp(op, `dynamodb.UpdateItem "trail-bucket"`) && strings.Contains(op, etag) {
			if marks++; marks == 2 { // its claim, then its mark
				return Throttle
			}
		}
		return None
	})
	at := start.Add(-time.Hour)
	v := w.put(trailKey(1, at), []json.RawMessage{w.record("idp-signup", at, "", "")}, at.Add(5*time.Minute))
	other, etag := w.message(v), v.etag
	first := deliver(w, w.coldStart(), m, other)
	if len(w.failedMessages(first)) != 1 {
		t.Fatalf("first attempt %s, want the second file failed", describe(first.result, first.err))
	}
	w.now = w.now.Add(time.Minute)
	if a := deliver(w, w.coldStart(), other); len(w.failedMessages(a)) != 0 {
		t.Fatalf("retry %s", describe(a.result, a.err))
	}
	if bad := w.check(); len(bad) > 0 {
		t.Fatal(strings.Join(bad, "\n"))
	}
}

package lambdaapp

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// DynamoDB's lost answer, end to end: the proxy forwards a conditional
// write, moto applies it, and the connection is closed before the answer;
// the SDK sends the same request again, which now fails its condition on
// the item the first send wrote. The function must read that as its own
// write (see package ledger).

// TestLostNoticeAnswerStillNotifies: the answer to the finding#<eventID>
// notice PutItem is lost. The HIGH finding is still published, once; a
// second delivery of the file sends nothing more. Before notices carried
// their writer's token, the retry read "duplicate" and nothing was sent.
func TestLostNoticeAnswerStillNotifies(t *testing.T) {
	e, p := newProxiedEnv(t)
	tp := e.topic("findings-lost-notice")
	e.cfg.FindingsTopicARN = tp.arn
	p.loseOnce = func(op string, body []byte) bool {
		return op == "PutItem" && bytes.Contains(body, []byte(`"finding#`))
	}
	key := findingsPrefix + "123456789012_CloudTrail_us-east-1_20261122T1100Z_lostnotice.json.gz"
	body := recordsFile(t, guestAccessRecord("5d7e0a43-6f7d-4d0e-9c55-2c6a31b0e0aa", time.Now().Add(-time.Hour)))
	e.put(key, body)
	for range 2 {
		if _, err := e.invoke(s3Event(s3Record(key, e.etag(key), len(body)))); err != nil {
			t.Fatal(err)
		}
	}
	if p.loseOnce != nil || p.sent("PutItem") < 2 {
		t.Fatalf("no notice answer lost (PutItem sent %d)", p.sent("PutItem"))
	}
	if raw := tp.drain(t, tp.raw); len(raw) != 1 {
		t.Fatalf("%d messages, want 1: %q", len(raw), raw)
	}
	if n := strings.Count(e.logs.String(), `"level":"ERROR"`); n != 0 {
		t.Errorf("%d error lines", n)
	}
}

// TestLostFinishAnswerWritesLinesOnce: the answer to the object's Finish is
// lost. The attempt still succeeds, with no error logged, and the file's
// finding and cognito_event lines and its notification are written once;
// a second delivery skips the done object. Before Finish recognised its
// own applied write, the attempt failed with "claim lost to another
// invocation" and the retry skipped the object: no lines, no message.
func TestLostFinishAnswerWritesLinesOnce(t *testing.T) {
	e, p := newProxiedEnv(t)
	tp := e.topic("findings-lost-finish")
	e.cfg.FindingsTopicARN = tp.arn
	p.loseOnce = func(op string, body []byte) bool {
		return op == "UpdateItem" && bytes.Contains(body, []byte(`#st = :done`))
	}
	key := findingsPrefix + "123456789012_CloudTrail_us-east-1_20261122T1100Z_lostfinish.json.gz"
	body := recordsFile(t, guestAccessRecord("9a0f3b6e-0c1d-4b7e-8f2a-6d5c4b3a2f10", time.Now().Add(-time.Hour)))
	e.put(key, body)
	var events, findings int
	for i := range 2 {
		_, err := e.invoke(s3Event(s3Record(key, e.etag(key), len(body))))
		if err != nil {
			t.Fatalf("delivery %d: %v", i+1, err)
		}
		if i == 0 {
			events, findings = e.eventLines()
		}
	}
	if p.loseOnce != nil {
		t.Fatal("no Finish answer lost")
	}
	if events == 0 || findings != 1 {
		t.Fatalf("%d cognito_event and %d finding lines after the first delivery; want some and 1", events, findings)
	}
	if ev, fi := e.eventLines(); ev+fi != events+findings {
		t.Errorf("the second delivery wrote %d more lines", ev+fi-events-findings)
	}
	if raw := tp.drain(t, tp.raw); len(raw) != 1 {
		t.Fatalf("%d messages, want 1: %q", len(raw), raw)
	}
	if n := strings.Count(e.logs.String(), `"level":"ERROR"`); n != 0 {
		t.Errorf("%d error lines", n)
	}
}

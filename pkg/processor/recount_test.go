package processor

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/alert"
	"github.com/cognitrail/cognitrail/pkg/finding"
)

// keepingNotifier keeps what it is handed.
type keepingNotifier struct{ got []finding.Finding }

func (k *keepingNotifier) Notify(_ context.Context, fs []finding.Finding, _ time.Time) (alert.Stats, error) {
	k.got = append(k.got, fs...)
	return alert.Stats{Sent: len(fs)}, nil
}

// An address that fails 19 times is raised at the threshold (15), and the
// finding's line and notification say 19, its total in the file.
func TestSignInFindingCountsTheFileTotal(t *testing.T) {
	const failures = 19
	var recs []map[string]any
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for i := range failures {
		recs = append(recs, map[string]any{
			"eventVersion": "1.10", "eventTime": start.Add(time.Duration(i) * time.Second).Format(time.RFC3339),
			"eventSource": "cognito-idp.amazonaws.com", "eventName": "InitiateAuth", "awsRegion": "us-east-1",
			"sourceIPAddress": "203.0.113.7", "userAgent": "Mozilla/5.0",
			"userIdentity": map[string]any{"type": "Unknown", "principalId": "Anonymous"},
			"errorCode":    "NotAuthorizedException", "errorMessage": "Incorrect username or password.",
			"requestParameters": map[string]any{"authFlow": "USER_PASSWORD_AUTH", "authParameters": "HIDDEN_DUE_TO_SECURITY_REASONS", "clientId": "1example23456789"},
			"eventID":           fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
			"eventType":         "AwsApiCall", "recipientAccountId": "123456789012", "eventCategory": "Management",
		})
	}
	raw, err := json.Marshal(map[string]any{"Records": recs})
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	zw := gzip.NewWriter(&body)
	zw.Write(raw)
	zw.Close()

	var logs bytes.Buffer
	n := &keepingNotifier{}
	h := New(fakeS3{body.Bytes()}, &flakySink{}, nil, &Options{Now: samplesNow, Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Notifier: n})
	if _, err := h.Handle(context.Background(), s3EventFor(sampleKey, body.Len())); err != nil {
		t.Fatal(err)
	}
	if len(n.got) != 1 || n.got[0].Name != finding.SignInFailuresFromOneIP || n.got[0].Count != failures {
		t.Errorf("notified %+v, want one %s with count %d", n.got, finding.SignInFailuresFromOneIP, failures)
	}
	lines := 0
	for line := range strings.Lines(logs.String()) {
		var m map[string]any
		_ = json.Unmarshal([]byte(line), &m)
		if m[slog.MessageKey] != FindingMsg {
			continue
		}
		lines++
		if m["count"] != float64(failures) {
			t.Errorf("finding line count %v, want %d: %s", m["count"], failures, line)
		}
	}
	if lines != 1 {
		t.Errorf("%d finding lines, want 1:\n%s", lines, logs.String())
	}
}

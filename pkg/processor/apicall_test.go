package processor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAPICallRejectedNamesTheCall: an EventBridge API call whose record
// cannot be used (here its eventTime is not a time) is logged rejected
// with the eventSource and eventName read before the fault, so the line
// says which call was lost; never the user name or request fields.
func TestAPICallRejectedNamesTheCall(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join("..", "..", "events", "eventbridge-cognito-api-call.json"))
	if err != nil {
		t.Fatal(err)
	}
	ev := bytes.Replace(sample, []byte(`"eventTime": "2021-01-19T23:07:05Z"`), []byte(`"eventTime": "yesterday"`), 1)
	if bytes.Equal(ev, sample) {
		t.Fatal("the sample has no eventTime to spoil")
	}
	var logs bytes.Buffer
	h := New(bucketS3{}, &recordingSink{}, nil, &Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if _, err := h.Handle(context.Background(), json.RawMessage(ev)); err != nil {
		t.Fatal(err)
	}
	lines := logLines(t, logs.String(), "api call")
	if len(lines) != 1 {
		t.Fatalf("api call lines %v, want one", lines)
	}
	l := lines[0]
	if l["outcome"] != "rejected" || l["eventSource"] != "cognito-identity.amazonaws.com" || l["eventName"] != "CreateIdentityPool" {
		t.Errorf("api call line %v, want outcome rejected, eventSource and eventName", l)
	}
	for _, secret := range []string{"Alice", "TestIdentityPool", "AKIA", "192.0.2.1"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q: %s", secret, logs.String())
		}
	}
}

// An API call whose watched setting has the wrong type (a number where
// the API takes a boolean) is judged by no rule, notified to no one, and
// logged rejected with the field named.
func TestAPICallWrongTypeIsRejected(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join("..", "..", "events", "eventbridge-cognito-api-call.json"))
	if err != nil {
		t.Fatal(err)
	}
	ev := bytes.Replace(sample, []byte(`"allowUnauthenticatedIdentities": true`), []byte(`"allowUnauthenticatedIdentities": 1`), 1)
	if bytes.Equal(ev, sample) {
		t.Fatal("the sample states no allowUnauthenticatedIdentities to spoil")
	}
	var logs bytes.Buffer
	n := &keepingNotifier{}
	h := New(bucketS3{}, &recordingSink{}, nil, &Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Notifier: n})
	if _, err := h.Handle(context.Background(), json.RawMessage(ev)); err != nil {
		t.Fatal(err)
	}
	if len(n.got) != 0 {
		t.Errorf("notified %v, want nothing", n.got)
	}
	lines := logLines(t, logs.String(), "api call")
	if len(lines) != 1 || lines[0]["outcome"] != "rejected" || !strings.Contains(fmt.Sprint(lines[0]["error"]), "allowUnauthenticatedIdentities") {
		t.Errorf("api call lines %v, want one rejected naming allowUnauthenticatedIdentities", lines)
	}
}

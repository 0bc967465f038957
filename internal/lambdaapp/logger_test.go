package lambdaapp

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
)

// The saved queries and insight rules in template.yaml filter on
// MessageKey: it must be the key the function's logger really writes.
func TestLoggerKeys(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(Config{}, func(string) string { return "" }, &buf)
	log.InfoContext(context.Background(), "cognito_event", "reason", "config-change")
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("not a JSON line: %q", buf.String())
	}
	if m[MessageKey] != "cognito_event" || m["reason"] != "config-change" {
		t.Errorf("line %s has no %s = cognito_event", buf.String(), MessageKey)
	}
	if _, ok := m["timestamp"]; !ok {
		t.Errorf("line %s has no timestamp", buf.String())
	}
}

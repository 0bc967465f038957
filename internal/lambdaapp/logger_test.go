package lambdaapp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/pkg/processor"
)

// The saved queries and insight rules in template.yaml filter on
// MessageKey: it must be the key the function's logger really writes.
func TestLoggerKeys(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(Config{}, &buf)
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

// LOG_LEVEL=error (and warn) keeps the cognito_event and finding lines the
// template's queries, rules and widgets count, and filters the other info
// lines, through the function's own logger (issue 7).
func TestEventLinesAtAnyLogLevel(t *testing.T) {
	for _, level := range []string{"warn", "error"} {
		t.Run(level, func(t *testing.T) {
			e := newEnv(t)
			lc, err := ConfigFromEnv(envWith(EnvLogLevel, level))
			if err != nil {
				t.Fatal(err)
			}
			e.cfg.LogLevel = lc.LogLevel
			body := bigFile(t)
			e.deliver(kSpace, body)
			n := map[string]int{}
			for line := range strings.Lines(e.logs.String()) {
				var m map[string]any
				if json.Unmarshal([]byte(line), &m) == nil {
					n[fmt.Sprint(m[MessageKey])]++
				}
			}
			if n[processor.NotableMsg] == 0 || n[processor.FindingMsg] == 0 {
				t.Errorf("LOG_LEVEL=%s: %d cognito_event and %d finding lines, want both", level, n[processor.NotableMsg], n[processor.FindingMsg])
			}
			if n["object"] != 0 {
				t.Errorf("LOG_LEVEL=%s let the info object line through", level)
			}
			e.check(e.expect([]string{kSpace}, nil))
		})
	}
}

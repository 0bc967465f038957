package lambdaapp

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/smithy-go/logging"
)

// The SDK's messages become lines of the function's JSON log at the SDK's
// classification, with the invocation's requestId when the SDK passes its
// context.
func TestSDKLogger(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(Config{LambdaLogLevel: "DEBUG"}, &buf)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "r-1"})
	var l logging.Logger = sdkLogger{log: log}
	l.(logging.ContextLogger).WithContext(ctx).Logf(logging.Warn, "retrying %s", "GetObject")
	l.Logf(logging.Debug, "Response has no supported checksum.")
	var lines []map[string]any
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2", len(lines))
	}
	if m := lines[0]; m["level"] != "WARN" || m["sdkMessage"] != "retrying GetObject" || m["requestId"] != "r-1" || m[MessageKey] != "aws sdk" {
		t.Errorf("warn line %v", m)
	}
	if m := lines[1]; m["level"] != "DEBUG" || m["sdkMessage"] != "Response has no supported checksum." {
		t.Errorf("debug line %v", m)
	}
}

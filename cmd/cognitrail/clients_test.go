package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cognitrail/cognitrail/pkg/metric"
)

const (
	cliSignIn = `{"eventTime":"2026-11-20T10:00:00Z","eventSource":"cognito-idp.amazonaws.com","eventName":"InitiateAuth","eventType":"AwsApiCall","awsRegion":"eu-west-1","errorCode":"NotAuthorizedException","requestParameters":{"authFlow":"USER_PASSWORD_AUTH","authParameters":"HIDDEN_DUE_TO_SECURITY_REASONS","clientId":"web1"}}`
	cliCreate = `{"eventTime":"2026-11-20T10:05:00Z","eventSource":"cognito-idp.amazonaws.com","eventName":"CreateUserPoolClient","eventType":"AwsApiCall","awsRegion":"eu-west-1","requestParameters":{"userPoolId":"eu-west-1_Pool1","clientName":"web"},"responseElements":{"userPoolClient":{"userPoolId":"eu-west-1_Pool1","clientId":"web1"}}}`
)

func clientTrail(t *testing.T, recs ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "trail.json")
	if err := os.WriteFile(p, []byte(`{"Records":[`+strings.Join(recs, ",")+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func jsonlLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
	}
	return lines
}

// A client created after the sign-ins that use it, in the same file: the
// metrics count the failures by pool.
func TestScanResolvesClientsFromTheTrail(t *testing.T) {
	path := clientTrail(t, cliSignIn, cliSignIn, cliCreate)
	out, errs, rc := scanOut(t, "--format", "json", "--client-pools", "", path)
	if rc != exitOK {
		t.Fatalf("exit %d: %s", rc, errs)
	}
	var ds []metric.Datum
	if err := json.Unmarshal([]byte(out), &ds); err != nil {
		t.Fatal(err)
	}
	var byPool, byClient float64
	for _, d := range ds {
		if d.Name == metric.SignInFailures && len(d.Dimensions) == 1 {
			switch d.Dimensions[0] {
			case metric.Dimension{Name: metric.DimUserPoolID, Value: "eu-west-1_Pool1"}:
				byPool += d.Sum()
			case metric.Dimension{Name: metric.DimClientID, Value: "web1"}:
				byClient += d.Sum()
			}
		}
	}
	if byPool != 2 || byClient != 0 {
		t.Errorf("by pool %v, by client %v; want 2 and 0", byPool, byClient)
	}
}

// jsonl: clientId on every record that names one; userPoolId from the
// --client-pools map for a record that names only the client, when the
// pool is in the Region the call was made in.
func TestScanJSONLinesClientPools(t *testing.T) {
	path := clientTrail(t, cliSignIn)
	for _, tc := range []struct {
		args []string
		pool any
	}{
		{[]string{"--client-pools", ""}, nil},
		{[]string{"--client-pools", "web1=eu-west-1_Mapped"}, "eu-west-1_Mapped"},
		{[]string{"--client-pools", "web1=us-east-1_Mapped"}, nil},
		{[]string{"--client-pools", "web1=us-east-1_Mapped,web1=eu-west-1_Mapped"}, "eu-west-1_Mapped"},
	} {
		out, errs, rc := scanOut(t, append(append([]string{"--format", "jsonl"}, tc.args...), path)...)
		if rc != exitOK {
			t.Fatalf("%v: exit %d: %s", tc.args, rc, errs)
		}
		lines := jsonlLines(t, out)
		if len(lines) != 1 || lines[0]["clientId"] != "web1" || lines[0]["userPoolId"] != tc.pool {
			t.Errorf("%v: %v, want clientId web1 and userPoolId %v", tc.args, lines, tc.pool)
		}
	}
	if _, errs, rc := scanOut(t, "--client-pools", "web1", path); rc != exitUsage || !strings.Contains(errs, "--client-pools") {
		t.Errorf("malformed map: exit %d, %q", rc, errs)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// signInRecord is a failed (or, with errorCode "", successful) InitiateAuth
// from ip at minute i past 11:00.
func signInRecord(i int, ip, errorCode string) string {
	e := ""
	if errorCode != "" {
		e = `,"errorCode":"` + errorCode + `"`
	}
	return fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"Unknown","principalId":"Anonymous"},`+
		`"eventTime":"2024-05-02T11:%02d:00Z","eventSource":"cognito-idp.amazonaws.com","eventName":"InitiateAuth",`+
		`"awsRegion":"us-east-1","sourceIPAddress":"%s","userAgent":"test"%s,`+
		`"requestParameters":{"authFlow":"USER_PASSWORD_AUTH","clientId":"1example23456789"},`+
		`"additionalEventData":{"userPoolId":"us-east-1_EXAMPLE1"},"eventID":"ev-%d","readOnly":false,`+
		`"eventType":"AwsApiCall","managementEvent":true,"eventCategory":"Management","recipientAccountId":"123456789012"}`,
		i, ip, e, i)
}

func writeRecords(t *testing.T, name string, records []string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(`{"Records":[`+strings.Join(records, ",")+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// An address that failed 16 times is reported with count 16, not the
// threshold (15) it crossed (issue 17, "Wrong figures").
func TestFindingsCountIsTheFileTotal(t *testing.T) {
	var recs []string
	for i := range 16 {
		recs = append(recs, signInRecord(i, "203.0.113.9", "NotAuthorizedException"))
	}
	recs = append(recs, signInRecord(20, "203.0.113.9", ""))
	p := writeRecords(t, "signin.json", recs)
	out, errs, rc := findingsOut(t, "--format", "json", p)
	if rc != exitOK {
		t.Fatalf("exit %d: %s", rc, errs)
	}
	var rows []struct {
		Finding string `json:"finding"`
		Count   int    `json:"count"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := map[string]int{}
	for _, r := range rows {
		got[r.Finding] = r.Count
	}
	want := map[string]int{"sign-in-failures-from-one-ip": 16, "sign-in-success-after-failures": 16}
	if len(got) != len(want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	for n, w := range want {
		if got[n] != w {
			t.Errorf("%s count %d, want %d", n, got[n], w)
		}
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// The datums of `scan --format json` on files whose names carry no
// delivery time are dated from the data: a file's outcome and unusable
// records by its newest record, a file with no record by the run's newest,
// never by the clock (issue 17: FilesProcessed stamped with the current
// time, so the output changed from run to run).
func TestScanJSONDatedFromTheData(t *testing.T) {
	dir := t.TempDir()
	var recs []string
	for _, i := range []int{3, 20, 7} {
		recs = append(recs, signInRecord(i, "203.0.113.9", ""))
	}
	recs = append(recs, `{"eventSource":"no eventTime"}`)
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a-empty.json", `{"Records":[]}`)
	write("b-records.json", `{"Records":[`+strings.Join(recs, ",")+`]}`)
	write("c-digest.json", `{"digestStartTime":"2024-05-02T10:00:00Z","logFiles":[]}`)
	out, errs, rc := scanOut(t, "--format", "json", dir)
	if rc != exitOK {
		t.Fatalf("exit %d: %s", rc, errs)
	}
	var datums []struct {
		Name      string    `json:"name"`
		Timestamp time.Time `json:"timestamp"`
		Value     *float64  `json:"value"`
		Values    []float64 `json:"values"`
		Counts    []float64 `json:"counts"`
	}
	if err := json.Unmarshal([]byte(out), &datums); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := time.Date(2024, 5, 2, 11, 20, 0, 0, time.UTC)
	seen := map[string]bool{}
	for _, d := range datums {
		switch d.Name {
		case "FilesProcessed", "FilesSkipped", "RecordsInvalid":
			seen[d.Name] = true
			if !d.Timestamp.Equal(want) {
				t.Errorf("%s dated %v, want %v (the newest record)", d.Name, d.Timestamp, want)
			}
		}
	}
	for _, n := range []string{"FilesProcessed", "FilesSkipped", "RecordsInvalid"} {
		if !seen[n] {
			t.Errorf("no %s datum:\n%s", n, out)
		}
	}
}

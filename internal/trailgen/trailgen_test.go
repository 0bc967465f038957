package trailgen

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSpanSpreadsEventTimes(t *testing.T) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	n, err := Write(&buf, Options{Records: 1000, Seed: 1, Start: start, Span: 30 * 24 * time.Hour})
	if err != nil || n != 1000 {
		t.Fatal(n, err)
	}
	var doc struct {
		Records []struct {
			EventTime time.Time `json:"eventTime"`
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	first, last := doc.Records[0].EventTime, doc.Records[n-1].EventTime
	if !first.Equal(start) {
		t.Errorf("first eventTime %v, want %v", first, start)
	}
	// The last of 1000 records is 999/1000 of the way: 29.97 days in.
	if want := start.Add(30 * 24 * time.Hour * 999 / 1000); !last.Equal(want.Truncate(time.Second)) {
		t.Errorf("last eventTime %v, want %v", last, want)
	}
	for i := 1; i < n; i++ {
		if doc.Records[i].EventTime.Before(doc.Records[i-1].EventTime) {
			t.Fatalf("record %d goes back in time", i)
		}
	}
}

// WriteFile's file inflates to what Write writes, and Inflate says how
// much that is.
func TestWriteFileInflates(t *testing.T) {
	o := Options{Records: 300, CognitoShare: 0.4, Seed: 5}
	var plain strings.Builder
	want, _ := Write(&plain, o)
	path := filepath.Join(t.TempDir(), "f.json.gz")
	n, err := WriteFile(path, 1, o)
	if err != nil || n != want {
		t.Fatalf("WriteFile: %d records, %v; want %d", n, err, want)
	}
	size, err := Inflate(path)
	if err != nil || size != int64(plain.Len()) {
		t.Fatalf("Inflate: %d bytes, %v; want %d", size, err, plain.Len())
	}
	if _, err := WriteFile(filepath.Join(path, "no-such-dir", "f.gz"), 1, o); err == nil {
		t.Error("WriteFile into a file's path: no error")
	}
}

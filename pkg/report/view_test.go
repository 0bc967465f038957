package report

import (
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/record"
	"github.com/cognitrail/cognitrail/pkg/scan"
)

// EndFile recounts the findings of the file just read, and those only: a
// finding of an earlier file keeps the count its own file gave it.
func TestViewEndFileRecountsThatFile(t *testing.T) {
	v := NewView()
	add := func(id string) {
		r := &record.Record{EventID: id, EventSource: class.SourceUserPool, EventName: "InitiateAuth",
			EventTime: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), SourceIPAddress: "203.0.113.7", ErrorCode: "NotAuthorizedException"}
		c := class.Classify(r)
		v.Add(&scan.Event{Record: r, Class: &c, Findings: []finding.Finding{
			{Name: finding.SignInFailuresFromOneIP, EventID: id, SourceIP: r.SourceIPAddress, Count: 15}}})
	}
	add("first")
	v.EndFile(func(f *finding.Finding) { f.Count = 19 })
	add("second")
	v.EndFile(func(f *finding.Finding) { f.Count = 16 })
	v.EndFile(func(f *finding.Finding) { f.Count = 0 }) // a file that raised nothing
	got := map[string]int{}
	for _, f := range v.Page(nil).Findings {
		got[f.EventID] = f.Count
	}
	if got["first"] != 19 || got["second"] != 16 || len(got) != 2 {
		t.Errorf("counts %v, want first 19, second 16", got)
	}
}

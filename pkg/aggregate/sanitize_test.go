package aggregate_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/record"
)

// TestDimensionValuesArePublishable: values a malformed or hostile record
// carries (invalid UTF-8 in eventName, control characters or 2000 bytes in
// errorCode, non-ASCII pool ids) reach the datums as CloudWatch accepts
// them, and raw values that sanitise alike make one series, not two datums
// with the same identity.
func TestDimensionValuesArePublishable(t *testing.T) {
	at := time.Date(2026, 11, 22, 12, 0, 30, 0, time.UTC)
	recs := []record.Record{
		{EventName: "Init\xff\xfeAuth", ErrorCode: "Bad\nCode"},
		{EventName: "Init\ufffd\ufffdAuth", ErrorCode: strings.Repeat("E", 2000)},
		{EventName: "InitiateAuth", ErrorCode: "NotAuthorizedException", UserPoolID: "eu-west-1_Pööl"},
	}
	a := aggregate.New(&aggregate.Options{Level: metric.Full})
	for i := range recs {
		recs[i].EventTime, recs[i].EventSource, recs[i].AWSRegion = at, "cognito-idp.amazonaws.com", "eu-west-1"
		c := class.Classify(&recs[i])
		a.Add(&recs[i], &c, time.Time{})
	}
	ds := slices.Collect(a.All())
	seen := map[string]bool{}
	var mangled float64
	for _, d := range ds {
		id := d.Name
		for _, dim := range d.Dimensions {
			if v := dim.Value; v == "" || len(v) > metric.MaxDimensionValueLen || strings.IndexFunc(v, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
				t.Errorf("%s %s=%q: CloudWatch refuses it", d.Name, dim.Name, v)
			}
			id += "|" + dim.Name + "=" + dim.Value
			if d.Name == metric.Events && dim.Name == metric.DimOperation && dim.Value == "Init__Auth" {
				mangled += d.Sum()
			}
		}
		if seen[id+d.Timestamp.String()] {
			t.Errorf("two datums %s at %v", id, d.Timestamp)
		}
		seen[id+d.Timestamp.String()] = true
	}
	if mangled != 2 {
		t.Errorf("Events for Operation Init__Auth: %v, want 2 (both malformed names in one series)", mangled)
	}
	if !seen[metric.Errors+"|Category=user-pool-api|ErrorCode="+strings.Repeat("E", 1024)+at.Truncate(time.Minute).String()] {
		t.Error("the 2000-byte error code was not cut to 1024 bytes")
	}
}

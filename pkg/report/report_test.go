package report

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognitrail/cognitrail/internal/golden"
	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/record"
	"github.com/cognitrail/cognitrail/pkg/scan"
	"github.com/cognitrail/cognitrail/pkg/trailfile"
)

const (
	awsDir     = "../class/testdata/aws"
	samplesDir = "../../events/trails"
)

// awsTrail joins the one-record files of the real-shaped testdata into one
// trail file, in file name order.
func awsTrail(t *testing.T) []byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(awsDir, "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no testdata records: %v", err)
	}
	var b bytes.Buffer
	b.WriteString(`{"Records":[`)
	for i, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(data)
	}
	b.WriteString("]}")
	return b.Bytes()
}

// sampleFiles lists the generated sample trail files (the digest included:
// the engine skips it).
func sampleFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(samplesDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	})
	if err != nil || len(out) == 0 {
		t.Fatalf("no sample files in %s: %v", samplesDir, err)
	}
	return out
}

func build(t *testing.T, b *Builder, name string, r io.Reader) {
	t.Helper()
	rel, _ := filepath.Rel(samplesDir, name)
	opts := scan.Options{Reader: trailfile.Options{Name: filepath.ToSlash(rel)}, OnRecord: b.Add}
	res, err := scan.File(context.Background(), r, aggregate.New(nil), &opts)
	if err != nil || res.Outcome == aggregate.Failed {
		t.Fatalf("%s: %v %v", name, err, res.Err)
	}
}

func awsReport(t *testing.T) *Report {
	b := New()
	// Compressed as CloudTrail delivers it.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(awsTrail(t))
	zw.Close()
	build(t, b, "aws.json.gz", &gz)
	return b.Report()
}

func samplesReport(t *testing.T) *Report {
	b := New()
	for _, p := range sampleFiles(t) {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		build(t, b, p, f)
		f.Close()
	}
	return b.Report()
}

func TestGolden(t *testing.T) {
	for name, rep := range map[string]func(*testing.T) *Report{"aws": awsReport, "samples": samplesReport} {
		t.Run(name, func(t *testing.T) {
			r := rep(t)
			var text, js bytes.Buffer
			if err := r.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if err := r.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", name+"-text.golden"), text.Bytes())
			golden.Check(t, filepath.Join("testdata", name+"-json.golden"), js.Bytes())
		})
	}
}

// naiveRecord is what the independent check reads from each record with
// encoding/json, not with the engine's parser.
type naiveRecord struct {
	EventTime           string `json:"eventTime"`
	EventSource         string `json:"eventSource"`
	EventName           string `json:"eventName"`
	EventID             string `json:"eventID"`
	ErrorCode           string `json:"errorCode"`
	SourceIPAddress     string `json:"sourceIPAddress"`
	AdditionalEventData struct {
		Sub any `json:"sub"`
	} `json:"additionalEventData"`
	raw []byte
}

// naiveSamples reads every sample record the slow, obvious way.
func naiveSamples(t *testing.T) []naiveRecord {
	var out []naiveRecord
	for _, p := range sampleFiles(t) {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct{ Records []json.RawMessage }
		if err := json.NewDecoder(zr).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		f.Close()
		for _, raw := range doc.Records {
			var r naiveRecord
			// Some records hold additionalEventData as other shapes; only
			// the fields above matter.
			_ = json.Unmarshal(raw, &r)
			r.raw = raw
			if r.EventSource == "cognito-idp.amazonaws.com" {
				out = append(out, r)
			}
		}
	}
	return out
}

// TestAgainstDirectComputation recomputes the answers for the samples with a
// straightforward decode-filter-count, so the golden files are checked
// against something other than the code that wrote them.
func TestAgainstDirectComputation(t *testing.T) {
	rep := samplesReport(t)
	recs := naiveSamples(t)
	if rep.Records != len(recs) || len(recs) == 0 {
		t.Fatalf("report counts %d cognito-idp records, direct count %d", rep.Records, len(recs))
	}

	// Query 1: the newest time, and no listed event older than one left out.
	times := make([]string, len(recs))
	for i, r := range recs {
		times[i] = r.EventTime
	}
	slices.Sort(times)
	slices.Reverse(times)
	if len(rep.MostRecent) != Limit {
		t.Fatalf("%d most recent events", len(rep.MostRecent))
	}
	for i, e := range rep.MostRecent {
		if got := e.Time.Format(time.RFC3339); got != times[i] {
			t.Errorf("most recent #%d at %s, direct %s", i, got, times[i])
		}
	}

	// Query 2: the exception records, straight from the raw bytes.
	exc := map[string]string{}
	for _, r := range recs {
		if bytes.Contains(r.raw, []byte("Exception")) {
			exc[r.EventID] = r.EventTime
		}
	}
	if want := min(Limit, len(exc)); len(rep.RecentExceptions) != want {
		t.Errorf("%d recent exceptions, want %d", len(rep.RecentExceptions), want)
	}
	for _, e := range rep.RecentExceptions {
		if _, ok := exc[e.EventID]; !ok {
			t.Errorf("event %s listed as an exception; its record has no \"Exception\"", e.EventID)
		}
	}

	// Query 3: subs of NotAuthorizedException events.
	subs := map[string]string{}
	for _, r := range recs {
		if r.ErrorCode == NotAuthorized {
			s, _ := r.AdditionalEventData.Sub.(string)
			subs[r.EventID] = s
		}
	}
	for _, e := range rep.RecentNotAuthorized {
		if s, ok := subs[e.EventID]; !ok || s != e.Sub || e.ErrorCode != NotAuthorized {
			t.Errorf("NotAuthorized event %s: sub %q, direct %q (found %v)", e.EventID, e.Sub, s, ok)
		}
	}

	// Queries 4, 5, 6: counts.
	pairs, notAuth, forgot := map[string]int{}, map[string]int{}, map[string]int{}
	for _, r := range recs {
		pairs[r.SourceIPAddress+" "+r.EventName]++
		if r.ErrorCode == NotAuthorized {
			notAuth[r.SourceIPAddress+" "+r.EventName]++
		}
		if r.EventName == "ForgotPassword" {
			forgot[r.SourceIPAddress+" "]++
		}
	}
	check := func(query string, got []Count, want map[string]int, limit int) {
		t.Helper()
		if len(got) != min(len(want), limit) {
			t.Errorf("%s: %d rows, want %d", query, len(got), min(len(want), limit))
		}
		for i, c := range got {
			if n := want[c.SourceIP+" "+c.EventName]; n != c.Count {
				t.Errorf("%s: %s %s counted %d, direct %d", query, c.SourceIP, c.EventName, c.Count, n)
			}
			if i > 0 && got[i-1].Count < c.Count {
				t.Errorf("%s: row %d not busiest first", query, i)
			}
		}
		// Nothing left out is busier than the last row kept.
		if len(got) == limit {
			last := got[len(got)-1].Count
			kept := 0
			for _, n := range want {
				if n > last {
					kept++
				}
			}
			if kept > limit {
				t.Errorf("%s: rows busier than the last kept were left out", query)
			}
		}
	}
	check("by IP and event name", rep.ByIPAndEventName, pairs, MaxPairs)
	check("NotAuthorizedException IPs", rep.TopNotAuthorizedIPs, notAuth, Limit)
	check("ForgotPassword IPs", rep.TopForgotPasswordIPs, forgot, Limit)

	// The samples' attack story must show: the credential stuffer leads.
	if len(rep.TopNotAuthorizedIPs) == 0 || rep.TopNotAuthorizedIPs[0].SourceIP != "203.0.113.45" {
		t.Errorf("top NotAuthorized address: %+v", rep.TopNotAuthorizedIPs)
	}
}

// genEvents makes n cognito-idp records with many equal timestamps, the case
// where order would otherwise depend on input order.
func genEvents(n int) []scan.Event {
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	names := []string{"InitiateAuth", "RespondToAuthChallenge", "ForgotPassword", "SignUp", "Login_GET"}
	evs := make([]scan.Event, n)
	for i := range evs {
		r := &record.Record{
			EventTime:       base.Add(time.Duration(rng.IntN(40)) * time.Second),
			EventSource:     class.SourceUserPool,
			EventName:       names[rng.IntN(len(names))],
			EventID:         fmt.Sprintf("%08x-0000-4000-8000-%012x", rng.Uint32(), i),
			SourceIPAddress: fmt.Sprintf("192.0.2.%d", rng.IntN(6)),
			EventType:       "AwsApiCall",
		}
		raw := `{"eventSource":"cognito-idp.amazonaws.com"}`
		if rng.IntN(3) == 0 {
			r.ErrorCode = NotAuthorized
			r.Sub = fmt.Sprintf("sub-%d", rng.IntN(4))
			raw = `{"errorCode":"NotAuthorizedException"}`
		}
		if i%7 == 0 {
			r.EventSource = "s3.amazonaws.com"
		}
		c := class.Classify(r)
		evs[i] = scan.Event{File: "gen", Index: i, Record: r, Class: &c, Raw: []byte(raw)}
	}
	return evs
}

// TestOrderIndependent feeds the same records in different orders: the
// report must not change, and the heap must keep exactly the events a full
// sort would list first.
func TestOrderIndependent(t *testing.T) {
	evs := genEvents(500)
	var want *Report
	for trial := range 4 {
		order := slices.Clone(evs)
		rand.New(rand.NewPCG(uint64(trial), 9)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		b := New()
		for i := range order {
			b.Add(&order[i])
		}
		got := b.Report()
		if want == nil {
			want = got
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d: report depends on input order", trial)
		}
	}
	var all []Event
	for _, ev := range evs {
		if ev.Record.EventSource == class.SourceUserPool {
			all = append(all, Event{Time: ev.Record.EventTime, EventID: ev.Record.EventID})
		}
	}
	slices.SortFunc(all, func(x, y Event) int {
		return cmp.Or(y.Time.Compare(x.Time), strings.Compare(x.EventID, y.EventID))
	})
	for i, e := range want.MostRecent {
		if e.EventID != all[i].EventID {
			t.Fatalf("most recent #%d is %s, full sort says %s", i, e.EventID, all[i].EventID)
		}
	}
	if want.Records != len(all) {
		t.Errorf("%d records, want %d", want.Records, len(all))
	}
}

func TestEmpty(t *testing.T) {
	var js bytes.Buffer
	if err := New().Report().WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(js.Bytes(), []byte("null")) {
		t.Errorf("empty report has null lists:\n%s", js.Bytes())
	}
}

package report

import (
	"bytes"
	"cmp"
	"container/heap"
	"slices"
	"time"

	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/scan"
)

// Limit is the row limit of the guide's queries ("limit 25").
const Limit = 25

// MaxPairs bounds the rows of the sourceIPAddress × eventName table, which
// the guide's query leaves unlimited: Logs Insights shows at most 1000 rows
// by default too. Pairs past it are counted in PairsOmitted.
const MaxPairs = 1000

// NotAuthorized is the error code queries 3 and 5 look for.
const NotAuthorized = "NotAuthorizedException"

// Event is one row of a "most recent" list.
type Event struct {
	Time       time.Time `json:"time"`
	EventName  string    `json:"eventName"`
	Category   string    `json:"category"`
	ErrorCode  string    `json:"errorCode,omitempty"`
	SourceIP   string    `json:"sourceIPAddress"`
	Region     string    `json:"awsRegion,omitempty"`
	UserPoolID string    `json:"userPoolId,omitempty"`
	EventID    string    `json:"eventID"`
	// Sub is the user pool sub (additionalEventData.sub); only the
	// NotAuthorizedException list carries it, as the guide's query does.
	Sub string `json:"sub,omitempty"`

	file  string
	index int
}

// Count is one row of a "count by" table.
type Count struct {
	SourceIP  string `json:"sourceIPAddress"`
	EventName string `json:"eventName,omitempty"`
	Count     int    `json:"count"`
}

// Report is the answer to the six queries.
type Report struct {
	// Records is the number of cognito-idp records seen.
	Records int `json:"cognitoIdpRecords"`
	// MostRecent answers query 1.
	MostRecent []Event `json:"mostRecent"`
	// RecentExceptions answers query 2: the raw record contains "Exception".
	RecentExceptions []Event `json:"recentExceptions"`
	// RecentNotAuthorized answers query 3.
	RecentNotAuthorized []Event `json:"recentNotAuthorized"`
	// ByIPAndEventName answers query 4, busiest first, at most MaxPairs rows.
	ByIPAndEventName []Count `json:"byIPAndEventName"`
	// PairsOmitted is how many pairs did not fit in ByIPAndEventName.
	PairsOmitted int `json:"pairsOmitted,omitempty"`
	// TopNotAuthorizedIPs answers query 5.
	TopNotAuthorizedIPs []Count `json:"topNotAuthorizedIPs"`
	// TopForgotPasswordIPs answers query 6.
	TopForgotPasswordIPs []Count `json:"topForgotPasswordIPs"`
}

type pair struct{ ip, name string }

// Builder accumulates records into a Report. The zero value is not usable;
// call New. A Builder is not safe for concurrent use.
type Builder struct {
	records    int
	recent     topN
	exceptions topN
	notAuth    topN
	byPair     map[pair]int
	notAuthBy  map[pair]int
	forgotBy   map[string]int
}

// New returns an empty Builder.
func New() *Builder {
	return &Builder{byPair: map[pair]int{}, notAuthBy: map[pair]int{}, forgotBy: map[string]int{}}
}

var exception = []byte("Exception")

// Add takes one classified record; use it as scan.Options.OnRecord. Records
// from other event sources are ignored.
func (b *Builder) Add(ev *scan.Event) {
	r := ev.Record
	if r.EventSource != class.SourceUserPool {
		return
	}
	b.records++
	e := Event{
		Time: r.EventTime, EventName: r.EventName, Category: ev.Class.Category.String(),
		ErrorCode: r.ErrorCode, SourceIP: r.SourceIPAddress, Region: r.AWSRegion,
		UserPoolID: r.UserPoolID, EventID: r.EventID, file: ev.File, index: ev.Index,
	}
	b.recent.add(e)
	// Logs Insights' /Exception/ runs over the whole record as JSON, so an
	// exception named only in errorMessage or a parameter counts too.
	if bytes.Contains(ev.Raw, exception) {
		b.exceptions.add(e)
	}
	p := pair{r.SourceIPAddress, r.EventName}
	b.byPair[p]++
	if r.ErrorCode == NotAuthorized {
		e.Sub = r.Sub
		b.notAuth.add(e)
		b.notAuthBy[p]++
	}
	if r.EventName == "ForgotPassword" {
		b.forgotBy[r.SourceIPAddress]++
	}
}

// Report returns the answers for the records added so far.
func (b *Builder) Report() *Report {
	rep := &Report{
		Records:             b.records,
		MostRecent:          b.recent.sorted(),
		RecentExceptions:    b.exceptions.sorted(),
		RecentNotAuthorized: b.notAuth.sorted(),
		ByIPAndEventName:    counts(b.byPair, 0),
		TopNotAuthorizedIPs: counts(b.notAuthBy, Limit),
	}
	if n := len(rep.ByIPAndEventName); n > MaxPairs {
		rep.PairsOmitted = n - MaxPairs
		rep.ByIPAndEventName = rep.ByIPAndEventName[:MaxPairs]
	}
	forgot := make(map[pair]int, len(b.forgotBy))
	for ip, n := range b.forgotBy {
		forgot[pair{ip: ip}] = n
	}
	rep.TopForgotPasswordIPs = counts(forgot, Limit)
	return rep
}

// counts sorts a count table busiest first, then by address and event
// name, and keeps the first limit rows (all when limit is 0).
func counts(m map[pair]int, limit int) []Count {
	out := make([]Count, 0, len(m))
	for p, n := range m {
		out = append(out, Count{SourceIP: p.ip, EventName: p.name, Count: n})
	}
	slices.SortFunc(out, func(x, y Count) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.SourceIP, y.SourceIP), cmp.Compare(x.EventName, y.EventName))
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// before reports whether x is listed before y: newer first, then by event
// id, file and position, so equal timestamps still have one order.
func before(x, y *Event) bool {
	return cmp.Or(y.Time.Compare(x.Time), cmp.Compare(x.EventID, y.EventID),
		cmp.Compare(x.file, y.file), cmp.Compare(x.index, y.index)) < 0
}

// topN keeps the Limit events listed first. It is a heap whose root is the
// one listed last, the one to drop when a better event arrives.
type topN []Event

func (h topN) Len() int           { return len(h) }
func (h topN) Less(i, j int) bool { return before(&h[j], &h[i]) }
func (h topN) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *topN) Push(x any)        { *h = append(*h, x.(Event)) }
func (h *topN) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

func (h *topN) add(e Event) {
	if len(*h) < Limit {
		heap.Push(h, e)
		return
	}
	if before(&e, &(*h)[0]) {
		(*h)[0] = e
		heap.Fix(h, 0)
	}
}

func (h topN) sorted() []Event {
	out := slices.Clone(h)
	if out == nil {
		out = []Event{}
	}
	slices.SortFunc(out, func(x, y Event) int {
		if before(&x, &y) {
			return -1
		}
		if before(&y, &x) {
			return 1
		}
		return 0
	})
	return out
}

// Merge adds what o, a Builder of other files, was given: the report is
// the one a Builder given every record would answer, whatever the order of
// the merges (files read in parallel, each into a Builder of its own). o
// must not be used afterwards.
func (b *Builder) Merge(o *Builder) {
	b.records += o.records
	for _, h := range []struct{ into, from *topN }{{&b.recent, &o.recent}, {&b.exceptions, &o.exceptions}, {&b.notAuth, &o.notAuth}} {
		for _, e := range *h.from {
			h.into.add(e)
		}
	}
	for _, m := range []struct{ into, from map[pair]int }{{b.byPair, o.byPair}, {b.notAuthBy, o.notAuthBy}} {
		for p, n := range m.from {
			m.into[p] += n
		}
	}
	for ip, n := range o.forgotBy {
		b.forgotBy[ip] += n
	}
}

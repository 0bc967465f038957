package report

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/scan"
)

// Bounds of a View, so that a month of an organization's files draws a
// page of a few hundred kilobytes.
const (
	// MaxPoints is how many points a timeline keeps: a longer span is
	// drawn in buckets of several minutes.
	MaxPoints = 720
	// MaxTimelines is how many pools get a timeline (the busiest).
	MaxTimelines = 8
	// MaxRows bounds the address, findings and configuration tables (the
	// busiest addresses, the most recent findings and changes).
	MaxRows = 200
)

// Signals drawn on a timeline.
const (
	SigFailures = iota
	SigSuccesses
	SigForgot
	SigSignUps
	numSignals
)

// SignalNames label the timeline's series.
var SignalNames = [numSignals]string{"sign-in failures", "sign-in successes", "ForgotPassword", "sign-ups"}

// View collects what `cognitrail report --format html` draws: per pool and
// minute the sign-in failures and successes, ForgotPassword and sign-ups;
// per source address the same with its findings; the findings; the
// configuration changes; the identity pool role calls by role. Memory
// grows with pools x minutes and with addresses, like the metrics; the
// lists are cut when the page is drawn.
type View struct {
	pools    map[string]*poolLine
	ips      map[string]*IPRow
	findings []finding.Finding
	// fileStart: the first of findings the current file raised.
	fileStart int
	changes   []Change
	roles     map[roleKey]int
	first     time.Time
	last      time.Time
	records   int
}

type poolLine struct {
	minutes map[int64]*[numSignals]int
	total   int
}

type roleKey struct{ role, auth string }

// NoPool names the timeline of events that name neither a pool nor an app
// client.
const NoPool = "(no pool in the record)"

// clientKey keys an app client's events until it is resolved: the same
// client id may name clients of pools in two Regions.
func clientKey(region, client string) string { return "\x00" + region + "\x00" + client }

func splitClientKey(k string) (region, client string, ok bool) {
	if !strings.HasPrefix(k, "\x00") {
		return "", "", false
	}
	region, client, ok = strings.Cut(k[1:], "\x00")
	return region, client, ok
}

// IPRow is one source address.
type IPRow struct {
	Address   string `json:"address"`
	Failures  int    `json:"failures"`
	Successes int    `json:"successes"`
	Findings  int    `json:"findings"`
}

// Change is one configuration change.
type Change struct {
	Time      time.Time `json:"time"`
	Operation string    `json:"operation"`
	Pool      string    `json:"pool,omitempty"`
	Actor     string    `json:"actor,omitempty"`
	ErrorCode string    `json:"errorCode,omitempty"`
	EventID   string    `json:"eventID"`
}

// RoleCalls counts the calls made with one role an identity pool vended.
type RoleCalls struct {
	Role     string `json:"role"`
	AuthType string `json:"authType"`
	Calls    int    `json:"calls"`
}

// NewView returns an empty View.
func NewView() *View {
	return &View{pools: map[string]*poolLine{}, ips: map[string]*IPRow{}, roles: map[roleKey]int{}}
}

// Add adds one classified record and its findings.
func (v *View) Add(ev *scan.Event) {
	r, c := ev.Record, ev.Class
	v.records++
	if v.first.IsZero() || r.EventTime.Before(v.first) {
		v.first = r.EventTime
	}
	if r.EventTime.After(v.last) {
		v.last = r.EventTime
	}
	sig := -1
	switch {
	case c.SignIn && c.Failed:
		sig = SigFailures
	case c.SignIn:
		sig = SigSuccesses
	case c.ForgotPassword:
		sig = SigForgot
	case !c.Failed && (r.EventName == "SignUp" || strings.EqualFold(r.EventName, "signup_POST")):
		sig = SigSignUps
	}
	if sig >= 0 {
		pool := c.UserPoolID
		if pool == "" && c.ClientID != "" {
			// Resolved to its pool when the page is cut, once every
			// file has given its pairs.
			pool = clientKey(r.AWSRegion, c.ClientID)
		}
		if pool == "" {
			pool = NoPool
		}
		pl := v.pools[pool]
		if pl == nil {
			pl = &poolLine{minutes: map[int64]*[numSignals]int{}}
			v.pools[pool] = pl
		}
		m := r.EventTime.Unix() / 60
		cell := pl.minutes[m]
		if cell == nil {
			cell = new([numSignals]int)
			pl.minutes[m] = cell
		}
		cell[sig]++
		pl.total++
		if sig <= SigSuccesses && r.SourceIPAddress != "" {
			row := v.ip(r.SourceIPAddress)
			if sig == SigFailures {
				row.Failures++
			} else {
				row.Successes++
			}
		}
	}
	if c.ConfigChange {
		pool := c.UserPoolID
		if pool == "" {
			pool = c.IdentityPoolID
		}
		actor := r.UserIdentity.SessionIssuerARN
		if actor == "" {
			actor = r.UserIdentity.Type
		}
		v.changes = append(v.changes, Change{Time: r.EventTime, Operation: r.EventName, Pool: pool,
			Actor: actor, ErrorCode: r.ErrorCode, EventID: r.EventID})
	}
	if c.Category == class.IdentityPoolRoleCall {
		v.roles[roleKey{r.UserIdentity.SessionIssuerARN, string(c.AuthType)}]++
	}
	for _, f := range ev.Findings {
		v.AddFinding(f)
	}
}

// AddFinding adds a finding no record's event carries: one judged at the
// end of a file, over a window across files (scan.Result.Findings).
func (v *View) AddFinding(f finding.Finding) {
	f.Settings = slices.Clone(f.Settings)
	v.findings = append(v.findings, f)
	if f.SourceIP != "" {
		v.ip(f.SourceIP).Findings++
	}
}

// EndFile ends a file: recount (finding.Engine.Recount) is given each
// finding the file raised, once the file is read, so that a per-address
// finding says the address's total in the file, not the threshold it
// crossed.
func (v *View) EndFile(recount func(*finding.Finding)) {
	for i := v.fileStart; i < len(v.findings); i++ {
		recount(&v.findings[i])
	}
	v.fileStart = len(v.findings)
}

func (v *View) ip(a string) *IPRow {
	row := v.ips[a]
	if row == nil {
		row = &IPRow{Address: a}
		v.ips[a] = row
	}
	return row
}

// Timeline is one pool's signals over time, in buckets of Step.
type Timeline struct {
	Pool   string            `json:"pool"`
	Total  int               `json:"total"`
	Start  time.Time         `json:"start"`
	Step   time.Duration     `json:"step"`
	Points [][numSignals]int `json:"points"`
	Marks  []finding.Finding `json:"-"`
	Sums   [numSignals]int   `json:"sums"`
}

// Page is a View cut to what the page shows, deterministically: equal
// counts are ordered by name, equal times by event id.
type Page struct {
	Records         int               `json:"records"`
	First, Last     time.Time         `json:"-"`
	Timelines       []Timeline        `json:"timelines"`
	PoolsOmitted    int               `json:"poolsOmitted"`
	Addresses       []IPRow           `json:"addresses"`
	Findings        []finding.Finding `json:"-"`
	FindingsOmitted int               `json:"findingsOmitted"`
	Changes         []Change          `json:"changes"`
	ChangesOmitted  int               `json:"changesOmitted"`
	Roles           []RoleCalls       `json:"roles"`
}

// Page cuts the view for drawing. resolve, when not nil, gives an app
// client's user pool (aggregate.Aggregator.PoolOf): the calls that name
// only the client join their pool's timeline, as they join its metrics.
func (v *View) Page(resolve func(region, client string) (string, bool)) *Page {
	p := &Page{Records: v.records, First: v.first, Last: v.last}
	pools := map[string]*poolLine{}
	label := map[string]string{}
	for k, pl := range v.pools {
		name := k
		if region, client, ok := splitClientKey(k); ok {
			name = "client " + client
			if resolve != nil {
				if pool, ok := resolve(region, client); ok {
					name = pool
				}
			}
			label[client] = name
		}
		into := pools[name]
		if into == nil {
			into = &poolLine{minutes: map[int64]*[numSignals]int{}}
			pools[name] = into
		}
		into.total += pl.total
		for m, cell := range pl.minutes {
			c := into.minutes[m]
			if c == nil {
				c = new([numSignals]int)
				into.minutes[m] = c
			}
			for s := range numSignals {
				c[s] += cell[s]
			}
		}
	}
	// One bucket width for every timeline, so they line up.
	span := v.last.Sub(v.first.Truncate(time.Minute)) + time.Minute
	step := time.Minute
	for span/step > MaxPoints {
		step *= 2
	}
	start := v.first.Truncate(step)
	names := slices.SortedFunc(maps.Keys(pools), func(a, b string) int {
		return cmp.Or(cmp.Compare(pools[b].total, pools[a].total), cmp.Compare(a, b))
	})
	if len(names) > MaxTimelines {
		p.PoolsOmitted = len(names) - MaxTimelines
		names = names[:MaxTimelines]
	}
	n := int(v.last.Sub(start)/step) + 1
	for _, name := range names {
		pl := pools[name]
		tl := Timeline{Pool: name, Total: pl.total, Start: start, Step: step, Points: make([][numSignals]int, n)}
		for m, cell := range pl.minutes {
			i := int(time.Unix(m*60, 0).Sub(start) / step)
			for s := range numSignals {
				tl.Points[i][s] += cell[s]
				tl.Sums[s] += cell[s]
			}
		}
		for _, f := range v.findings {
			if f.UserPoolID == name || (f.ClientID != "" && label[f.ClientID] == name) {
				tl.Marks = append(tl.Marks, f)
			}
		}
		p.Timelines = append(p.Timelines, tl)
	}
	addrs := slices.Collect(maps.Values(v.ips))
	slices.SortFunc(addrs, func(a, b *IPRow) int {
		return cmp.Or(cmp.Compare(b.Findings, a.Findings), cmp.Compare(b.Failures, a.Failures),
			cmp.Compare(b.Successes, a.Successes), cmp.Compare(a.Address, b.Address))
	})
	for _, a := range addrs[:min(len(addrs), MaxRows)] {
		p.Addresses = append(p.Addresses, *a)
	}
	fs := slices.Clone(v.findings)
	slices.SortStableFunc(fs, func(a, b finding.Finding) int {
		return cmp.Or(b.Time.Compare(a.Time), cmp.Compare(a.EventID, b.EventID), cmp.Compare(a.Name, b.Name))
	})
	p.FindingsOmitted = max(0, len(fs)-MaxRows)
	p.Findings = fs[:min(len(fs), MaxRows)]
	cs := slices.Clone(v.changes)
	slices.SortStableFunc(cs, func(a, b Change) int {
		return cmp.Or(b.Time.Compare(a.Time), cmp.Compare(a.EventID, b.EventID))
	})
	p.ChangesOmitted = max(0, len(cs)-MaxRows)
	p.Changes = cs[:min(len(cs), MaxRows)]
	for k, n := range v.roles {
		p.Roles = append(p.Roles, RoleCalls{Role: k.role, AuthType: k.auth, Calls: n})
	}
	slices.SortFunc(p.Roles, func(a, b RoleCalls) int {
		return cmp.Or(cmp.Compare(b.Calls, a.Calls), cmp.Compare(a.Role, b.Role), cmp.Compare(a.AuthType, b.AuthType))
	})
	return p
}

package finding

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/record"
)

// GuestCredentialsFirstSeen: an identity pool issued credentials to a guest
// (GetCredentialsForIdentity without logins) where it issued none in the
// GuestQuiet before: guest access that nobody used is being used.
const GuestCredentialsFirstSeen = "guest-credentials-first-seen"

// GuestQuiet is how long an identity pool must have issued no guest
// credentials for the next to be "first seen" (Elastic's rule on the same
// calls looks back 7 days).
const GuestQuiet = 7 * 24 * time.Hour

// GuestEntries is how much of a pool's guest history a State keeps: the
// first and the last guest call of each day, for the newest nine days, so
// GuestQuiet is always covered.
const GuestEntries = 18

// guestIDPrefix starts the EventID of a guest history entry. Each day has
// two: "g:first" (the value is the day's earliest guest call, as Unix
// seconds) and "g:last" (the latest, stored as lastBase minus the Unix
// seconds). Merge keeps the smaller of two values of one entry, so the
// entries of every file of the day merge into the day's earliest and
// latest call, whatever the order they come in.
const (
	guestIDPrefix = "g:"
	guestFirst    = guestIDPrefix + "first"
	guestLast     = guestIDPrefix + "last"
	lastBase      = 99_999_999_999
)

// guestSeen is a pool's guest calls in one file.
type guestSeen struct {
	account, pool string
	first, last   time.Time
	// the record of the earliest call: what the finding names (raw: its
	// JSON, read for the actor and user agent once the file is read)
	eventID, region, source string
	index                   int
	raw                     []byte
	actor, userAgent        string
}

// guestCall reports a guest's credentials: GetCredentialsForIdentity
// answered, with no login named (an authenticated identity names its
// provider's token in logins).
func guestCall(r *record.Record, c *class.Class) bool {
	return c.Category == class.IdentityPoolData && r.EventName == "GetCredentialsForIdentity" &&
		!c.Failed && !r.Logins && r.IdentityPoolID != "" && !r.EventTime.IsZero()
}

// countGuest notes a guest call in the file's guest calls per pool.
func (e *Engine) countGuest(r *record.Record, raw []byte) {
	k := [2]string{accountOf(r), r.IdentityPoolID}
	g := e.guests[k]
	if g == nil {
		if len(e.guests) >= maxTallies {
			return
		}
		g = &guestSeen{account: k[0], pool: k[1], first: r.EventTime, last: r.EventTime}
		e.guests[k] = g
	} else {
		g.last = later(g.last, r.EventTime)
		if !r.EventTime.Before(g.first) && !(r.EventTime.Equal(g.first) && r.EventID < g.eventID) {
			return
		}
		g.first = r.EventTime
	}
	g.eventID, g.region, g.source, g.index = r.EventID, r.AWSRegion, r.SourceIPAddress, e.index
	g.raw = append(g.raw[:0], raw...)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// guestKey is a pool's guest history in the State: a setting's key, kept
// as long as settings are (GuestQuiet is far longer than a window).
func guestKey(account, pool string) string {
	return account + "/identitypool/" + pool + "/guestCredentials"
}

// entries returns what a file's guest calls add to the pool's history:
// its earliest call as its day's first, its latest as its day's last.
func (g *guestSeen) entries() []Entry {
	return []Entry{
		{Time: g.first.UTC().Truncate(24 * time.Hour), EventID: guestFirst, Value: fmt.Sprintf("%011d", g.first.Unix())},
		{Time: g.last.UTC().Truncate(24 * time.Hour), EventID: guestLast, Value: fmt.Sprintf("%011d", lastBase-g.last.Unix())},
	}
}

// guestBefore reports whether history h shows a guest call in
// [t-GuestQuiet, t). Every entry is a real call's time. A file's calls in
// the span leave one there: its earliest, or its latest (merged into its
// day's latest, which is then in the span too, as the span is longer than
// a day), unless the file itself spans the whole span (no trail file
// does). A file's own calls are all at t or later: a retried file finds
// its own entries and is judged as the first time.
func guestBefore(h []Entry, t time.Time) bool {
	from := t.Add(-GuestQuiet)
	for _, x := range h {
		n, err := strconv.ParseInt(x.Value, 10, 64)
		if err != nil {
			continue
		}
		switch x.EventID {
		case guestFirst:
		case guestLast:
			n = lastBase - n
		default:
			continue
		}
		if at := time.Unix(n, 0); !at.Before(from) && at.Before(t) {
			return true
		}
	}
	return false
}

// judgeGuests raises, for each pool of the file with guest calls, a guest
// call no earlier call of the pool precedes within GuestQuiet, as the State
// knows them; the file's calls are written with its results (Commit).
// Files judged at the same time, or a file older than one that raised,
// may each raise it (at least once).
func (e *Engine) judgeGuests(ctx context.Context, guests []guestSeen) []Raised {
	var out []Raised
	for _, g := range guests {
		key := guestKey(g.account, g.pool)
		h, err := e.opts.State.Get(ctx, key)
		if err != nil {
			if e.err == nil {
				e.err = fmt.Errorf("%w: guest credentials: %w", ErrState, err)
			}
			return nil
		}
		e.pending[key] = append(e.pending[key], g.entries()...)
		if len(h) >= GuestEntries && g.first.Before(h[0].Time) {
			// Older than all the pool's kept history, which is full:
			// earlier calls may have been cut.
			continue
		}
		if guestBefore(h, g.first) {
			continue
		}
		out = append(out, Raised{Index: g.index, Finding: Finding{
			Time: g.first, Severity: bySpec[GuestCredentialsFirstSeen].Severity, Name: GuestCredentialsFirstSeen,
			Account: g.account, Region: g.region, IdentityPoolID: g.pool, Operation: "GetCredentialsForIdentity",
			SourceIP: g.source, EventID: g.eventID, Actor: g.actor, UserAgent: g.userAgent,
			Settings: []Setting{{Name: "quietBefore", Value: GuestQuiet.String()}},
		}})
	}
	return out
}

// sortedGuests returns the file's guest calls per pool, ordered.
func (e *Engine) sortedGuests() []guestSeen {
	out := make([]guestSeen, 0, len(e.guests))
	for _, k := range slices.SortedFunc(maps.Keys(e.guests), func(a, b [2]string) int {
		return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1]))
	}) {
		g := *e.guests[k]
		var d decoded
		if err := d.decode(g.raw); err == nil {
			g.actor, g.userAgent = d.env.actor(), d.env.UserAgent
		}
		g.raw = nil
		out = append(out, g)
	}
	return out
}

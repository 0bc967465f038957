package sim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/ledger"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/processor"
	"github.com/cognitrail/cognitrail/pkg/scan"
	"github.com/cognitrail/cognitrail/pkg/sink"
)

// compared are the series the invariants sum: the basic ones, and the
// per-pool sign-in series, where an app client id counts under its pool
// once a Resolver knew the pair and under ClientId before (see
// clientPools). Left out: Findings (what a state-dependent finding raises
// depends on the order files are judged in, which the protocol does not
// fix) and FilesSkipped (one per duplicate delivery, which the run draws).
func compared(name string, dims []string) bool {
	if name == metric.Findings || name == metric.FilesSkipped {
		return false
	}
	spec, ok := metric.Lookup(name)
	if !ok || spec.Stat == metric.StatMaximum {
		return false // a peak is a file's view of a window: checked by peaks
	}
	for _, s := range spec.Sets {
		if !slices.Equal(s.Names, dims) {
			continue
		}
		if s.Level == metric.Basic || resolved[name] && s.Level == metric.Standard {
			return true
		}
	}
	return false
}

// resolved are the series whose per-pool counts depend on what a
// Resolver answered: the inputs a retry must reuse (issue 14, item 4:
// an environment that learned a pair between two attempts moves datums
// from ClientId to UserPoolId, and a resume by datum key then skips or
// repeats some).
var resolved = map[string]bool{metric.SignInFailures: true, metric.ForgotPasswordRequests: true}

// clientPools returns the app client -> pool pairs the templates teach
// (a record naming both), which is all a Resolver can learn in a run.
func clientPools(tmpl map[string]json.RawMessage) map[string]string {
	out := map[string]string{}
	for _, raw := range tmpl {
		var r struct {
			RequestParameters struct {
				UserPoolID string `json:"userPoolId"`
				ClientID   string `json:"clientId"`
			} `json:"requestParameters"`
		}
		if json.Unmarshal(raw, &r) == nil && r.RequestParameters.UserPoolID != "" && r.RequestParameters.ClientID != "" {
			out[r.RequestParameters.ClientID] = r.RequestParameters.UserPoolID
		}
	}
	return out
}

// seriesKey names a series; a client whose pool is known counts as the
// pool, whichever the attempt that published it knew.
func seriesKey(name string, dims map[string]string, pools map[string]string) string {
	if p, ok := pools[dims[metric.DimClientID]]; ok && len(dims) == 1 {
		dims = map[string]string{metric.DimUserPoolID: p}
	}
	keys := slices.Sorted(maps.Keys(dims))
	var b strings.Builder
	b.WriteString(name)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%s", k, dims[k])
	}
	return b.String()
}

// sums adds up the compared series of PutMetricData requests.
func sums(reqs []*cw.PutMetricDataInput, pools map[string]string) map[string]float64 {
	out := map[string]float64{}
	for _, r := range reqs {
		for _, d := range r.MetricData {
			dims := map[string]string{}
			for _, dm := range d.Dimensions {
				dims[*dm.Name] = *dm.Value
			}
			if !compared(*d.MetricName, slices.Sorted(maps.Keys(dims))) {
				continue
			}
			v := 0.0
			if d.Value != nil {
				v = *d.Value
			}
			for i, x := range d.Values {
				c := 1.0
				if i < len(d.Counts) {
					c = d.Counts[i]
				}
				v += x * c
			}
			out[seriesKey(*d.MetricName, dims, pools)] += v
		}
	}
	return out
}

func (v *objectVersion) id(versioned bool) string {
	identity := "e:" + v.etag
	if versioned {
		identity = "v:" + v.versionID
	}
	return ledger.ObjectID(bucket, v.key, identity)
}

// check tests the invariants once deliveries have stopped.
func (w *World) check() []string {
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }

	// Every announced version is done once, processed when it could be
	// read, failed only when it is gone.
	// What is too old for CloudWatch is judged when an object is first
	// claimed: at the latest now, at the earliest at the start. Both cuts
	// bound what a correct run publishes.
	lo, hi := w.now.Add(-sink.DefaultMaxAge+time.Minute), start.Add(-sink.DefaultMaxAge+time.Minute)
	want, most, partial := map[string]float64{}, map[string]float64{}, map[string]float64{}
	var must []findingKey
	var processed []*objectVersion
	// linesLost: the finding's record is in a version whose lines a crash
	// after it was marked done lost (by design).
	// So do those of a version gone before the attempt that finished it
	// could read it: lines are written from a read, after done.
	linesLost := func(k findingKey) bool {
		v := w.eventVersion[k.eventID]
		return v != nil && (w.linesLost[v.id(w.s3.versioned)] || !w.s3.Readable(v.key, v.versionID, v.etag))
	}
	seen := map[string]bool{}
	for _, v := range w.versions {
		id := v.id(w.s3.versioned)
		if seen[id] {
			continue // the same content put twice is one version
		}
		seen[id] = true
		item := w.db.Item(id)
		status, outcome := str(item, "status"), str(item, "outcome")
		if status != "done" {
			fail("version %s: ledger status %q, want done", id, status)
			continue
		}
		switch outcome {
		case "failed":
			if w.s3.Readable(v.key, v.versionID, v.etag) {
				fail("version %s: marked failed but still readable", id)
			}
			if !w.everRead[v.key+"|"+v.versionID+"|"+v.etag] {
				want[seriesKey(metric.FilesFailed, nil, nil)]++
				most[seriesKey(metric.FilesFailed, nil, nil)]++
				break
			}
			// Read once, then gone before its attempt finished: what it
			// published stays (its records, or none), and it may be
			// counted failed too (a batch resumed without it).
			partial[seriesKey(metric.FilesFailed, nil, nil)]++
			w.expect(partial, v, hi, fail)
		case "", "processed":
			// A retry reuses the cut its first attempt recorded, so that
			// cut is the most it publishes; the least is what is still
			// young enough for CloudWatch at the end (the sink drops what
			// aged out between attempts: CloudWatch would refuse it).
			top := hi
			if cut, ok := w.recordedCut(item); ok {
				top = cut
			}
			w.expect(want, v, lo, fail)
			w.expect(most, v, top, fail)
			must = append(must, v.must...)
			processed = append(processed, v)
		default:
			fail("version %s: outcome %q", id, outcome)
		}
	}

	// Metric sums equal the scan of what was read: exactly, but for the
	// requests CloudWatch applied while their answer was lost, or whose
	// attempt failed before recording them, which a correct publisher
	// sends again: the one window no protocol closes without CloudWatch's
	// help (PutMetricData has no idempotency token).
	got, slack := sums(w.cw.Accepted, w.pools), sums(w.lostPuts, w.pools)
	for k, n := range partial {
		slack[k] += n
	}
	for _, k := range slices.Sorted(maps.Keys(mergeKeys(want, got))) {
		if got[k] < want[k] || got[k] > most[k]+slack[k] {
			fail("metric %s: published %v, want %v to %v (+ at most %v sent again after lost answers)", k, got[k], want[k], most[k], slack[k])
		}
	}

	// Lines: each finding and cognito_event line once; each finding that
	// does not depend on the state logged and, being high, notified.
	lines := map[findingKey]int{}
	notable := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(w.logs.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			fail("log line not JSON: %s", sc.Text())
			continue
		}
		msg := l["message"] // Lambda's JSON format renames slog's msg
		if msg == nil {
			msg = l["msg"]
		}
		switch msg {
		case processor.FindingMsg:
			lines[findingKey{fmt.Sprint(l["eventID"]), fmt.Sprint(l["finding"])}]++
		case processor.NotableMsg:
			notable[fmt.Sprint(l["eventTime"], " ", l["eventName"], " ", l["reason"])]++
		}
	}
	for k, n := range lines {
		// A window finding (finding.Engine.Windows) may be raised by
		// each of two files whose counts are merged before either reads
		// them (an attempt that failed after merging its counts is one):
		// each file logs its line, and the notices send it once (checked
		// below with the other findings).
		if n > 1 && !strings.HasPrefix(k.eventID, "window-") {
			fail("finding line %s %s written %d times", k.name, k.eventID, n)
		}
	}
	for k, n := range notable {
		if n > 1 {
			fail("cognito_event line %s written %d times", k, n)
		}
	}
	sent := map[findingKey]int{}
	for _, m := range w.sns.Accepted {
		sent[messageKey(m.Message)]++
	}
	lost := map[findingKey]int{}
	for _, m := range w.lostPublishes {
		lost[messageKey(m.Message)]++
	}
	for k, n := range sent {
		if n > 1+lost[k] {
			fail("finding %s %s notified %d times (%d lost answers)", k.name, k.eventID, n, lost[k])
		}
	}
	sort.Slice(must, func(i, j int) bool { return must[i].eventID < must[j].eventID })
	for _, k := range must {
		if lines[k] == 0 && !linesLost(k) {
			fail("finding %s %s never logged", k.name, k.eventID)
		}
		if sent[k] == 0 {
			fail("finding %s %s never notified", k.name, k.eventID)
		}
	}

	// Attacks across files: each one judging the processed versions one
	// after the other raises is notified at least once, under an id of
	// its subject (the window may differ: a late file moves an attack's
	// first window). Only the rules where more records never undo a
	// crossing, and high (notified): a version that never finished may
	// have left its provisional counts, which only add.
	notified := map[string]bool{}
	for k := range sent {
		notified[k.name+" "+windowSubject(k.eventID)] = true
	}
	for _, k := range w.attacks(processed) {
		if !notified[k.name+" "+windowSubject(k.eventID)] {
			fail("attack %s %s (judging the processed versions in turn) never notified", k.name, k.eventID)
		}
	}

	// Peaks (DistinctFailingSources): no datum shows more than the
	// window holds. A retry, a version judged twice or a provisional count
	// of a version that never finished must not add an address twice.
	bound := w.peaks()
	for _, r := range w.cw.Accepted {
		for _, d := range r.MetricData {
			if metric.StatOf(*d.MetricName) != metric.StatMaximum {
				continue
			}
			dims := map[string]string{}
			for _, dm := range d.Dimensions {
				dims[*dm.Name] = *dm.Value
			}
			k := peakKey(*d.MetricName, *d.Timestamp, dims)
			if strings.Contains(k, "="+aggregate.OtherValue) {
				continue // pools past the budget meet there
			}
			for _, v := range d.Values {
				if v > bound[k] {
					fail("peak %s: published %v, the windows of every version hold %v", k, v, bound[k])
				}
			}
		}
	}

	bad = append(bad, w.checkStory(lines, sent)...)

	for _, a := range w.attempts {
		if a.falseError {
			fail("attempt %d failed with no fault to explain it: %s", a.id, describe(a.result, a.err))
		}
	}
	return bad
}

// recordedCut returns the age cut the ledger recorded for an object's
// datums: with its first progress (direct), or in its batch's state.
// Nothing recorded (nothing published): not known.
func (w *World) recordedCut(item map[string]types.AttributeValue) (time.Time, bool) {
	raw := str(item, "inputs")
	if b := str(item, "batch"); b != "" {
		raw = str(w.db.Item(b), "state")
	}
	var in struct {
		Oldest int64 `json:"oldest"`
	}
	if raw == "" || json.Unmarshal([]byte(raw), &in) != nil || in.Oldest == 0 {
		return time.Time{}, false
	}
	return time.UnixMilli(in.Oldest), true
}

// expect adds what scanning v alone publishes to sums.
func (w *World) expect(sums map[string]float64, v *objectVersion, oldest time.Time, fail func(string, ...any)) {
	agg := aggregate.New(&aggregate.Options{Level: w.level, Oldest: oldest})
	if _, err := scan.File(context.Background(), bytes.NewReader(v.body), agg, &scan.Options{
		DeliveredAt: v.at, Now: func() time.Time { return w.now }}); err != nil {
		fail("version %s: scanning it again: %v", v.key, err)
	}
	for d := range agg.All() {
		dims := map[string]string{}
		for _, dm := range d.Dimensions {
			dims[dm.Name] = dm.Value
		}
		if compared(d.Name, d.DimensionNames()) {
			sums[seriesKey(d.Name, dims, w.pools)] += d.Sum()
		}
	}
}

func messageKey(body *string) findingKey {
	var f struct {
		EventID string `json:"eventID"`
		Name    string `json:"finding"`
	}
	if body == nil || json.Unmarshal([]byte(*body), &f) != nil {
		return findingKey{"?", "?"}
	}
	return findingKey{f.EventID, f.Name}
}

func mergeKeys(a, b map[string]float64) map[string]float64 {
	out := maps.Clone(a)
	for k := range b {
		out[k] += 0
	}
	return out
}

func str(item map[string]types.AttributeValue, k string) string {
	if v, ok := item[k].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// checkStory: a change to guest access on is raised exactly when the
// change before it in event time left it off (or there is none), whatever
// order the files were read in, provided every earlier change was done,
// and its state saved, before the change was first read.
func (w *World) checkStory(lines, sent map[findingKey]int) []string {
	var bad []string
	for i, r := range w.story {
		if !r.guest {
			continue
		}
		var pred *storyRecord
		known := true
		for j := range w.story {
			s := &w.story[j]
			if !s.at.Before(r.at) {
				continue
			}
			if pred == nil || s.at.After(pred.at) {
				pred = s
			}
			known = known && !s.v.done.IsZero() && s.v.done.Before(r.v.seen) && !s.v.doneCrash
		}
		if !known {
			continue
		}
		k := findingKey{r.eventID, finding.IdentityPoolGuestAccessEnabled}
		raised := lines[k] > 0 || sent[k] > 0
		switch want := pred == nil || !pred.guest; {
		case want && !raised:
			bad = append(bad, fmt.Sprintf("story change %d (guest on at %s, the change before it off or none) not raised", i, r.at.Format("15:04")))
		case !want && raised:
			bad = append(bad, fmt.Sprintf("story change %d (guest on at %s, already on before it) raised", i, r.at.Format("15:04")))
		}
	}
	return bad
}

// sequential judges vs one after the other with one state, as one
// invocation reading them in that order would, counting into agg, and
// hands each file's result to each.
func (w *World) sequential(vs []*objectVersion, agg *aggregate.Aggregator, each func(scan.Result)) {
	eng := finding.New(&finding.Options{State: finding.NewMemoryState()})
	for _, v := range vs {
		res, err := scan.File(context.Background(), bytes.NewReader(v.body), agg, &scan.Options{
			Now: func() time.Time { return w.now }, Findings: eng})
		if err != nil {
			panic(err)
		}
		each(res)
		if err := eng.Commit(context.Background()); err != nil {
			panic(err)
		}
	}
}

// attacks returns the window findings (finding.Engine.Windows) of the
// monotone rules that judging vs one after the other, in key order, with
// one state raises.
func (w *World) attacks(vs []*objectVersion) []findingKey {
	vs = slices.Clone(vs)
	slices.SortStableFunc(vs, func(a, b *objectVersion) int { return strings.Compare(a.key, b.key) })
	var out []findingKey
	w.sequential(vs, aggregate.New(nil), func(res scan.Result) {
		for _, f := range res.Findings {
			switch f.Name {
			case finding.PasswordSpray, finding.TargetedBruteForce, finding.CodeBruteForce:
			case finding.SMSPumping:
				if f.SourceIP == "" {
					continue // the pool's rule: confirmations undo it
				}
			default:
				continue
			}
			out = append(out, findingKey{f.EventID, f.Name})
		}
	})
	return out
}

// peaks returns the largest value of every peak series and minute that
// judging every version (deleted ones too: their counts may stay,
// provisional) one after the other with one state gives: the whole of
// each window.
func (w *World) peaks() map[string]float64 {
	agg := aggregate.New(&aggregate.Options{Level: metric.Full})
	w.sequential(w.versions, agg, func(scan.Result) {})
	out := map[string]float64{}
	for d := range agg.All() {
		if metric.StatOf(d.Name) == metric.StatMaximum {
			dims := map[string]string{}
			for _, dm := range d.Dimensions {
				dims[dm.Name] = dm.Value
			}
			out[peakKey(d.Name, d.Timestamp, dims)] = d.Values[0]
		}
	}
	return out
}

// peakKey names a peak series' datum at one minute, its app clients
// never folded into pools (the finding engine names them as the records
// do).
func peakKey(name string, at time.Time, dims map[string]string) string {
	return seriesKey(name, dims, nil) + " " + at.UTC().Format(time.RFC3339)
}

// windowSubject is a window finding's id without its window: the
// finding's subject.
func windowSubject(id string) string {
	if i := strings.LastIndexByte(id, '-'); i > 0 && strings.HasPrefix(id, "window-") {
		return id[:i]
	}
	return id
}

package posture

import (
	"context"
	"slices"

	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/record"
)

// Tracker judges a posture read against the finding state that the change
// findings use (finding.State: the ledger table's settings in the
// function), through Options.Track:
//
//   - every setting read is written into its history, dated when it was
//     read (after the describe call answered), so that the next change
//     event has a true previous value;
//   - a risky setting is raised only when it is new to the state (no value
//     known, or another one before): a daily run raises it once, not every
//     day, and a setting a change event raised already (the state's newest
//     value is the same) is not raised again;
//   - a setting that turned safe is written too: it is resolved, and its
//     next turn to risky is raised again, with the safe value as previous.
//
// The history is ordered by event time, so a change event newer than the
// snapshot wins: it becomes the newest value, and a trail file that
// arrives after the snapshot with an older change is judged against the
// value as of that change, not against the snapshot. A snapshot value
// equal to the one the history holds as of its time is not written: the
// history keeps the changes (HistoryEntries of them), not one entry per
// run.
//
// The findings' EventID is "posture-<run>-<resource>": a retried run (the
// same scheduled event) raises the same ids, which the notices dedup sends
// once.
type Tracker struct {
	runID string
	state *restateFilter
	eng   *finding.Engine
	found []finding.Finding
}

// NewTracker returns a tracker on state for one run, known by runID (the
// scheduled event's id).
func NewTracker(state finding.State, runID string) *Tracker {
	if state == nil {
		state = finding.NewMemoryState()
	}
	fs := &restateFilter{State: state, got: map[string][]finding.Entry{}}
	eng := finding.New(&finding.Options{State: fs})
	eng.StartFile()
	return &Tracker{runID: runID, state: fs, eng: eng}
}

func (t *Tracker) eventID(resource string) string { return "posture-" + t.runID + "-" + resource }

// observe judges one record of the read against the state.
func (t *Tracker) observe(ctx context.Context, rec *record.Record, c *class.Class, raw []byte) {
	for _, f := range t.eng.Observe(ctx, rec, c, raw) {
		if !kept(&f) {
			continue
		}
		var settings []finding.Setting
		for _, s := range f.Settings {
			if risky(f.Name, s) {
				settings = append(settings, s)
			}
		}
		if len(f.Settings) > 0 && len(settings) == 0 {
			continue
		}
		f.Settings = settings
		// Nobody made the call: the value was read.
		f.Operation, f.Actor, f.SourceIP, f.UserAgent = Source, "", "", ""
		if f.Severity == 0 {
			if s, ok := finding.Lookup(f.Name); ok {
				f.Severity = s.Severity
			}
		}
		t.found = append(t.found, f)
	}
}

// Findings returns the risky settings new to the state, in the order read.
func (t *Tracker) Findings() []finding.Finding { return slices.Clone(t.found) }

// Err returns the state read that failed, if any: the settings it would
// have judged were not, and the run must be retried.
func (t *Tracker) Err() error { return t.eng.Err() }

// Commit writes the values read into the state. Call it once the findings
// are notified: a run retried before its commit raises them again (and the
// dedup sends them once).
func (t *Tracker) Commit(ctx context.Context) error { return t.eng.Commit(ctx) }

// restateFilter leaves out of a Put the entries whose value is the one the
// history holds as of their time: a posture run restates every setting.
type restateFilter struct {
	finding.State
	got map[string][]finding.Entry
}

func (s *restateFilter) Get(ctx context.Context, key string) ([]finding.Entry, error) {
	h, err := s.State.Get(ctx, key)
	if err == nil {
		s.got[key] = h
	}
	return h, err
}

func (s *restateFilter) Put(ctx context.Context, entries map[string][]finding.Entry) error {
	keep := map[string][]finding.Entry{}
	for k, es := range entries {
		h, ok := s.got[k]
		if !ok {
			var err error
			if h, err = s.State.Get(ctx, k); err != nil {
				return err
			}
		}
		for _, e := range es {
			if v, known := valueAsOf(h, e); known && v == e.Value {
				continue
			}
			keep[k] = append(keep[k], e)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	return s.State.Put(ctx, keep)
}

// valueAsOf is the value of h's newest entry ordered before e (event time,
// then eventID), as the finding engine orders them.
func valueAsOf(h []finding.Entry, e finding.Entry) (string, bool) {
	v, known := "", false
	for _, x := range h {
		if x.Time.Before(e.Time) || (x.Time.Equal(e.Time) && x.EventID < e.EventID) {
			v, known = x.Value, true
		}
	}
	return v, known
}

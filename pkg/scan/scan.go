package scan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/fault"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/record"
	"github.com/cognitrail/cognitrail/pkg/trailfile"
)

// checkEvery is how many records pass between looks at the context: often
// enough to stop within milliseconds, rarely enough to cost nothing.
const checkEvery = 512

// Options configure File. The zero value is usable.
type Options struct {
	// Reader configures the trail file reader (its Name names the file).
	Reader trailfile.Options
	// DeliveredAt is when the file was delivered (the S3 object's time); it
	// feeds DeliveryLagSeconds and dates the file outcome and its unusable
	// records. Zero means no lag is measured, and they are dated by the
	// newest eventTime of the file's usable records, a time from the data
	// (so a file read from disk gives the same datums on every run), or
	// when it has none by Now.
	DeliveredAt time.Time
	// Now is the clock; nil means time.Now. When it returns the zero time,
	// the caller dates a file that gave no time itself: File counts neither
	// its outcome nor its unusable records, and says so in Result.Undated.
	Now func() time.Time
	// OnRecord, when set, is called for every classified record.
	OnRecord func(*Event)
	// Clients, when set, is told the app client -> user pool pairs the file
	// gave and asked for the clients the file left unresolved, once, after
	// the last record: a cache shared across files, a static map, a lookup.
	Clients aggregate.Resolver
	// Findings, when set, evaluates every record for security findings:
	// each is counted in the aggregator (the Findings metric) and handed to
	// OnRecord in Event.Findings; a record whose request the engine
	// rejects (Engine.Rejected: a setting of the wrong type) is counted
	// unusable instead. File starts the engine's file; the caller
	// calls its Commit once it keeps the file's results, so that a retried
	// file is judged against the same state again.
	Findings *finding.Engine
	// Deferred, with Findings (without, it has no effect), splits the
	// findings so that files can be read in parallel (see Ordered): Findings, an Engine of this read's
	// own, evaluates only what the file raises by itself
	// (Engine.ObserveFile), and the records whose findings depend on the
	// State (finding.Stateful: configuration calls, few) are kept in the
	// Result. Result.Judge then evaluates them against the run's Engine and
	// Result.Finish ends the file as File ends it, file after file in
	// order, so that the findings and the counts are those of File reading
	// every file into one aggregator in that order. Event.Findings is nil:
	// Result.Findings holds the file's findings once judged. The outcome of
	// a file read whole, and the app clients (Clients is not used), are
	// left to Finish.
	Deferred bool
}

// Found is a finding and the index of the record it is about.
type Found struct {
	Index int
	finding.Finding
}

// pending is a record a deferred read kept for Result.Judge.
type pending struct {
	index int
	rec   record.Record
	class class.Class
	raw   []byte
}

// Event is one classified record, valid only during the OnRecord call.
type Event struct {
	File   string
	Index  int
	Record *record.Record
	Class  *class.Class
	// Raw is the record's JSON.
	Raw []byte
	// Findings are the record's findings when Options.Findings is set.
	Findings []finding.Finding
}

// Result says what File did with one file.
type Result struct {
	File       string
	Outcome    aggregate.FileOutcome
	Records    int // usable records, aggregated
	Invalid    int // records skipped as unusable
	ByCategory [class.NumCategories]int
	// Err is the permanent problem that made the file skipped or failed, or
	// the first unusable record's error; nil for a clean file.
	Err          error
	Compressed   int64
	Uncompressed int64
	// Clients says how the file's app clients were resolved; ClientsErr is
	// a failed lookup, which left some unresolved but counted.
	Clients    aggregate.ClientStats
	ClientsErr error
	// Newest is the newest eventTime of the file's usable records.
	Newest time.Time
	// Undated: the file gave no time to date its outcome and unusable
	// records by, and Options.Now returned zero: they were not counted in
	// the aggregator, and the caller counts Outcome and Invalid itself.
	Undated bool
	// Findings are, after Judge of a deferred read (Options.Deferred),
	// the file's findings in record order (those judged over windows
	// across files after a record's own); for a read not deferred, only the window
	// findings (finding.Engine.Windows), judged at the end of the file
	// (the rest went to OnRecord).
	Findings []Found

	// What a deferred read leaves to Judge and Finish.
	pending  []pending
	tallies  *finding.Tallies
	judgeErr error
	deferred bool
	at       time.Time // when the outcome of a file read whole is dated
}

// File scans the trail file in r into agg.
//
// A permanent problem with the file (corrupt, truncated, not CloudTrail,
// too large) is not an error of File: it is reported in Result.Err with
// Outcome Failed (a digest or empty file: Skipped), and the records read before it
// stay counted, so a file that will never be retried loses nothing it could
// read. File returns an error only when a retry may succeed (the source
// failed, ctx ended); the caller must then discard agg, whose counts for this
// file are partial, so that the retry does not count records twice.
func File(ctx context.Context, r io.Reader, agg *aggregate.Aggregator, opts *Options) (Result, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	res := Result{File: o.Reader.Name, deferred: o.deferred()}
	tr := trailfile.NewReader(r, &o.Reader)
	defer tr.Close()
	var ev Event
	var c class.Class
	var found []finding.Finding
	if o.Findings != nil {
		o.Findings.StartFile()
	}
	n := 0
	invalid := 0 // not counted yet: dated at the end
	for {
		if n++; n%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return res, err
			}
		}
		rec, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, trailfile.ErrBadRecord) {
				res.Invalid++
				if res.Err == nil {
					res.Err = err
				}
				invalid++
				continue
			}
			res.Compressed, res.Uncompressed = tr.CompressedBytes(), tr.UncompressedBytes()
			if !fault.Permanent(err) {
				return res, err
			}
			res.Err = err
			res.Outcome = aggregate.Failed
			// Neither holds records: skipped, as the notification rules
			// skip them when the key or the announced size says so.
			if errors.Is(err, trailfile.ErrDigest) || errors.Is(err, trailfile.ErrEmpty) {
				res.Outcome = aggregate.Skipped
			}
			o.date(agg, &res, invalid, true)
			if !res.deferred {
				o.windows(ctx, agg, &res)
				o.resolve(ctx, agg, &res)
			} else if o.Findings != nil {
				res.tallies = o.Findings.Tallies()
			}
			return res, nil
		}
		c = class.Classify(rec)
		if o.Findings != nil {
			o.Findings.At(tr.Index())
			var rej error
			if o.deferred() {
				// As Observe: the file's own half first, then the
				// request's check, which needs no State.
				found = o.Findings.ObserveFile(rec, &c, tr.Raw())
				if finding.Stateful(rec, &c) {
					rej = finding.Reject(rec, tr.Raw())
				}
			} else {
				found = o.Findings.Observe(ctx, rec, &c, tr.Raw())
				rej = o.Findings.Rejected()
			}
			if rej != nil {
				// A setting of the wrong type: unusable, as a record
				// the reader could not use.
				res.Invalid++
				if res.Err == nil {
					res.Err = &trailfile.Error{File: o.Reader.Name, Index: tr.Index(),
						Offset: tr.UncompressedBytes() - int64(len(tr.Raw())),
						Err:    fmt.Errorf("%w: %w", trailfile.ErrBadRecord, rej)}
				}
				invalid++
				continue
			}
		}
		agg.Add(rec, &c, o.DeliveredAt)
		res.Records++
		res.ByCategory[c.Category]++
		if rec.EventTime.After(res.Newest) {
			res.Newest = rec.EventTime
		}
		for i := range found {
			agg.AddFinding(found[i].Name, found[i].Severity.String(), found[i].Time)
		}
		if res.deferred {
			o.keep(&res, rec, &c, tr.Index(), tr.Raw(), found)
			found = nil
		}
		if o.OnRecord != nil {
			ev = Event{File: o.Reader.Name, Index: tr.Index(), Record: rec, Class: &c, Raw: tr.Raw(), Findings: found}
			o.OnRecord(&ev)
		}
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	res.Compressed, res.Uncompressed = tr.CompressedBytes(), tr.UncompressedBytes()
	res.Outcome = aggregate.Processed
	if res.deferred {
		// Judge may find the State failing: Finish counts the outcome.
		res.tallies = o.Findings.Tallies()
		o.date(agg, &res, invalid, false)
		return res, nil
	}
	o.windows(ctx, agg, &res)
	if o.Findings != nil {
		if err := o.Findings.Err(); err != nil {
			// Some findings could not be judged: retry the file.
			return res, fmt.Errorf("scan: %s: %w", o.Reader.Name, err)
		}
	}
	o.date(agg, &res, invalid, true)
	o.resolve(ctx, agg, &res)
	return res, nil
}

// date counts the file's unusable records, and its outcome when outcome is
// set (else it keeps the time for Finish), at the file's time: its
// delivery, else its newest record, else the clock's; or leaves them to the
// caller (Result.Undated).
func (o *Options) date(agg *aggregate.Aggregator, res *Result, invalid int, outcome bool) {
	at := o.DeliveredAt
	if at.IsZero() {
		at = res.Newest
	}
	if at.IsZero() {
		at = o.Now()
	}
	if at.IsZero() {
		res.Undated = true
		return
	}
	for range invalid {
		agg.AddInvalid(at)
	}
	if outcome {
		agg.AddFile(res.Outcome, at)
	} else {
		res.at = at
	}
}

func (o *Options) deferred() bool { return o.Deferred && o.Findings != nil }

// windows judges the file's windows across files (finding.Engine.Windows)
// once it is read, counts their findings and puts them in res.Findings.
func (o *Options) windows(ctx context.Context, agg *aggregate.Aggregator, res *Result) {
	if o.Findings == nil {
		return
	}
	res.Findings = append(res.Findings, judgeWindows(ctx, o.Findings, o.Findings.Tallies(), agg)...)
}

// judgeWindows judges t's windows with engine and counts what they give
// in agg: their findings, which it returns, and the distinct failing
// addresses of each pool window.
func judgeWindows(ctx context.Context, engine *finding.Engine, t *finding.Tallies, agg *aggregate.Aggregator) []Found {
	raised, sources := engine.Windows(ctx, t)
	for _, s := range sources {
		dim, v := metric.DimUserPoolID, s.UserPoolID
		if s.UserPoolID == "" {
			dim, v = metric.DimClientID, s.ClientID
		}
		agg.AddPeak(metric.DistinctFailingSources, s.Time, float64(s.Count), dim, v)
	}
	var out []Found
	for _, r := range raised {
		agg.AddFinding(r.Name, r.Severity.String(), r.Time)
		out = append(out, Found{Index: r.Index, Finding: r.Finding})
	}
	return out
}

// keep adds a deferred read's own-file findings of a record to
// res.Findings and keeps the record for Judge when the State decides the
// rest.
func (o *Options) keep(res *Result, rec *record.Record, c *class.Class, index int, raw []byte, found []finding.Finding) {
	for _, f := range found {
		res.Findings = append(res.Findings, Found{Index: index, Finding: f})
	}
	if finding.Stateful(rec, c) {
		res.pending = append(res.pending, pending{index: index, rec: *rec, class: *c, raw: slices.Clone(raw)})
	}
}

// Judge evaluates the records a deferred read kept (Options.Deferred)
// against engine, the run's, as File would have evaluated them reading the
// file with engine: it starts engine's file (the caller commits it once it
// keeps the results, as after File), counts the findings in file, the
// aggregator the read counted into, and adds them to res.Findings in
// record order (a record's own-file findings first, as Observe returns
// them). Call it once, before Finish; a read that failed is judged too, up
// to where it stopped, as File judges the records read before a fault.
// A read not deferred was judged as it was read: Judge does nothing.
func (res *Result) Judge(ctx context.Context, engine *finding.Engine, file *aggregate.Aggregator) {
	if !res.deferred {
		return
	}
	engine.StartFile()
	defer func() {
		res.window(ctx, engine, file)
		res.judgeErr = engine.Err()
	}()
	if len(res.pending) == 0 {
		return
	}
	own := res.Findings
	all := make([]Found, 0, len(own)+len(res.pending))
	i := 0
	for _, p := range res.pending {
		for ; i < len(own) && own[i].Index <= p.index; i++ {
			all = append(all, own[i])
		}
		for _, f := range engine.ObserveState(ctx, &p.rec, &p.class, p.raw) {
			file.AddFinding(f.Name, f.Severity.String(), f.Time)
			all = append(all, Found{Index: p.index, Finding: f})
		}
	}
	res.Findings = append(all, own[i:]...)
	res.pending = nil
}

// window judges a deferred read's windows as File judges them at the end
// of a file, and puts their findings among the others in record order
// (after the record's own).
func (res *Result) window(ctx context.Context, engine *finding.Engine, file *aggregate.Aggregator) {
	raised := judgeWindows(ctx, engine, res.tallies, file)
	res.tallies = nil
	res.Findings = append(res.Findings, raised...)
	if len(raised) > 0 {
		slices.SortStableFunc(res.Findings, func(a, b Found) int { return cmp.Compare(a.Index, b.Index) })
	}
}

// Finish ends a read into an aggregator of its own (file, not to be used
// afterwards), after Judge, as File ends a file read into agg: it merges
// file into agg, counts the outcome of a deferred read of a whole file,
// resolves the app clients with clients (nil: not resolved; give a read
// that is not deferred no Options.Clients then, so that the clients are
// resolved against the run's aggregator in both cases), and returns the
// error File would have returned: readErr, File's own (a retry may
// succeed: agg then holds the file's partial counts, as after File), or
// the State's failure Judge met. agg nil: nothing is merged, counted nor
// resolved.
func (res *Result) Finish(ctx context.Context, readErr error, file, agg *aggregate.Aggregator, clients aggregate.Resolver) error {
	if agg != nil {
		agg.Merge(file)
	}
	if readErr != nil {
		return readErr
	}
	if res.deferred && res.Outcome == aggregate.Processed {
		if res.judgeErr != nil {
			return fmt.Errorf("scan: %s: %w", res.File, res.judgeErr)
		}
		if agg != nil && !res.Undated {
			agg.AddFile(aggregate.Processed, res.at)
		}
	}
	if agg != nil && clients != nil {
		res.Clients, res.ClientsErr = agg.ResolveClients(ctx, clients)
	}
	return nil
}

func (o *Options) resolve(ctx context.Context, agg *aggregate.Aggregator, res *Result) {
	if o.Clients != nil {
		res.Clients, res.ClientsErr = agg.ResolveClients(ctx, o.Clients)
	}
}

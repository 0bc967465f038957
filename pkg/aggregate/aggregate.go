package aggregate

import (
	"cmp"
	"context"
	"errors"
	"iter"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/record"
)

// Defaults for Options.
const (
	// DefaultMaxPools bounds the pools (of each kind) given their own series
	// in one aggregation, so an account with thousands of pools cannot turn
	// into thousands of custom metrics.
	DefaultMaxPools = 20
	// DefaultMaxOperations bounds the distinct Operation values; Operation is
	// AWS-defined but role calls may reach any service.
	DefaultMaxOperations = 200
)

// Options configure an Aggregator. The zero value uses the defaults.
type Options struct {
	Level         metric.Level // zero means metric.DefaultLevel
	MaxPools      int
	MaxOperations int
	// Oldest, when not zero, is the oldest minute worth counting: what is
	// dated before it (CloudWatch rejects datapoints older than two weeks)
	// is not aggregated at all, only counted in Stats.TooOld, so that a
	// backfilled month costs the memory of the two weeks published.
	Oldest time.Time
}

// Stats says what an Aggregator left out.
type Stats struct {
	// TooOld counts the records, usable or not, dated before
	// Options.Oldest (their findings, and file outcomes so dated, are left
	// out uncounted: the figure is "records", as the object line names it).
	TooOld int
}

// shape is everything the metrics need of one record but its minute: its
// classification, less the account (no series has it) and the app client
// of a record that names its pool (its series are the pool's). Records are
// counted by (minute, shape), one small map operation each, and a shape is
// expanded into the series it feeds once, in All: a Cognito record feeds up
// to a dozen series, and the records of a file have few shapes however many
// minutes they span.
type shape struct {
	class.Class
	// region is the Region of a call whose ClientID is kept (its pool not
	// known yet); All folds the client into its pool in that Region once
	// known. Both stay empty for every other record, so the region costs
	// nothing on the common path.
	region string
}

// clientKey scopes an app client id to a Region: an id is only unique
// within one (AWS's own published examples use 1example23456789 for pools
// in two Regions), and a call made in one Region never reaches a pool of
// another.
type clientKey struct{ region, client string }

func compareClientKeys(x, y clientKey) int {
	if c := cmp.Compare(x.region, y.region); c != 0 {
		return c
	}
	return cmp.Compare(x.client, y.client)
}

// seriesDef names one series: a metric and up to two dimensions, stored
// sorted by dimension name.
type seriesDef struct {
	name   string
	d1, v1 string
	d2, v2 string
}

// cell is the key of one per-minute count: the minute and an interned shape
// or series id. Sixteen bytes, whatever the strings it stands for, so that
// a file spanning a month costs a few dozen bytes per minute and series.
type cell struct {
	minute int64
	id     uint32
}

// interner hands out dense ids, each value stored once.
type interner[T comparable] struct {
	ids  map[T]uint32
	vals []T
}

func newInterner[T comparable]() interner[T] { return interner[T]{ids: make(map[T]uint32)} }

func (in *interner[T]) id(v T) uint32 {
	if id, ok := in.ids[v]; ok {
		return id
	}
	id := uint32(len(in.vals))
	in.ids[v] = id
	in.vals = append(in.vals, v)
	return id
}

func (in *interner[T]) clone() interner[T] {
	return interner[T]{ids: maps.Clone(in.ids), vals: slices.Clone(in.vals)}
}

// Aggregator accumulates records and file outcomes. It is not safe for
// concurrent use.
type Aggregator struct {
	opts   Options
	oldest int64 // the minute of opts.Oldest; math.MinInt64 when unset
	shapes interner[shape]
	// other is the id of the shape every non-Cognito record has: most
	// records of an account trail, counted without hashing a shape.
	other uint32
	// byShape counts records by (minute, shape id), row's minute not yet
	// folded in.
	byShape map[cell]float64
	row     minuteRow
	// series interns the series of counts.
	series interner[seriesDef]
	// counts: files, invalid records and findings, by (minute, series id).
	counts map[cell]float64
	// lag counts records by (minute, delivery lag in seconds).
	lag lagCounts
	// peaks: the largest value seen of each peak series (a metric read
	// by its Maximum), by (minute, series id).
	peaks map[cell]float64
	// clients maps app client ids, in the Region of a call, to their
	// pools, as learned from records that name both or told by a
	// Resolver.
	clients map[clientKey]string
	// learned are the pairs the trail itself gave, for Resolver.Learn.
	learned map[clientKey]string
	stats   Stats
	// admitted says, once ApplyBudget ran, which values of the budgeted
	// dimensions keep their own series in a month.
	admitted map[budgetKey]bool
}

// New returns an empty Aggregator.
func New(opts *Options) *Aggregator {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Level == 0 {
		o.Level = metric.DefaultLevel
	}
	if o.MaxPools <= 0 {
		o.MaxPools = DefaultMaxPools
	}
	if o.MaxOperations <= 0 {
		o.MaxOperations = DefaultMaxOperations
	}
	a := &Aggregator{
		opts:    o,
		oldest:  math.MinInt64,
		shapes:  newInterner[shape](),
		byShape: make(map[cell]float64),
		series:  newInterner[seriesDef](),
		counts:  make(map[cell]float64),
		peaks:   make(map[cell]float64),
		clients: make(map[clientKey]string),
		learned: make(map[clientKey]string),
	}
	if !o.Oldest.IsZero() {
		// A minute is kept when it starts at or after Oldest.
		a.oldest = minuteOf(o.Oldest.Add(time.Minute - time.Nanosecond))
	}
	a.other = a.shapes.id(shape{Class: class.Class{Category: class.Other}})
	return a
}

func minuteOf(t time.Time) int64 { return t.Unix() / 60 }

// Stats returns what the aggregation left out so far.
func (a *Aggregator) Stats() Stats { return a.stats }

// tooOld reports a minute before Options.Oldest.
func (a *Aggregator) tooOld(m int64) bool { return m < a.oldest }

// Add counts one record. deliveredAt, when not zero, is when the record's
// file was delivered: the difference feeds DeliveryLagSeconds.
func (a *Aggregator) Add(r *record.Record, c *class.Class, deliveredAt time.Time) {
	m := minuteOf(r.EventTime)
	if a.tooOld(m) {
		a.stats.TooOld++
		return
	}
	if !deliveredAt.IsZero() {
		lag := int64(math.Round(deliveredAt.Sub(r.EventTime).Seconds()))
		if lag < 0 {
			lag = 0
		}
		a.lag.add(m, lag, 1)
	}
	if c.Category == class.Other {
		a.countShape(m, a.other)
		return
	}
	sh := shape{Class: *c}
	sh.Account = ""
	if c.ClientID != "" {
		if c.UserPoolID == "" {
			sh.region = r.AWSRegion
		} else {
			sh.ClientID = ""
			if !c.Failed {
				a.learn(c.ClientID, c.UserPoolID)
			}
		}
	}
	a.countShape(m, a.shapes.id(sh))
}

// minuteRow counts one minute's records by shape id before they reach
// byShape. A file's records come in time order, so most records add to a
// slice, and a cell of the map is added to once a minute instead of once
// a record: a 15-hour file's 45,000 cells missed the cache on most of
// them.
type minuteRow struct {
	minute int64
	n      []float64 // by shape id
	ids    []uint32  // the ids counted, in the order first counted
}

func (a *Aggregator) countShape(m int64, id uint32) {
	r := &a.row
	if m != r.minute {
		a.foldRow()
		r.minute = m
	}
	for int(id) >= len(r.n) {
		r.n = append(r.n, 0)
	}
	if r.n[id] == 0 {
		r.ids = append(r.ids, id)
	}
	r.n[id]++
}

// foldRow adds the row's counts to byShape: every reader of byShape calls
// it first.
func (a *Aggregator) foldRow() {
	r := &a.row
	for _, id := range r.ids {
		a.byShape[cell{minute: r.minute, id: id}] += r.n[id]
		r.n[id] = 0
	}
	r.ids = r.ids[:0]
}

// learn records a pair the trail gave. Only records that succeeded teach:
// a failed AdminInitiateAuth may name a client of another pool (that is
// why it failed). A client never moves between pools, so two pools for one
// client mean a record lies; the smaller id wins so that the outcome does
// not depend on record order. The pair holds in the pool's Region only,
// the prefix of its id: the same client id in another Region is another
// client.
func (a *Aggregator) learn(client, pool string) {
	k := clientKey{region: record.UserPoolRegion(pool), client: client}
	if k.region == "" {
		return
	}
	if old, ok := a.learned[k]; !ok || pool < old {
		a.clients[k] = pool
		a.learned[k] = pool
	}
}

// PoolOf returns the pool of an app client named by a call made in region
// as far as this aggregation knows it so far (records that named both, or
// a Resolver's answer).
func (a *Aggregator) PoolOf(region, client string) (string, bool) {
	p, ok := a.clients[clientKey{region: region, client: client}]
	return p, ok
}

// Resolver maps app client ids to user pool ids beyond one aggregation:
// a cache shared by the files of one process, a static map, a lookup.
// Every pair holds in its pool's Region only (record.UserPoolRegion).
type Resolver interface {
	// Learn is told the pairs the trail gave.
	Learn(client, pool string)
	// Resolve returns the pool of client for a call made in region, ""
	// when unknown; a pool of another Region is never the answer. An
	// error means the answer may be missing (a failed lookup), not that
	// counting must stop.
	Resolve(ctx context.Context, region, client string) (string, error)
}

// Saver is a Resolver that keeps what it learns beyond the process:
// ResolveClients has it save the pairs it was told, so that a cold start
// does not forget them. An error leaves them to the next save.
type Saver interface {
	SaveLearned(ctx context.Context) error
}

// ClientStats says how the app clients seen in an aggregation were resolved.
type ClientStats struct {
	FromTrail    int // named beside their pool by a record of the aggregation
	FromResolver int // by the Resolver (shared cache, static map, lookup)
	Unresolved   int // counted under ClientId
}

// ResolveClients tells r the pairs the trail gave and asks it for the
// clients whose pool is still unknown, in sorted order. A failed lookup
// leaves that client unresolved and is returned, joined with the others,
// for the caller to report: it never loses a count.
func (a *Aggregator) ResolveClients(ctx context.Context, r Resolver) (ClientStats, error) {
	var st ClientStats
	for _, k := range slices.SortedFunc(maps.Keys(a.learned), compareClientKeys) {
		r.Learn(k.client, a.learned[k])
	}
	var errs []error
	if s, ok := r.(Saver); ok && len(a.learned) > 0 {
		errs = append(errs, s.SaveLearned(ctx))
	}
	for _, c := range a.unresolved() {
		if _, ok := a.learned[c]; ok {
			st.FromTrail++
			continue
		}
		if _, ok := a.clients[c]; ok {
			st.FromResolver++
			continue
		}
		pool, err := r.Resolve(ctx, c.region, c.client)
		if err != nil {
			errs = append(errs, err)
		}
		if pool == "" || record.UserPoolRegion(pool) != c.region {
			// A Resolver's pool of another Region would be wrong, whoever
			// answered it.
			st.Unresolved++
			continue
		}
		a.clients[c] = pool
		st.FromResolver++
	}
	return st, errors.Join(errs...)
}

// unresolved returns the sorted (Region, client id) of records counted
// without a pool.
func (a *Aggregator) unresolved() []clientKey {
	set := map[clientKey]bool{}
	for _, sh := range a.shapes.vals {
		if sh.ClientID != "" {
			set[clientKey{region: sh.region, client: sh.ClientID}] = true
		}
	}
	return slices.SortedFunc(maps.Keys(set), compareClientKeys)
}

// fold moves a shape that named only a client to the client's pool, where
// it is known: the one pass over the file stays one.
func (a *Aggregator) fold(sh shape) shape {
	if sh.ClientID != "" {
		if pool, ok := a.clients[clientKey{region: sh.region, client: sh.ClientID}]; ok {
			sh.UserPoolID, sh.ClientID, sh.region = pool, "", ""
		}
	}
	return sh
}

// pools counts records by pool, operation and unresolved client, for the
// caps.
type pools struct{ user, identity, ops, clients map[string]int }

// expander collects the series one shape counts in.
type expander struct {
	series *interner[seriesDef]
	ids    []uint32
}

func (e *expander) inc(name string, dims ...string) {
	d := seriesDef{name: name}
	if len(dims) >= 2 {
		d.d1, d.v1 = dims[0], dims[1]
	}
	if len(dims) >= 4 {
		d.d2, d.v2 = dims[2], dims[3]
		if d.d2 < d.d1 {
			d.d1, d.v1, d.d2, d.v2 = d.d2, d.v2, d.d1, d.v1
		}
	}
	e.ids = append(e.ids, e.series.id(d))
}

// perPool counts a metric of the catalog's per-pool dimension sets: in
// all, and under the pool, or under the app client while its pool is not
// known.
func (e *expander) perPool(name string, sh *shape) {
	e.inc(name)
	if sh.UserPoolID != "" {
		e.inc(name, metric.DimUserPoolID, sh.UserPoolID)
	} else if sh.ClientID != "" {
		e.inc(name, metric.DimClientID, sh.ClientID)
	}
}

// messaging: a sign-up, its confirmation, or a call that sends a code,
// the three counts an SMS pumping attack shows in.
func messaging(op string) bool {
	return class.SignUp(op) || class.SignUpConfirmation(op) || class.CodeDelivery(op)
}

// httpErrorCode is the ErrorCode of a failure recorded only as an endpoint's
// HTTP status.
const httpErrorCode = "HTTPError"

// expand lists the series the records of one shape count in, and adds the
// shape's n records to the pool counts.
func expand(sh shape, n float64, out *expander, p *pools) {
	cat := sh.Category.String()
	out.inc(metric.RecordsRead)
	out.inc(metric.Events, metric.DimCategory, cat)
	if sh.Category == class.Other {
		return
	}
	if sh.Operation != "" {
		p.ops[sh.Operation] += int(n)
		out.inc(metric.Events, metric.DimCategory, cat, metric.DimOperation, sh.Operation)
	}
	if sh.UserPoolID != "" {
		p.user[sh.UserPoolID] += int(n)
		out.inc(metric.Events, metric.DimCategory, cat, metric.DimUserPoolID, sh.UserPoolID)
	}
	if sh.ClientID != "" && (sh.Failed && sh.SignIn || sh.ForgotPassword || !sh.Failed && messaging(sh.Operation)) {
		p.clients[sh.ClientID] += int(n)
	}
	if sh.IdentityPoolID != "" {
		p.identity[sh.IdentityPoolID] += int(n)
		out.inc(metric.Events, metric.DimCategory, cat, metric.DimIdentityPoolID, sh.IdentityPoolID)
	}
	if sh.Unlisted {
		out.inc(metric.UnlistedOperations)
		out.inc(metric.UnlistedOperations, metric.DimOperation, sh.Operation)
	}
	if sh.Failed {
		out.inc(metric.Errors, metric.DimCategory, cat)
		code := sh.ErrorCode
		if code == "" {
			code = httpErrorCode
		}
		out.inc(metric.Errors, metric.DimCategory, cat, metric.DimErrorCode, code)
		if sh.SignIn {
			out.perPool(metric.SignInFailures, &sh)
		}
	}
	if !sh.Failed && messaging(sh.Operation) {
		for _, m := range []struct {
			name string
			is   func(string) bool
		}{{metric.SignUps, class.SignUp}, {metric.SignUpConfirmations, class.SignUpConfirmation}, {metric.CodeDeliveryRequests, class.CodeDelivery}} {
			if !m.is(sh.Operation) {
				continue
			}
			out.perPool(m.name, &sh)
		}
	}
	if sh.ForgotPassword {
		out.perPool(metric.ForgotPasswordRequests, &sh)
	}
	switch {
	case sh.ConfigChange && sh.Failed:
		// Nothing changed: not a change to page anyone for, but a
		// principal probing what it may change shows here.
		out.inc(metric.ConfigChangesDenied)
		out.inc(metric.ConfigChangesDenied, metric.DimOperation, sh.Operation)
	case sh.ConfigChange:
		name, dim, pool := metric.UserPoolConfigChanges, metric.DimUserPoolID, sh.UserPoolID
		if sh.Category == class.IdentityPoolManagement || sh.Category == class.CognitoSync {
			name, dim, pool = metric.IdentityPoolConfigChanges, metric.DimIdentityPoolID, sh.IdentityPoolID
		}
		out.inc(name)
		out.inc(name, metric.DimOperation, sh.Operation)
		if pool != "" {
			out.inc(name, dim, pool)
		}
	}
	if sh.AuthType != "" {
		out.inc(metric.IdentityPoolRoleCalls, metric.DimAuthType, string(sh.AuthType))
		if sh.IdentityPoolID != "" {
			out.inc(metric.IdentityPoolRoleCalls, metric.DimAuthType, string(sh.AuthType), metric.DimIdentityPoolID, sh.IdentityPoolID)
		}
	}
}

// count adds one to a series at minute m.
func (a *Aggregator) count(m int64, d seriesDef) {
	if a.tooOld(m) {
		return
	}
	a.counts[cell{minute: m, id: a.series.id(d)}]++
}

// AddFinding counts one finding (its name and severity, as pkg/finding
// names them) at the minute of the record it is about.
func (a *Aggregator) AddFinding(name, severity string, at time.Time) {
	m := minuteOf(at)
	if a.tooOld(m) {
		return
	}
	a.counts[cell{minute: m, id: a.series.id(seriesDef{name: metric.Findings, d1: metric.DimSeverity, v1: severity})}]++
	a.counts[cell{minute: m, id: a.series.id(seriesDef{name: metric.Findings, d1: metric.DimFinding, v1: name})}]++
}

// AddPeak records value for the peak metric name (one the catalog reads
// by its Maximum) at time at, in the series with dimension dim = v (dim
// "": none) and in the metric's series without dimensions: of two values
// of one series and minute, the larger is kept, here, in Merge and in the
// datums (two pools' values met in OtherValue).
func (a *Aggregator) AddPeak(name string, at time.Time, value float64, dim, v string) {
	m := minuteOf(at)
	if a.tooOld(m) {
		return
	}
	a.peak(cell{minute: m, id: a.series.id(seriesDef{name: name})}, value)
	if dim != "" {
		a.peak(cell{minute: m, id: a.series.id(seriesDef{name: name, d1: dim, v1: v})}, value)
	}
}

func (a *Aggregator) peak(c cell, value float64) {
	if old, ok := a.peaks[c]; !ok || value > old {
		a.peaks[c] = value
	}
}

// AddInvalid counts a record that could not be used, at time at (its file's
// delivery or processing time: the record has no usable eventTime).
func (a *Aggregator) AddInvalid(at time.Time) {
	if m := minuteOf(at); a.tooOld(m) {
		a.stats.TooOld++ // a record too, if an unusable one
	} else {
		a.count(m, seriesDef{name: metric.RecordsInvalid})
	}
}

// FileOutcome is what became of one object.
type FileOutcome int

// File outcomes.
const (
	Processed FileOutcome = iota
	Skipped
	Failed
)

// AddFile counts a file outcome at time at.
func (a *Aggregator) AddFile(o FileOutcome, at time.Time) {
	name := metric.FilesProcessed
	switch o {
	case Skipped:
		name = metric.FilesSkipped
	case Failed:
		name = metric.FilesFailed
	}
	a.count(minuteOf(at), seriesDef{name: name})
}

// rankedCell is one datum to be: a series' rank in output order, a minute
// and a count.
type rankedCell struct {
	rank   uint32
	minute int64
	n      float64
	peak   bool // n is a peak series' value, not a count
}

// plan is what All and ApplyBudget work from: every shape expanded into
// its series once, and which series the level and the per-file caps keep.
type plan struct {
	series interner[seriesDef]
	// The series of shape id are ids[from[id]:from[id+1]]: one slice for
	// all, however many shapes a sprayed client id makes.
	ids  []uint32
	from []int
	// kept[id] says whether series id is published; series interned after
	// the plan (budget overflow) are kept.
	kept []bool
	// clean[id] is 1 + the id of series id with its dimension values made
	// publishable, once computed.
	clean []uint32
}

// publishable returns the series whose datums carry series id's counts:
// itself, or the series with its dimension values sanitised. The caps and
// the budget choose among raw values; what is kept is then made
// publishable here, the one place dimension values enter a datum, and
// series whose values sanitise alike get one id, so their cells merge and
// no two datums share a name, dimensions and minute.
func (pl *plan) publishable(id uint32) uint32 {
	if int(id) < len(pl.clean) && pl.clean[id] != 0 {
		return pl.clean[id] - 1
	}
	d := pl.series.vals[id]
	c := d
	if c.d1 != "" {
		c.v1 = metric.SanitizeDimensionValue(c.v1)
	}
	if c.d2 != "" {
		c.v2 = metric.SanitizeDimensionValue(c.v2)
	}
	out := id
	if c != d {
		out = pl.series.id(c)
	}
	for int(id) >= len(pl.clean) {
		pl.clean = append(pl.clean, 0)
	}
	pl.clean[id] = out + 1
	return out
}

func (a *Aggregator) plan() *plan {
	a.foldRow()
	// The shapes' totals decide the caps; each shape is expanded once.
	totals := make([]float64, len(a.shapes.vals))
	for c, n := range a.byShape {
		totals[c.id] += n
	}
	series := a.series.clone()
	pl := &plan{from: make([]int, len(a.shapes.vals)+1)}
	pc := pools{user: map[string]int{}, identity: map[string]int{}, ops: map[string]int{}, clients: map[string]int{}}
	e := expander{series: &series}
	for id, sh := range a.shapes.vals {
		expand(a.fold(sh), totals[id], &e, &pc)
		pl.from[id+1] = len(e.ids)
	}
	pl.series, pl.ids = series, e.ids
	keepUser := top(pc.user, a.opts.MaxPools)
	keepIdentity := top(pc.identity, a.opts.MaxPools)
	// Operations on a pkg/class table (a fixed set) are always kept, and do
	// not count against MaxOperations: role calls, whose operations anyone
	// with guest credentials chooses, cannot crowd them out of a file.
	capped := map[string]int{}
	for op, n := range pc.ops {
		if !class.ListedOperation(op) {
			capped[op] = n
		}
	}
	keepOps := top(capped, a.opts.MaxOperations)
	for op := range pc.ops {
		if class.ListedOperation(op) {
			keepOps[op] = true
		}
	}
	// Unresolved clients are capped like pools: an attacker spraying made-up
	// client ids must not mint a custom metric each.
	keepClients := top(pc.clients, a.opts.MaxPools)
	pl.kept = make([]bool, len(series.vals))
	for id, d := range series.vals {
		ds := d.dims()
		if l, ok := levels[setKey(d.name, ds)]; !ok || l > a.opts.Level {
			continue
		}
		pl.kept[id] = keep(ds, metric.DimUserPoolID, keepUser) &&
			keep(ds, metric.DimIdentityPoolID, keepIdentity) &&
			keep(ds, metric.DimOperation, keepOps) &&
			keep(ds, metric.DimClientID, keepClients)
	}
	return pl
}

// cells calls fn for every count of a kept series.
func (a *Aggregator) cells(pl *plan, fn func(m int64, id uint32, n float64)) {
	for c, n := range a.byShape {
		for _, id := range pl.ids[pl.from[c.id]:pl.from[c.id+1]] {
			if pl.kept[id] {
				fn(c.minute, id, n)
			}
		}
	}
	for c, n := range a.counts {
		if pl.kept[c.id] {
			fn(c.minute, c.id, n)
		}
	}
}

// All returns the aggregated datums at the configured level, sorted (by
// name, dimensions and minute: metric.Key's order), one at a time: what
// is held meanwhile is the compact cells, never the datums, so that a
// month of minutes can be written or published as it is produced.
func (a *Aggregator) All() iter.Seq[metric.Datum] {
	pl := a.plan()
	series := &pl.series
	// Sized exactly: the one large allocation of a long span, made once.
	size := len(a.counts) + len(a.peaks)
	for c := range a.byShape {
		size += pl.from[c.id+1] - pl.from[c.id]
	}
	// Cells carry their series id until the series are ranked.
	cells := make([]rankedCell, 0, size)
	months := monthCache{}
	a.cells(pl, func(m int64, id uint32, n float64) {
		if a.admitted != nil {
			id = a.overflow(pl, id, months.of(m))
		}
		cells = append(cells, rankedCell{rank: pl.publishable(id), minute: m, n: n})
	})
	// Peaks pass the caps and the budget as counts do, but are not counted
	// by ApplyBudget: a pool's rank is what it counted.
	for c, v := range a.peaks {
		if !pl.kept[c.id] {
			continue
		}
		id := c.id
		if a.admitted != nil {
			id = a.overflow(pl, id, months.of(c.minute))
		}
		cells = append(cells, rankedCell{rank: pl.publishable(id), minute: c.minute, n: v, peak: true})
	}

	// The series published, in output order; lag is the DeliveryLagSeconds
	// series, whose datums come from a.lag. A series is published when
	// some cell counts in it.
	lag := uint32(len(series.vals))
	used := make([]bool, len(series.vals))
	for _, c := range cells {
		used[c.rank] = true
	}
	var order []uint32
	dims := make([][]metric.Dimension, len(series.vals)+1)
	for id, d := range series.vals {
		if !used[id] {
			continue
		}
		dims[id] = d.dims()
		order = append(order, uint32(id))
	}
	if !a.lag.empty() {
		order = append(order, lag)
	}
	name := func(id uint32) string {
		if id == lag {
			return metric.DeliveryLagSeconds
		}
		return series.vals[id].name
	}
	slices.SortFunc(order, func(x, y uint32) int {
		if c := cmp.Compare(name(x), name(y)); c != 0 {
			return c
		}
		return compareDims(dims[x], dims[y])
	})
	rank := make([]uint32, len(series.vals)+1)
	for r, id := range order {
		rank[id] = uint32(r)
	}
	for i := range cells {
		cells[i].rank = rank[cells[i].rank]
	}
	slices.SortFunc(cells, func(x, y rankedCell) int {
		if c := cmp.Compare(x.rank, y.rank); c != 0 {
			return c
		}
		return cmp.Compare(x.minute, y.minute)
	})
	// Shapes folded into one pool, and values into other, meet here: merge
	// their cells.
	merged := cells[:0]
	for _, c := range cells {
		if k := len(merged) - 1; k >= 0 && merged[k].rank == c.rank && merged[k].minute == c.minute {
			if c.peak {
				merged[k].n = max(merged[k].n, c.n)
			} else {
				merged[k].n += c.n
			}
			continue
		}
		merged = append(merged, c)
	}
	cells = merged

	return func(yield func(metric.Datum) bool) {
		i := 0
		for r, id := range order {
			if id == lag {
				if !a.lagDatums(yield) {
					return
				}
				continue
			}
			for ; i < len(cells) && cells[i].rank == uint32(r); i++ {
				d := metric.Datum{
					Name:       series.vals[id].name,
					Dimensions: slices.Clone(dims[id]),
					Timestamp:  time.Unix(cells[i].minute*60, 0).UTC(),
					Unit:       metric.Count,
					Values:     []float64{1},
					Counts:     []float64{cells[i].n},
				}
				if cells[i].peak {
					d.Values, d.Counts = []float64{cells[i].n}, []float64{1}
				}
				if !yield(d) {
					return
				}
			}
		}
	}
}

// lagDatums yields the DeliveryLagSeconds datums: one per minute, in
// order, its lags ascending, split at the values limit.
func (a *Aggregator) lagDatums(yield func(metric.Datum) bool) bool {
	for _, m := range a.lag.minutes() {
		left := a.lag.count(m)
		var d metric.Datum
		ok := a.lag.each(m, func(lag int64, k float64) bool {
			if d.Values == nil {
				n := min(left, metric.MaxValuesPerDatum)
				d = metric.Datum{
					Name:      metric.DeliveryLagSeconds,
					Timestamp: time.Unix(m*60, 0).UTC(),
					Unit:      metric.Seconds,
					Values:    make([]float64, 0, n),
					Counts:    make([]float64, 0, n),
				}
			}
			d.Values = append(d.Values, float64(lag))
			d.Counts = append(d.Counts, k)
			left--
			if len(d.Values) < metric.MaxValuesPerDatum && left > 0 {
				return true
			}
			full := d
			d = metric.Datum{}
			return yield(full)
		})
		if !ok {
			return false
		}
	}
	return true
}

// compareDims is metric.Key's order of dimensions: the datums come out in
// key order, which a resumed publish relies on to pass over what was sent.
func compareDims(x, y []metric.Dimension) int { return metric.CompareDimensions(x, y) }

func (k seriesDef) dims() []metric.Dimension {
	var d []metric.Dimension
	if k.d1 != "" {
		d = append(d, metric.Dimension{Name: k.d1, Value: k.v1})
	}
	if k.d2 != "" {
		d = append(d, metric.Dimension{Name: k.d2, Value: k.v2})
	}
	slices.SortFunc(d, func(a, b metric.Dimension) int { return cmp.Compare(a.Name, b.Name) })
	return d
}

func setKey(name string, dims []metric.Dimension) string {
	var b strings.Builder
	b.WriteString(name)
	for _, d := range dims {
		b.WriteByte('|')
		b.WriteString(d.Name)
	}
	return b.String()
}

// levels maps "Name|Dim|Dim" to the level its dimension set is published
// at. The catalog is fixed, so it is built once, not per All call.
var levels = levelIndex()

func levelIndex() map[string]metric.Level {
	m := make(map[string]metric.Level)
	for _, s := range metric.Catalog {
		for _, set := range s.Sets {
			names := slices.Clone(set.Names)
			slices.Sort(names)
			dims := make([]metric.Dimension, len(names))
			for i, n := range names {
				dims[i].Name = n
			}
			m[setKey(s.Name, dims)] = set.Level
		}
	}
	return m
}

func keep(dims []metric.Dimension, name string, allowed map[string]bool) bool {
	for _, d := range dims {
		if d.Name == name {
			return allowed[d.Value]
		}
	}
	return true
}

// top returns the n keys with the highest counts, ties broken by key.
func top(counts map[string]int, n int) map[string]bool {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	keys = keys[:min(n, len(keys))]
	out := make(map[string]bool, len(keys))
	for _, k := range keys {
		out[k] = true
	}
	return out
}

// Merge adds the counts of b, a finished aggregation of another file, to a:
// the buffered handler reads each file of a batch into its own aggregator,
// so that a file failing half-way is dropped whole, and merges those that
// were read. The result does not depend on the order of the merges: counts
// add up, the caps are applied in All, and a client named with two pools
// keeps the smaller, as within one file: a pool the trail gave over one a
// Resolver answered, and the smaller of two answers (a cache refreshed
// between two files). b must not be used afterwards.
func (a *Aggregator) Merge(b *Aggregator) {
	if a.fresh() {
		// The first file of a run or batch: a takes b's counts instead
		// of copying them, which would hold both copies at once (a run
		// of one file, at its peak, twice its aggregation). Copying them
		// would give the same counts under other ids, which nothing
		// reads but through their values.
		opts, oldest := a.opts, a.oldest
		*a, *b = *b, Aggregator{}
		a.opts, a.oldest = opts, oldest
		return
	}
	b.foldRow()
	for c, n := range b.byShape {
		a.byShape[cell{minute: c.minute, id: a.shapes.id(b.shapes.vals[c.id])}] += n
	}
	for c, n := range b.counts {
		a.counts[cell{minute: c.minute, id: a.series.id(b.series.vals[c.id])}] += n
	}
	a.lag.merge(&b.lag)
	for c, v := range b.peaks {
		a.peak(cell{minute: c.minute, id: a.series.id(b.series.vals[c.id])}, v)
	}
	for _, k := range slices.SortedFunc(maps.Keys(b.learned), compareClientKeys) {
		a.learn(k.client, b.learned[k])
	}
	for _, k := range slices.SortedFunc(maps.Keys(b.clients), compareClientKeys) {
		if _, ok := a.learned[k]; ok {
			continue
		}
		if old, ok := a.clients[k]; !ok || b.clients[k] < old {
			a.clients[k] = b.clients[k]
		}
	}
	a.stats.TooOld += b.stats.TooOld
}

// fresh reports whether a is as New returned it: nothing counted, learned
// nor budgeted.
func (a *Aggregator) fresh() bool {
	return len(a.byShape) == 0 && len(a.row.ids) == 0 && len(a.counts) == 0 && a.lag.empty() && len(a.peaks) == 0 &&
		len(a.clients) == 0 && len(a.learned) == 0 && a.stats == Stats{} && a.admitted == nil
}

// PoolOfLearning returns what PoolOf would return for a call made in
// region had the trail also given the pair (client, learned), learned ""
// meaning none: the pool a record of one file sees while the files before
// it are merged into a and the file is read into an aggregation of its own
// whose PoolOf said learned at the record, as PoolOf says when every file
// is read into a in order.
func (a *Aggregator) PoolOfLearning(region, client, learned string) (string, bool) {
	if learned == "" {
		return a.PoolOf(region, client)
	}
	// As learn: the trail's smaller pool wins over another the trail
	// gave, and any the trail gave over a Resolver's.
	if old, ok := a.learned[clientKey{region: region, client: client}]; ok && old < learned {
		return old, true
	}
	return learned, true
}

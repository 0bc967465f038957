package aggregate

// The aggregator as it was before cells were made compact (map keys of
// strings per minute): the reference the compact one must match datum for
// datum (TestMatchesReference).

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

type refSeriesKey struct {
	name   string
	d1, v1 string
	d2, v2 string
	minute int64
}

// refSignature is everything the metrics need of one record. Records are
// counted by refSignature, one map operation each, and expanded into refSeries
// once, in Datums: a Cognito record feeds up to a dozen refSeries, and most
// records of a minute share a refSignature.
type refSignature struct {
	minute int64
	// The classification with no account, and the client only of a user
	// pool record whose pool is not known yet, region the Region of the
	// call; Datums folds the client into its pool in that Region once known.
	class.Class
	region string
}

// refAggregator accumulates records and file outcomes. It is not safe for
// concurrent use.
type refAggregator struct {
	opts    Options
	byShape map[refSignature]float64
	// files and invalid records, by metric name and minute
	counts map[refSeriesKey]float64
	// lag[minute][seconds] = records
	lag map[int64]map[int64]float64
	// clients maps app client ids to their pools, as learned from records
	// that name both or told by a Resolver.
	clients map[clientKey]string
	// learned are the pairs the trail itself gave, for Resolver.Learn.
	learned map[clientKey]string
}

// New returns an empty refAggregator.
func newRef(opts *Options) *refAggregator {
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
	return &refAggregator{
		opts:    o,
		byShape: make(map[refSignature]float64),
		counts:  make(map[refSeriesKey]float64),
		lag:     make(map[int64]map[int64]float64),
		clients: make(map[clientKey]string),
		learned: make(map[clientKey]string),
	}
}

func refMinuteOf(t time.Time) int64 { return t.Unix() / 60 }

// Add counts one record. deliveredAt, when not zero, is when the record's
// file was delivered: the difference feeds DeliveryLagSeconds.
func (a *refAggregator) Add(r *record.Record, c *class.Class, deliveredAt time.Time) {
	m := refMinuteOf(r.EventTime)
	if !deliveredAt.IsZero() {
		lag := int64(math.Round(deliveredAt.Sub(r.EventTime).Seconds()))
		if lag < 0 {
			lag = 0
		}
		byLag := a.lag[m]
		if byLag == nil {
			byLag = make(map[int64]float64)
			a.lag[m] = byLag
		}
		byLag[lag]++
	}
	sig := refSignature{minute: m, Class: class.Class{Category: c.Category}}
	if c.Category != class.Other {
		sig.Class = *c
		sig.Account, sig.ClientID = "", ""
		if c.ClientID != "" {
			if c.UserPoolID == "" {
				sig.ClientID, sig.region = c.ClientID, r.AWSRegion
			} else if !c.Failed {
				a.refLearn(c.ClientID, c.UserPoolID)
			}
		}
	}
	a.byShape[sig]++
}

// refLearn records a pair the trail gave. Only records that succeeded teach:
// a failed AdminInitiateAuth may name a client of another pool (that is
// why it failed). A client never moves between pools, so two pools for one
// client mean a record lies; the smaller id wins so that the outcome does
// not depend on record order.
func (a *refAggregator) refLearn(client, pool string) {
	region, _, _ := strings.Cut(pool, "_")
	k := clientKey{region: region, client: client}
	if old, ok := a.learned[k]; !ok || pool < old {
		a.clients[k] = pool
		a.learned[k] = pool
	}
}

// PoolOf returns the pool of an app client as far as this aggregation
// knows it so far (records that named both, or a Resolver's answer).
func (a *refAggregator) PoolOf(region, client string) (string, bool) {
	p, ok := a.clients[clientKey{region: region, client: client}]
	return p, ok
}

// ResolveClients tells r the pairs the trail gave and asks it for the
// clients whose pool is still unknown, in sorted order. A failed lookup
// leaves that client refUnresolved and is returned, joined with the others,
// for the caller to report: it never loses a count.
func (a *refAggregator) ResolveClients(ctx context.Context, r Resolver) (ClientStats, error) {
	var st ClientStats
	for _, k := range slices.SortedFunc(maps.Keys(a.learned), compareClientKeys) {
		r.Learn(k.client, a.learned[k])
	}
	var errs []error
	for _, c := range a.refUnresolved() {
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
		if region, _, _ := strings.Cut(pool, "_"); pool == "" || region != c.region {
			st.Unresolved++
			continue
		}
		a.clients[c] = pool
		st.FromResolver++
	}
	return st, errors.Join(errs...)
}

// refUnresolved returns the sorted client ids of records counted without a
// pool.
func (a *refAggregator) refUnresolved() []clientKey {
	set := map[clientKey]bool{}
	for sig := range a.byShape {
		if sig.ClientID != "" {
			set[clientKey{region: sig.region, client: sig.ClientID}] = true
		}
	}
	return slices.SortedFunc(maps.Keys(set), compareClientKeys)
}

// refFold moves the counts of records that named only a client to the
// client's pool, where it is known: the one pass over the file stays one.
func (a *refAggregator) refFold() map[refSignature]float64 {
	out := make(map[refSignature]float64, len(a.byShape))
	for sig, n := range a.byShape {
		if sig.ClientID != "" {
			if pool, ok := a.clients[clientKey{region: sig.region, client: sig.ClientID}]; ok {
				sig.UserPoolID, sig.ClientID, sig.region = pool, "", ""
			}
		}
		out[sig] += n
	}
	return out
}

// refSeries expands the records of one refSignature into the refSeries they count in.
type refSeries struct {
	a     map[refSeriesKey]float64
	n     float64
	m     int64
	pools struct{ user, identity, ops, clients map[string]int }
}

func (s *refSeries) inc(name string, dims ...string) {
	k := refSeriesKey{name: name, minute: s.m}
	if len(dims) >= 2 {
		k.d1, k.v1 = dims[0], dims[1]
	}
	if len(dims) >= 4 {
		k.d2, k.v2 = dims[2], dims[3]
	}
	s.a[k] += s.n
}

// incByPoolOrClient counts name in total and under the record's pool or,
// while its pool is not known, its app client: sign-in failures, the
// sign-up counts and password resets share that one rule.
func (s *refSeries) incByPoolOrClient(name string, sig refSignature) {
	s.inc(name)
	if sig.UserPoolID != "" {
		s.inc(name, metric.DimUserPoolID, sig.UserPoolID)
	} else if sig.ClientID != "" {
		s.inc(name, metric.DimClientID, sig.ClientID)
	}
}

func (a *refAggregator) refExpand(sig refSignature, n float64, out *refSeries) {
	out.n, out.m = n, sig.minute
	cat := sig.Category.String()
	out.inc(metric.RecordsRead)
	out.inc(metric.Events, metric.DimCategory, cat)
	if sig.Category == class.Other {
		return
	}
	if sig.Operation != "" {
		out.pools.ops[sig.Operation] += int(n)
		out.inc(metric.Events, metric.DimCategory, cat, metric.DimOperation, sig.Operation)
	}
	if sig.UserPoolID != "" {
		out.pools.user[sig.UserPoolID] += int(n)
		out.inc(metric.Events, metric.DimCategory, cat, metric.DimUserPoolID, sig.UserPoolID)
	}
	if sig.ClientID != "" && (sig.Failed && sig.SignIn || sig.ForgotPassword || !sig.Failed && messaging(sig.Operation)) {
		out.pools.clients[sig.ClientID] += int(n)
	}
	if sig.IdentityPoolID != "" {
		out.pools.identity[sig.IdentityPoolID] += int(n)
		out.inc(metric.Events, metric.DimCategory, cat, metric.DimIdentityPoolID, sig.IdentityPoolID)
	}
	if sig.Unlisted {
		out.inc(metric.UnlistedOperations)
		out.inc(metric.UnlistedOperations, metric.DimOperation, sig.Operation)
	}
	if sig.Failed {
		out.inc(metric.Errors, metric.DimCategory, cat)
		code := sig.ErrorCode
		if code == "" {
			code = "HTTPError"
		}
		out.inc(metric.Errors, metric.DimCategory, cat, metric.DimErrorCode, code)
		if sig.SignIn {
			out.incByPoolOrClient(metric.SignInFailures, sig)
		}
	}
	if !sig.Failed && messaging(sig.Operation) {
		for _, m := range []struct {
			name string
			is   func(string) bool
		}{{metric.SignUps, class.SignUp}, {metric.SignUpConfirmations, class.SignUpConfirmation}, {metric.CodeDeliveryRequests, class.CodeDelivery}} {
			if !m.is(sig.Operation) {
				continue
			}
			out.incByPoolOrClient(m.name, sig)
		}
	}
	if sig.ForgotPassword {
		out.incByPoolOrClient(metric.ForgotPasswordRequests, sig)
	}
	if sig.ConfigChange && sig.Failed {
		out.inc(metric.ConfigChangesDenied)
		out.inc(metric.ConfigChangesDenied, metric.DimOperation, sig.Operation)
	}
	if sig.ConfigChange && !sig.Failed {
		name, dim, pool := metric.UserPoolConfigChanges, metric.DimUserPoolID, sig.UserPoolID
		if sig.Category == class.IdentityPoolManagement || sig.Category == class.CognitoSync {
			name, dim, pool = metric.IdentityPoolConfigChanges, metric.DimIdentityPoolID, sig.IdentityPoolID
		}
		out.inc(name)
		out.inc(name, metric.DimOperation, sig.Operation)
		if pool != "" {
			out.inc(name, dim, pool)
		}
	}
	if sig.AuthType != "" {
		out.inc(metric.IdentityPoolRoleCalls, metric.DimAuthType, string(sig.AuthType))
		if sig.IdentityPoolID != "" {
			out.inc(metric.IdentityPoolRoleCalls, metric.DimAuthType, string(sig.AuthType), metric.DimIdentityPoolID, sig.IdentityPoolID)
		}
	}
}

// AddFinding counts one finding (its name and severity, as pkg/finding
// names them) at the minute of the record it is about.
func (a *refAggregator) AddFinding(name, severity string, at time.Time) {
	m := refMinuteOf(at)
	a.counts[refSeriesKey{name: metric.Findings, d1: metric.DimSeverity, v1: severity, minute: m}]++
	a.counts[refSeriesKey{name: metric.Findings, d1: metric.DimFinding, v1: name, minute: m}]++
}

// AddInvalid counts a record that could not be used, at time at (its file's
// delivery or processing time: the record has no usable eventTime).
func (a *refAggregator) AddInvalid(at time.Time) {
	a.counts[refSeriesKey{name: metric.RecordsInvalid, minute: refMinuteOf(at)}]++
}

// AddFile counts a file outcome at time at.
func (a *refAggregator) AddFile(o FileOutcome, at time.Time) {
	name := metric.FilesProcessed
	switch o {
	case Skipped:
		name = metric.FilesSkipped
	case Failed:
		name = metric.FilesFailed
	}
	a.counts[refSeriesKey{name: name, minute: refMinuteOf(at)}]++
}

// Datums returns the aggregated datums, sorted, at the configured level.
// All is Datums one at a time, as the Aggregator's.
func (a *refAggregator) All() iter.Seq[metric.Datum] { return slices.Values(a.Datums()) }

func (a *refAggregator) Datums() []metric.Datum {
	ser := &refSeries{a: maps.Clone(a.counts)}
	ser.pools.user, ser.pools.identity, ser.pools.ops = map[string]int{}, map[string]int{}, map[string]int{}
	ser.pools.clients = map[string]int{}
	for sig, n := range a.refFold() {
		a.refExpand(sig, n, ser)
	}
	keepUser := refTop(ser.pools.user, a.opts.MaxPools)
	keepIdentity := refTop(ser.pools.identity, a.opts.MaxPools)
	// Listed operations are kept outside the cap.
	capped := map[string]int{}
	for op, n := range ser.pools.ops {
		if !class.ListedOperation(op) {
			capped[op] = n
		}
	}
	keepOps := refTop(capped, a.opts.MaxOperations)
	for op := range ser.pools.ops {
		if class.ListedOperation(op) {
			keepOps[op] = true
		}
	}
	// Unresolved clients are capped like pools: an attacker spraying made-up
	// client ids must not mint a custom metric each.
	keepClients := refTop(ser.pools.clients, a.opts.MaxPools)
	var out []metric.Datum
	for k, n := range ser.a {
		dims := k.dims()
		if l, ok := refLevels[refSetKey(k.name, dims)]; !ok || l > a.opts.Level {
			continue
		}
		if !refKeep(dims, metric.DimUserPoolID, keepUser) ||
			!refKeep(dims, metric.DimIdentityPoolID, keepIdentity) ||
			!refKeep(dims, metric.DimOperation, keepOps) ||
			!refKeep(dims, metric.DimClientID, keepClients) {
			continue
		}
		out = append(out, metric.Datum{
			Name:       k.name,
			Dimensions: dims,
			Timestamp:  time.Unix(k.minute*60, 0).UTC(),
			Unit:       metric.Count,
			Values:     []float64{1},
			Counts:     []float64{n},
		})
	}
	for m, byLag := range a.lag {
		lags := make([]int64, 0, len(byLag))
		for l := range byLag {
			lags = append(lags, l)
		}
		slices.Sort(lags)
		for len(lags) > 0 {
			chunk := lags[:min(len(lags), metric.MaxValuesPerDatum)]
			lags = lags[len(chunk):]
			d := metric.Datum{
				Name:      metric.DeliveryLagSeconds,
				Timestamp: time.Unix(m*60, 0).UTC(),
				Unit:      metric.Seconds,
			}
			for _, l := range chunk {
				d.Values = append(d.Values, float64(l))
				d.Counts = append(d.Counts, byLag[l])
			}
			out = append(out, d)
		}
	}
	slices.SortFunc(out, refCompare)
	return out
}

// refCompare orders datums by name, dimensions, time, then first value (lag
// datums of one minute are split by value range).
func refCompare(x, y metric.Datum) int {
	if c := cmp.Compare(x.Name, y.Name); c != 0 {
		return c
	}
	if c := slices.CompareFunc(x.Dimensions, y.Dimensions, func(a, b metric.Dimension) int {
		if c := cmp.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return cmp.Compare(a.Value, b.Value)
	}); c != 0 {
		return c
	}
	if c := x.Timestamp.Compare(y.Timestamp); c != 0 {
		return c
	}
	return cmp.Compare(x.Values[0], y.Values[0])
}

func (k refSeriesKey) dims() []metric.Dimension {
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

func refSetKey(name string, dims []metric.Dimension) string {
	var b strings.Builder
	b.WriteString(name)
	for _, d := range dims {
		b.WriteByte('|')
		b.WriteString(d.Name)
	}
	return b.String()
}

// refLevels maps "Name|Dim|Dim" to the level its dimension set is published
// at. The catalog is fixed, so it is built once, not per Datums call.
var refLevels = refLevelIndex()

func refLevelIndex() map[string]metric.Level {
	m := make(map[string]metric.Level)
	for _, s := range metric.Catalog {
		for _, set := range s.Sets {
			names := slices.Clone(set.Names)
			slices.Sort(names)
			dims := make([]metric.Dimension, len(names))
			for i, n := range names {
				dims[i].Name = n
			}
			m[refSetKey(s.Name, dims)] = set.Level
		}
	}
	return m
}

func refKeep(dims []metric.Dimension, name string, allowed map[string]bool) bool {
	for _, d := range dims {
		if d.Name == name {
			return allowed[d.Value]
		}
	}
	return true
}

// refTop returns the n keys with the highest counts, ties broken by key.
func refTop(counts map[string]int, n int) map[string]bool {
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

package aggregate

import (
	"cmp"
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
	Level         metric.Level // zero means metric.Standard
	MaxPools      int
	MaxOperations int
}

type seriesKey struct {
	name   string
	d1, v1 string
	d2, v2 string
	minute int64
}

// signature is everything the metrics need of one record. Records are
// counted by signature, one map operation each, and expanded into series
// once, in Datums: a Cognito record feeds up to a dozen series, and most
// records of a minute share a signature.
type signature struct {
	minute         int64
	category       class.Category
	failed         bool
	signIn         bool
	forgotPassword bool
	configChange   bool
	authType       class.AuthType
	operation      string
	errorCode      string
	userPool       string
	identityPool   string
}

// Aggregator accumulates records and file outcomes. It is not safe for
// concurrent use.
type Aggregator struct {
	opts Options
	sigs map[signature]float64
	// files and invalid records, by metric name and minute
	counts map[seriesKey]float64
	// lag[minute][seconds] = records
	lag map[int64]map[int64]float64
}

// New returns an empty Aggregator.
func New(opts *Options) *Aggregator {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Level == 0 {
		o.Level = metric.Standard
	}
	if o.MaxPools <= 0 {
		o.MaxPools = DefaultMaxPools
	}
	if o.MaxOperations <= 0 {
		o.MaxOperations = DefaultMaxOperations
	}
	return &Aggregator{
		opts:   o,
		sigs:   make(map[signature]float64),
		counts: make(map[seriesKey]float64),
		lag:    make(map[int64]map[int64]float64),
	}
}

func minuteOf(t time.Time) int64 { return t.Unix() / 60 }

// Add counts one record. deliveredAt, when not zero, is when the record's
// file was delivered: the difference feeds DeliveryLagSeconds.
func (a *Aggregator) Add(r *record.Record, c *class.Class, deliveredAt time.Time) {
	m := minuteOf(r.EventTime)
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
	sig := signature{minute: m, category: c.Category}
	if c.Category != class.Other {
		sig = signature{
			minute: m, category: c.Category, failed: c.Failed, signIn: c.SignIn,
			forgotPassword: c.ForgotPassword, configChange: c.ConfigChange, authType: c.AuthType,
			operation: c.Operation, errorCode: c.ErrorCode, userPool: c.UserPoolID, identityPool: c.IdentityPoolID,
		}
	}
	a.sigs[sig]++
}

// series expands the records of one signature into the series they count in.
type series struct {
	a     map[seriesKey]float64
	n     float64
	m     int64
	pools struct{ user, identity, ops map[string]int }
}

func (s *series) inc(name string, dims ...string) {
	k := seriesKey{name: name, minute: s.m}
	if len(dims) >= 2 {
		k.d1, k.v1 = dims[0], dims[1]
	}
	if len(dims) >= 4 {
		k.d2, k.v2 = dims[2], dims[3]
	}
	s.a[k] += s.n
}

func (a *Aggregator) expand(sig signature, n float64, out *series) {
	out.n, out.m = n, sig.minute
	cat := sig.category.String()
	out.inc(metric.RecordsRead)
	out.inc(metric.Events, metric.DimCategory, cat)
	if sig.category == class.Other {
		return
	}
	if sig.operation != "" {
		out.pools.ops[sig.operation] += int(n)
		out.inc(metric.Events, metric.DimCategory, cat, metric.DimOperation, sig.operation)
	}
	if sig.userPool != "" {
		out.pools.user[sig.userPool] += int(n)
		out.inc(metric.Events, metric.DimCategory, cat, metric.DimUserPoolID, sig.userPool)
	}
	if sig.identityPool != "" {
		out.pools.identity[sig.identityPool] += int(n)
		out.inc(metric.Events, metric.DimCategory, cat, metric.DimIdentityPoolID, sig.identityPool)
	}
	if sig.failed {
		out.inc(metric.Errors, metric.DimCategory, cat)
		code := sig.errorCode
		if code == "" {
			code = "HTTPError"
		}
		out.inc(metric.Errors, metric.DimCategory, cat, metric.DimErrorCode, code)
		if sig.signIn {
			out.inc(metric.SignInFailures)
			if sig.userPool != "" {
				out.inc(metric.SignInFailures, metric.DimUserPoolID, sig.userPool)
			}
		}
	}
	if sig.forgotPassword {
		out.inc(metric.ForgotPasswordRequests)
		if sig.userPool != "" {
			out.inc(metric.ForgotPasswordRequests, metric.DimUserPoolID, sig.userPool)
		}
	}
	if sig.configChange {
		name, dim, pool := metric.UserPoolConfigChanges, metric.DimUserPoolID, sig.userPool
		if sig.category == class.IdentityPoolManagement || sig.category == class.CognitoSync {
			name, dim, pool = metric.IdentityPoolConfigChanges, metric.DimIdentityPoolID, sig.identityPool
		}
		out.inc(name)
		out.inc(name, metric.DimOperation, sig.operation)
		if pool != "" {
			out.inc(name, dim, pool)
		}
	}
	if sig.authType != "" {
		out.inc(metric.IdentityPoolRoleCalls, metric.DimAuthType, string(sig.authType))
		if sig.identityPool != "" {
			out.inc(metric.IdentityPoolRoleCalls, metric.DimAuthType, string(sig.authType), metric.DimIdentityPoolID, sig.identityPool)
		}
	}
}

// AddFinding counts one finding (its name and severity, as pkg/finding
// names them) at the minute of the record it is about.
func (a *Aggregator) AddFinding(name, severity string, at time.Time) {
	m := minuteOf(at)
	a.counts[seriesKey{name: metric.Findings, d1: metric.DimSeverity, v1: severity, minute: m}]++
	a.counts[seriesKey{name: metric.Findings, d1: metric.DimFinding, v1: name, minute: m}]++
}

// AddInvalid counts a record that could not be used, at time at (its file's
// delivery or processing time: the record has no usable eventTime).
func (a *Aggregator) AddInvalid(at time.Time) {
	a.counts[seriesKey{name: metric.RecordsInvalid, minute: minuteOf(at)}]++
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
	a.counts[seriesKey{name: name, minute: minuteOf(at)}]++
}

// Datums returns the aggregated datums, sorted, at the configured level.
func (a *Aggregator) Datums() []metric.Datum {
	ser := &series{a: maps.Clone(a.counts)}
	ser.pools.user, ser.pools.identity, ser.pools.ops = map[string]int{}, map[string]int{}, map[string]int{}
	for sig, n := range a.sigs {
		a.expand(sig, n, ser)
	}
	keepUser := top(ser.pools.user, a.opts.MaxPools)
	keepIdentity := top(ser.pools.identity, a.opts.MaxPools)
	keepOps := top(ser.pools.ops, a.opts.MaxOperations)
	var out []metric.Datum
	for k, n := range ser.a {
		dims := k.dims()
		if l, ok := levels[setKey(k.name, dims)]; !ok || l > a.opts.Level {
			continue
		}
		if !keep(dims, metric.DimUserPoolID, keepUser) ||
			!keep(dims, metric.DimIdentityPoolID, keepIdentity) ||
			!keep(dims, metric.DimOperation, keepOps) {
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
	slices.SortFunc(out, compare)
	return out
}

// compare orders datums by name, dimensions, time, then first value (lag
// datums of one minute are split by value range).
func compare(x, y metric.Datum) int {
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

func (k seriesKey) dims() []metric.Dimension {
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
// at. The catalog is fixed, so it is built once, not per Datums call.
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

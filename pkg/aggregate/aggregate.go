package aggregate

import (
	"cmp"
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

// Aggregator accumulates records and file outcomes. It is not safe for
// concurrent use.
type Aggregator struct {
	opts   Options
	counts map[seriesKey]float64
	// lag[minute][seconds] = records
	lag map[int64]map[int64]float64
	// hits per pool, to choose which pools keep their own series.
	userPools, identityPools map[string]int
	operations               map[string]int
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
		opts:          o,
		counts:        make(map[seriesKey]float64),
		lag:           make(map[int64]map[int64]float64),
		userPools:     make(map[string]int),
		identityPools: make(map[string]int),
		operations:    make(map[string]int),
	}
}

func minuteOf(t time.Time) int64 { return t.Unix() / 60 }

func (a *Aggregator) inc(name string, minute int64, dims ...string) {
	k := seriesKey{name: name, minute: minute}
	if len(dims) >= 2 {
		k.d1, k.v1 = dims[0], dims[1]
	}
	if len(dims) >= 4 {
		k.d2, k.v2 = dims[2], dims[3]
	}
	a.counts[k]++
}

// Add counts one record. deliveredAt, when not zero, is when the record's
// file was delivered: the difference feeds DeliveryLagSeconds.
func (a *Aggregator) Add(r *record.Record, c *class.Class, deliveredAt time.Time) {
	m := minuteOf(r.EventTime)
	a.inc(metric.RecordsRead, m)
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
	cat := c.Category.String()
	a.inc(metric.Events, m, metric.DimCategory, cat)
	if c.Category == class.Other {
		return
	}
	if c.Operation != "" {
		a.operations[c.Operation]++
		a.inc(metric.Events, m, metric.DimCategory, cat, metric.DimOperation, c.Operation)
	}
	if c.UserPoolID != "" {
		a.userPools[c.UserPoolID]++
		a.inc(metric.Events, m, metric.DimCategory, cat, metric.DimUserPoolID, c.UserPoolID)
	}
	if c.IdentityPoolID != "" {
		a.identityPools[c.IdentityPoolID]++
		a.inc(metric.Events, m, metric.DimCategory, cat, metric.DimIdentityPoolID, c.IdentityPoolID)
	}
	if c.Failed {
		a.inc(metric.Errors, m, metric.DimCategory, cat)
		code := c.ErrorCode
		if code == "" {
			code = "HTTPError"
		}
		a.inc(metric.Errors, m, metric.DimCategory, cat, metric.DimErrorCode, code)
		if c.SignIn {
			a.inc(metric.SignInFailures, m)
			if c.UserPoolID != "" {
				a.inc(metric.SignInFailures, m, metric.DimUserPoolID, c.UserPoolID)
			}
		}
	}
	if c.ForgotPassword {
		a.inc(metric.ForgotPasswordRequests, m)
		if c.UserPoolID != "" {
			a.inc(metric.ForgotPasswordRequests, m, metric.DimUserPoolID, c.UserPoolID)
		}
	}
	if c.ConfigChange {
		name, dim, pool := metric.UserPoolConfigChanges, metric.DimUserPoolID, c.UserPoolID
		if c.Category == class.IdentityPoolManagement {
			name, dim, pool = metric.IdentityPoolConfigChanges, metric.DimIdentityPoolID, c.IdentityPoolID
		}
		a.inc(name, m)
		a.inc(name, m, metric.DimOperation, c.Operation)
		if pool != "" {
			a.inc(name, m, dim, pool)
		}
	}
	if c.AuthType != "" {
		a.inc(metric.IdentityPoolRoleCalls, m, metric.DimAuthType, string(c.AuthType))
		if c.IdentityPoolID != "" {
			a.inc(metric.IdentityPoolRoleCalls, m, metric.DimAuthType, string(c.AuthType), metric.DimIdentityPoolID, c.IdentityPoolID)
		}
	}
}

// AddInvalid counts a record that could not be used, at time at (its file's
// delivery or processing time: the record has no usable eventTime).
func (a *Aggregator) AddInvalid(at time.Time) {
	a.inc(metric.RecordsInvalid, minuteOf(at))
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
	a.inc(name, minuteOf(at))
}

// Datums returns the aggregated datums, sorted, at the configured level.
func (a *Aggregator) Datums() []metric.Datum {
	keepUser := top(a.userPools, a.opts.MaxPools)
	keepIdentity := top(a.identityPools, a.opts.MaxPools)
	keepOps := top(a.operations, a.opts.MaxOperations)
	levels := levelIndex()
	var out []metric.Datum
	for k, n := range a.counts {
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

// levelIndex maps "Name|Dim|Dim" to the level its dimension set is published at.
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

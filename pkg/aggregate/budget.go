package aggregate

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cognitrail/cognitrail/pkg/budget"
	"github.com/cognitrail/cognitrail/pkg/class"
	"github.com/cognitrail/cognitrail/pkg/metric"
)

// OtherValue is the dimension value that values over the month's budget
// (ApplyBudget) are counted under.
const OtherValue = "other"

// Budgeted are the dimensions whose values a budget bounds: those whose
// values are not a fixed list (Category, AuthType, Severity and Finding
// are).
var Budgeted = []string{metric.DimUserPoolID, metric.DimIdentityPoolID, metric.DimOperation, metric.DimClientID, metric.DimErrorCode}

func budgeted(dim string) bool { return slices.Contains(Budgeted, dim) }

// RoleCallBudget prefixes the budget of a dimension's values in the series
// of identity-pool role calls (RoleCallBudget+"Operation",
// RoleCallBudget+"ErrorCode"): anyone holding guest credentials chooses
// those values (any service's operations, and their errors), so they draw
// on a budget of their own, and a few hundred denied calls on the 1st of
// the month cannot fold the Cognito operations and errors seen later into
// OtherValue.
const RoleCallBudget = "RoleCall"

// noBudget is the budget of the values that never spend one.
const noBudget = ""

var roleCallCategory = class.IdentityPoolRoleCall.String()

// budgetOf names the budget a value of dim in series d draws on: noBudget
// for a value from a fixed, AWS-defined list (an operation on a pkg/class
// table, an error code Cognito documents, or the "HTTPError" an endpoint
// failure without a code is counted under), the role calls' own budget,
// or the dimension's.
func budgetOf(d seriesDef, dim, value string) string {
	if !budgeted(dim) {
		return noBudget
	}
	roleCall := d.d1 == metric.DimCategory && d.v1 == roleCallCategory || d.d2 == metric.DimCategory && d.v2 == roleCallCategory
	switch dim {
	case metric.DimOperation:
		if roleCall {
			// "<service>:<eventName>": never a table's.
			return RoleCallBudget + dim
		}
		if class.ListedOperation(value) {
			return noBudget
		}
	case metric.DimErrorCode:
		if value == httpErrorCode || class.DocumentedErrorCode(value) {
			return noBudget
		}
		if roleCall {
			return RoleCallBudget + dim
		}
	}
	return dim
}

// budgetKey is one value of a budget (budgetOf: a dimension, or the role
// calls' share of one) in a month ("2006-01").
type budgetKey struct{ month, dim, value string }

// monthCache names the month of a minute, a day at a time.
type monthCache map[int64]string

func (mc monthCache) of(minute int64) string {
	day := minute / (24 * 60)
	if m, ok := mc[day]; ok {
		return m
	}
	m := time.Unix(minute*60, 0).UTC().Format("2006-01")
	mc[day] = m
	return m
}

// ApplyBudget asks b which values of the budgeted dimensions keep their own
// series, month by month, the busiest values first (ties by value, so the
// answer does not depend on record order); All then counts the others
// under OtherValue. It asks about the values the per-file caps keep, once
// per aggregation, after the last record: call it before All. An error
// is b's: nothing was decided, and All would publish every value.
func (a *Aggregator) ApplyBudget(ctx context.Context, b budget.Budget) error {
	pl := a.plan()
	totals := map[budgetKey]float64{}
	months := monthCache{}
	a.cells(pl, func(m int64, id uint32, n float64) {
		d := pl.series.vals[id]
		for _, dv := range [2][2]string{{d.d1, d.v1}, {d.d2, d.v2}} {
			if b := budgetOf(d, dv[0], dv[1]); b != noBudget {
				totals[budgetKey{months.of(m), b, dv[1]}] += n
			}
		}
	})
	type group struct{ month, dim string }
	byGroup := map[group][]string{}
	for k := range totals {
		g := group{k.month, k.dim}
		byGroup[g] = append(byGroup[g], k.value)
	}
	groups := slices.SortedFunc(func(yield func(group) bool) {
		for g := range byGroup {
			if !yield(g) {
				return
			}
		}
	}, func(x, y group) int {
		if c := cmp.Compare(x.month, y.month); c != 0 {
			return c
		}
		return cmp.Compare(x.dim, y.dim)
	})
	admitted := map[budgetKey]bool{}
	for _, g := range groups {
		values := byGroup[g]
		slices.SortFunc(values, func(x, y string) int {
			tx, ty := totals[budgetKey{g.month, g.dim, x}], totals[budgetKey{g.month, g.dim, y}]
			if c := cmp.Compare(ty, tx); c != 0 {
				return c
			}
			return cmp.Compare(x, y)
		})
		ok, err := b.Admit(ctx, g.month, g.dim, values)
		if err != nil {
			return fmt.Errorf("aggregate: series budget for %s in %s: %w", g.dim, g.month, err)
		}
		for _, v := range values {
			admitted[budgetKey{g.month, g.dim, v}] = ok[v]
		}
	}
	a.admitted = admitted
	return nil
}

// overflow returns the series a count of series id in month is published
// under: id itself, or the series with OtherValue for each value over the
// month's budget.
func (a *Aggregator) overflow(pl *plan, id uint32, month string) uint32 {
	d := pl.series.vals[id]
	changed := false
	if b := budgetOf(d, d.d1, d.v1); b != noBudget && !a.admittedValue(month, b, d.v1) {
		d.v1, changed = OtherValue, true
	}
	if b := budgetOf(d, d.d2, d.v2); b != noBudget && !a.admittedValue(month, b, d.v2) {
		d.v2, changed = OtherValue, true
	}
	if !changed {
		return id
	}
	return pl.series.id(d)
}

func (a *Aggregator) admittedValue(month, dim, value string) bool {
	ok, asked := a.admitted[budgetKey{month, dim, value}]
	return ok || !asked
}

// Folded is one value ApplyBudget folded into OtherValue.
type Folded struct {
	Month     string `json:"m"`
	Dimension string `json:"d"`
	Value     string `json:"v"`
}

// Folded returns the values the last ApplyBudget folded into OtherValue,
// sorted. Recorded with a batch, they let a retry in another execution
// environment (another in-memory budget) fold exactly as the first
// attempt did, so that its datums, and so its batches, are the same.
func (a *Aggregator) Folded() []Folded {
	var out []Folded
	for k, ok := range a.admitted {
		if !ok {
			out = append(out, Folded{Month: k.month, Dimension: k.dim, Value: k.value})
		}
	}
	slices.SortFunc(out, func(x, y Folded) int {
		return cmp.Or(cmp.Compare(x.Month, y.Month), cmp.Compare(x.Dimension, y.Dimension), cmp.Compare(x.Value, y.Value))
	})
	return out
}

// SetFolded replaces ApplyBudget: All folds exactly the values given
// (as returned by Folded) into OtherValue and keeps every other value.
func (a *Aggregator) SetFolded(values []Folded) {
	a.admitted = make(map[budgetKey]bool, len(values))
	for _, f := range values {
		a.admitted[budgetKey{f.Month, f.Dimension, f.Value}] = false
	}
}

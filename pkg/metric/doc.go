// Package metric is the metric catalog, the single source of truth for what
// cognitrail publishes: names, units, dimension sets and the detail level at
// which each set is emitted. The aggregator, the sinks, the README's cost
// table and the SAM template's alarms and dashboard are all checked against
// Catalog.
//
// Dimension values come from the trail and are made publishable at this
// boundary: SanitizeDimensionValue states the rule (printable ASCII only,
// anything else one '_', at most 1024 bytes, never empty), and package
// aggregate applies it wherever a datum gets its dimensions, so no value in
// a datum can make CloudWatch refuse the request that carries it.
//
// Adding a count metric for a new fact of a classified record takes three
// files of code and a row of documentation:
//
//  1. pkg/class/class.go: the fact as a field of class.Class, set by
//     Classify (and a case in its table test).
//  2. pkg/metric/metric.go: the name and its Catalog entry (unit, the
//     statistic that reads it, the dimension sets of each level, one line
//     of description).
//  3. pkg/aggregate/aggregate.go: the series it feeds, in expand (a shape
//     is a class.Class, so the field is already there; Add clears a field
//     only where no series reads it).
//  4. docs/metrics.md: the metric's row (TestMetricsPageListsTheCatalog
//     fails without it).
//
// The template check (internal/templatecheck) then accepts alarms and
// widgets on it at the levels the catalog gives, and refuses any metric
// name, dimension set or statistic the catalog does not have.
package metric

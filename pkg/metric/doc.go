// Package metric is the metric catalog, the single source of truth for what
// cognitrail publishes: names, units, dimension sets and the detail level at
// which each set is emitted. The aggregator, the sinks, the README's cost
// table and the SAM template's alarms and dashboard are all checked against
// Catalog.
package metric

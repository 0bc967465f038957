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
package metric

// Package aggregate turns classified records into CloudWatch datums: one
// datum per metric, dimension combination and minute of eventTime, carrying
// the minute's count (Values [1], Counts [n]) or distribution, so a file of a
// million records becomes a few hundred datums.
//
// Output is deterministic: datums are sorted by name, dimensions and time,
// and the per-pool cap keeps the busiest pools (ties broken by id), so the
// same input always gives the same datums, which golden files and resumable
// publishing rely on.
//
// Datums is the one place dimension values enter a datum: each is passed
// through metric.SanitizeDimensionValue there, after the per-pool and
// per-operation caps have chosen among the raw values, and series whose
// values sanitise alike are merged into one.
package aggregate

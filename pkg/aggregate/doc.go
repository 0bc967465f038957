// Package aggregate turns classified records into CloudWatch datums: one
// datum per metric, dimension combination and minute of eventTime, carrying
// the minute's count (Values [1], Counts [n]) or distribution, so a file of a
// million records becomes a few hundred datums.
//
// Memory follows the minutes and series counted, not the records, and stays
// small per minute: a record is counted under (minute, shape id), where a
// shape (category, operation, pools, outcome...) is interned once, and
// expanded into its series only in Datums. A cell is a 16-byte key and a
// count, so a file spanning a month costs a few MB, not hundreds. Datums
// are produced one at a time by All (Datums collects them), so that a
// caller can write or publish them without holding them all. Options.Oldest
// leaves out what CloudWatch would reject anyway (counted in Stats).
//
// ApplyBudget bounds the series per month beyond the caps of one
// aggregation (a file, or a buffered batch merged with Merge): a
// budget.Budget decides which values of the pool, client, operation and
// error code dimensions keep their own series in a month, and the others
// are counted under OtherValue ("other"), so no count is lost.
//
// A record that names only an app client is counted under the client and
// the Region of the call (its awsRegion) until the client's pool in that
// Region is known: an app client id is only unique within a Region, and a
// user pool id starts with its Region, so a pair (learned from the trail
// or told by a Resolver) resolves the calls of its pool's Region only.
//
// Output is deterministic: datums are sorted by name, dimensions and time
// (metric.Key's order, strictly ascending: a resumed publish passes over
// keys), and the per-pool cap keeps the busiest pools (ties broken by id), so the
// same input always gives the same datums, which golden files and resumable
// publishing rely on.
//
// Datums is the one place dimension values enter a datum: each is passed
// through metric.SanitizeDimensionValue there, after the per-pool and
// per-operation caps have chosen among the raw values, and series whose
// values sanitise alike are merged into one.
package aggregate

// Package sink holds what the metric sinks (sink/cloudwatch, sink/emf) share:
// how a file's datums are cut into batches, and which datums CloudWatch would
// refuse for their age.
//
// Batches are cut from the whole, deterministic datum list of a file (see
// package aggregate) and depend on nothing else, so batch i of an object is
// the same datums on every attempt: a retry can resume at the first batch not
// yet published. Datums too old (or too far in the future) are removed from a
// batch only when it is sent, so the clock never moves batch boundaries.
package sink

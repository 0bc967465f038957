// Package sink holds what the metric sinks (sink/cloudwatch, sink/emf) share:
// how a file's datums are cut into batches, and which datums CloudWatch would
// refuse for their age.
//
// Batches are cut from a deterministic datum list (see package aggregate)
// and depend on nothing else. A retry does not count batches: it passes over
// the datums up to the last one published (package processor) and cuts its
// batches from the rest. Datums too old (or too far in the future) are removed from a
// batch only when it is sent, so the clock never moves batch boundaries.
package sink

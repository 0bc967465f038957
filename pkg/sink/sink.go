package sink

import (
	"iter"
	"time"

	"github.com/cognitrail/cognitrail/pkg/fault"
	"github.com/cognitrail/cognitrail/pkg/metric"
)

// CloudWatch's limits on timestamps.
const (
	// DefaultMaxAge: PutMetricData rejects datapoints older than two weeks.
	DefaultMaxAge = 14 * 24 * time.Hour
	// MaxFuture: and more than two hours in the future.
	MaxFuture = 2 * time.Hour
)

// Stats says what publishing one batch did.
type Stats struct {
	// Requests is the number of API requests (or log lines) that succeeded.
	Requests int
	// Sent is the number of datums published.
	Sent int
	// Dropped is the number of datums not sent because CloudWatch would
	// reject their timestamp.
	Dropped int
	// Rejected is the number of datums sent in a request the service
	// refused as invalid (see ErrRejected).
	Rejected int
}

// Add accumulates s2 into s.
func (s *Stats) Add(s2 Stats) {
	s.Requests += s2.Requests
	s.Sent += s2.Sent
	s.Dropped += s2.Dropped
	s.Rejected += s2.Rejected
}

// ErrRejected marks a Publish error that is permanent: the service refused
// the batch as invalid (CloudWatch's 4xx validation errors), so sending it
// again would be refused again. The caller counts the batch's datums
// (Stats.Rejected) and goes on with the next batch; any other error may be
// transient and is the caller's to retry.
var ErrRejected = fault.New("sink: batch rejected as invalid")

// Batches cuts datums, as they are produced, into consecutive batches of
// at most maxDatums datums and at most maxBytes by the size estimate (a
// datum larger than maxBytes on its own gets a batch of its own): a file's
// datums are published without being held at once. Each batch is a new
// slice.
func Batches(datums iter.Seq[metric.Datum], maxDatums, maxBytes int, size func(*metric.Datum) int) iter.Seq[[]metric.Datum] {
	return func(yield func([]metric.Datum) bool) {
		var cur []metric.Datum
		bytes := 0
		for d := range datums {
			n := size(&d)
			if len(cur) > 0 && (len(cur) == maxDatums || bytes+n > maxBytes) {
				if !yield(cur) {
					return
				}
				cur, bytes = nil, 0
			}
			if cur == nil {
				cur = make([]metric.Datum, 0, min(maxDatums, 1000))
			}
			bytes += n
			cur = append(cur, d)
		}
		if len(cur) > 0 {
			yield(cur)
		}
	}
}

// AgeFilter drops datums whose timestamps CloudWatch would reject.
type AgeFilter struct {
	// MaxAge is how old a datum may be; zero means DefaultMaxAge, negative
	// disables the check (for emulators that accept anything).
	MaxAge time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Oldest is the oldest datum time the filter keeps at now; zero when it
// keeps any. The one place MaxAge's default is resolved: the processor
// and the CLI cut what they aggregate and read by it.
func (f AgeFilter) Oldest(now time.Time) time.Time {
	if f.MaxAge < 0 {
		return time.Time{}
	}
	maxAge := f.MaxAge
	if maxAge == 0 {
		maxAge = DefaultMaxAge
	}
	// A minute of slack at the old end: the datum's minute must still be
	// inside the window when the request arrives.
	return now.Add(-maxAge + time.Minute)
}

// Keep returns the datums of batch that CloudWatch accepts now (a new slice
// when some are dropped) and how many were dropped.
func (f AgeFilter) Keep(batch []metric.Datum) ([]metric.Datum, int) {
	if f.MaxAge < 0 {
		return batch, 0
	}
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	t := now()
	oldest, newest := f.Oldest(t), t.Add(MaxFuture)
	ok := func(d *metric.Datum) bool { return !d.Timestamp.Before(oldest) && !d.Timestamp.After(newest) }
	for i := range batch {
		if !ok(&batch[i]) {
			kept := make([]metric.Datum, 0, len(batch))
			for j := range batch {
				if ok(&batch[j]) {
					kept = append(kept, batch[j])
				}
			}
			return kept, len(batch) - len(kept)
		}
	}
	return batch, 0
}

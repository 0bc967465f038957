package sim

import (
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Report is what one run did.
type Report struct {
	Seed                                int64
	Buffered, Versioned                 bool
	Versions, Attempts, Crashes, Faults int
	Environments, Steps                 int
	// Violations are the invariants that did not hold; empty when the run
	// is clean.
	Violations []string
}

func (r *Report) String() string {
	return fmt.Sprintf("seed %d: buffered=%v versioned=%v versions=%d attempts=%d crashes=%d surfaced-faults=%d environments=%d steps=%d",
		r.Seed, r.Buffered, r.Versioned, r.Versions, r.Attempts, r.Crashes, r.Faults, r.Environments, r.Steps)
}

// Run simulates one seed: trail files are written and announced (some
// twice, out of order, some overwritten or deleted), the handler runs over
// the deliveries in environments that start cold or warm, side by side,
// with faults injected into every call, and then, faults off, until every
// delivery succeeded. The invariants are checked at the end.
func Run(cfg Config) *Report {
	w := newWorld(cfg)
	w.scenario()
	queue := w.initialQueue()
	rep := &Report{Seed: cfg.Seed, Buffered: w.buffered, Versioned: w.s3.versioned}

	w.faulty = true
	for i := 0; i < 80 && len(queue) > 0; i++ {
		queue = w.mutate(queue)
		queue = w.round(queue, w.rng.Float64() < 0.25)
	}
	w.faulty = false
	w.trace(nil, "faults off: %d messages left", len(queue))
	for i := 0; len(queue) > 0; i++ {
		if i == 200 {
			rep.Violations = append(rep.Violations, fmt.Sprintf("not quiescent: %d messages still failing after 200 fault-free rounds", len(queue)))
			break
		}
		queue = w.round(queue, false)
	}
	for _, a := range w.attempts {
		if a.panicked != "" {
			rep.Violations = append(rep.Violations, fmt.Sprintf("attempt %d panicked: %s", a.id, a.panicked))
		}
		if a.crashed != "" {
			rep.Crashes++
		}
		rep.Faults += a.surfaced
	}
	rep.Versions, rep.Attempts, rep.Environments, rep.Steps = len(w.versions), len(w.attempts), len(w.envs), w.steps
	rep.Violations = append(rep.Violations, w.check()...)
	return rep
}

// round runs one or two deliveries taken from the queue (at random
// places: deliveries come out of order) and puts back what failed.
func (w *World) round(queue []message, concurrent bool) []message {
	n := 1
	if concurrent && len(queue) > 1 {
		n = 2
	}
	var as []*attempt
	for range n {
		size := 1
		if w.buffered {
			size = 1 + w.rng.Intn(min(4, len(queue)))
		}
		var msgs []message
		for range size {
			i := w.rng.Intn(len(queue))
			msgs = append(msgs, queue[i])
			queue = append(queue[:i], queue[i+1:]...)
		}
		a := &attempt{id: len(w.attempts) + len(as) + 1, messages: msgs, event: w.event(msgs), start: w.now}
		for _, m := range msgs {
			if m.v.seen.IsZero() {
				m.v.seen = w.now
			}
		}
		a.env = w.pickEnv(as)
		as = append(as, a)
		if len(queue) == 0 {
			break
		}
	}
	doneBefore := w.done()
	w.run(as)
	crashed, troubled := false, false
	for _, a := range as {
		crashed = crashed || a.crashed != ""
		troubled = troubled || a.crashed != "" || len(w.failedMessages(a)) > 0
	}
	for _, a := range as {
		// A message SNS accepted whose notice the attempt could not mark
		// sent (it crashed, or the write failed) is sent again once the
		// notice's lease is over: the window package ledger's Notices
		// documents.
		for _, m := range a.published {
			k := messageKey(m.Message)
			if str(w.db.Item("finding#"+k.eventID+"#"+k.name), "status") == "sending" {
				w.lostPublishes = append(w.lostPublishes, m)
			}
		}
	}
	done := w.done()
	if troubled {
		// An object marked done by an attempt that then failed (the
		// answer to its Finish lost for good, or a crash) has its event
		// lines lost, by design: the retry finds it done.
		for id := range done {
			if !doneBefore[id] {
				w.linesLost[id] = true
			}
		}
	}
	for _, v := range w.versions {
		if v.done.IsZero() && done[v.id(w.s3.versioned)] {
			v.done, v.doneCrash = w.now, crashed
		}
	}
	busy := false
	for _, a := range as {
		failed := w.failedMessages(a)
		queue = append(queue, failed...)
		if len(failed) > 0 {
			busy = busy || a.surfaced == 0 && a.crashed == ""
			if a.surfaced == 0 && a.crashed == "" && !a.concurrent && a.start.Sub(w.lastTrouble) > lease && w.faulty {
				a.falseError = true
			}
		}
		if a.surfaced > 0 || a.crashed != "" {
			w.lastTrouble = w.now
		}
		if a.lastPut != nil {
			// Published, and then the attempt failed before (or while)
			// recording it: the retry sends that request again.
			w.lostPuts = append(w.lostPuts, a.lastPut)
		}
	}
	// Time passes: a retry soon (Lambda's, SQS's), or after the leases of
	// crashed attempts expired.
	if busy || w.rng.Float64() < 0.3 {
		w.now = w.now.Add(lease + time.Duration(w.rng.Intn(300))*time.Second)
	} else {
		w.now = w.now.Add(time.Duration(1+w.rng.Intn(60)) * time.Second)
	}
	return queue
}

// pickEnv chooses a warm environment not busy with another attempt of the
// round, or starts a cold one.
func (w *World) pickEnv(busy []*attempt) *environment {
	if len(w.envs) > 0 && w.rng.Float64() < 0.75 {
		e := w.envs[w.rng.Intn(len(w.envs))]
		free := true
		for _, a := range busy {
			free = free && a.env != e
		}
		if free {
			return e
		}
	}
	return w.coldStart()
}

// failedMessages are the messages of a the event source retries.
func (w *World) failedMessages(a *attempt) []message {
	if a.crashed != "" || a.panicked != "" {
		return a.messages
	}
	if !w.buffered {
		if a.err != nil {
			return a.messages
		}
		return nil
	}
	resp, ok := a.result.(events.SQSEventResponse)
	if !ok {
		a.panicked = fmt.Sprintf("buffered handler answered %T, error %v", a.result, a.err)
		return a.messages
	}
	var out []message
	for _, f := range resp.BatchItemFailures {
		for _, m := range a.messages {
			if m.id == f.ItemIdentifier {
				out = append(out, m)
			}
		}
	}
	return out
}

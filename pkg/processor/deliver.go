package processor

import (
	"context"
	"fmt"

	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/ledger"
	"github.com/cognitrail/cognitrail/pkg/metric"
)

// unit is what one delivery marks in the ledger: a single object
// (objectUnit), a batch of objects (batchUnit), or nothing when idempotency
// is off or the object has nothing to be claimed by (noUnit). deliver is
// the one path over all three, so that the order of its steps, which the
// exactly-once argument rests on (see doc.go), is written once.
type unit interface {
	// resume is where earlier attempts stopped publishing; complete: all
	// of it is published.
	resume() (from resumePoint, complete bool, err error)
	// advance records that n requests are published, the last ending with
	// the datum keyed last.
	advance(ctx context.Context, n int, last metric.Key) error
	// published records that every request is out, n in all.
	published(ctx context.Context, n int) error
	// finish marks the unit's objects done, then the unit; with an error,
	// done is how many objects were marked before it.
	finish(ctx context.Context, n int) (done int, err error)
	// release gives up the unit's own claim (its objects' claims are
	// released with them) after a failure a retry may cure.
	release(ctx context.Context)
}

// delivery is what the read stage made of a unit's objects, to deliver.
type delivery struct {
	// where names the unit in errors and logs: an object's URL, a batch id.
	where string
	agg   *aggregate.Aggregator
	// found are the findings to notify.
	found []finding.Finding
	// commit saves the unit's settings in the finding state (nil: none).
	commit func(context.Context) error
	// log counts what is published: the object's line, or the batch's.
	log *objectRun
	// batch: the unit is a batch, which has a line of its own.
	batch bool
}

// deliver notifies d's findings, publishes its datums from where earlier
// attempts stopped, saves its settings, marks ms done and writes their
// lines, in that order: each step is repeated by a retry of any step
// before it, and none is undone by a failure after it (doc.go says what a
// crash between two steps does). It returns the members that failed
// transiently (their claims released), with the error.
func (h *Handler) deliver(ctx context.Context, u unit, ms []*member, d *delivery) ([]*member, error) {
	fail := func(done int, err error) ([]*member, error) {
		for _, mb := range ms[done:] {
			h.transient(ctx, mb.claim, mb.ol, err)
		}
		u.release(ctx)
		return ms[done:], err
	}
	from, complete, err := u.resume()
	if err != nil {
		return fail(0, err)
	}
	// The findings go first: a retry reads the objects again (or the batch
	// item's record of them) and sends what was not sent, while a datum
	// published twice only shows as a higher count.
	if err := h.notify(ctx, d.where, d.found); err != nil {
		return fail(0, err)
	}
	n := from.batches
	if !complete {
		if n, err = h.publishFrom(ctx, d.agg, d.log, d.where, from, u.advance); err != nil {
			return fail(0, err)
		}
		if err := u.published(ctx, n); err != nil {
			return fail(0, err)
		}
	}
	d.log.batches = n
	// The settings reach the state before anything is marked done: a
	// record is never judged against its own entry, so a retry after this
	// judges as the first time, while a state saved after done could be
	// lost for good with the attempt.
	if d.commit != nil {
		if err := d.commit(ctx); err != nil {
			return fail(0, fmt.Errorf("processor: %s: finding state: %w", d.where, err))
		}
	}
	done, err := u.finish(ctx, n)
	if err == nil {
		done = len(ms)
	}
	// Only now, as for the metrics: an attempt that failed before this
	// point wrote none of the lines, and a later duplicate is skipped. A
	// crash right here loses the lines of the objects marked done rather
	// than writing them twice; those marked are this attempt's to write
	// even when a later mark fails (the retry finds them done).
	h.writeMembers(ctx, ms[:done], d)
	if err != nil {
		return fail(done, err)
	}
	if d.batch {
		h.logBatch(ctx, d.where, len(ms), d.log)
	}
	return nil, nil
}

// writeMembers writes the event lines and the object line of members this
// attempt marked done, once.
func (h *Handler) writeMembers(ctx context.Context, ms []*member, d *delivery) {
	for _, mb := range ms {
		if d.batch {
			mb.ol.batch = d.where
		}
		h.writeEvents(ctx, &mb.ol.events)
		h.logObject(ctx, mb.ol, outcomeName(mb.ol.res.Outcome), mb.ol.res.Err)
	}
}

// noUnit delivers without a ledger: nothing to resume or mark.
type noUnit struct{}

func (noUnit) resume() (resumePoint, bool, error)             { return resumePoint{}, false, nil }
func (noUnit) advance(context.Context, int, metric.Key) error { return nil }
func (noUnit) published(context.Context, int) error           { return nil }
func (noUnit) finish(context.Context, int) (int, error)       { return 0, nil }
func (noUnit) release(context.Context)                        {}

// objectUnit is one object claimed alone (direct delivery).
type objectUnit struct {
	mb   *member
	from resumePoint
	// inputs is what the first progress records of what decided the datums
	// (empty: recorded already); every retry reuses it.
	inputs string
}

func (u *objectUnit) resume() (resumePoint, bool, error) { return u.from, false, nil }

func (u *objectUnit) advance(ctx context.Context, n int, last metric.Key) error {
	if err := u.mb.claim.Advance(ctx, n, encodeKey(last), u.inputs); err != nil {
		return err
	}
	u.inputs = ""
	return nil
}

func (u *objectUnit) finish(ctx context.Context, n int) (int, error) {
	if err := u.mb.claim.Finish(ctx, outcomeName(u.mb.ol.res.Outcome), n); err != nil {
		return 0, err
	}
	return 0, nil
}

func (u *objectUnit) published(context.Context, int) error { return nil }

// release: the object's claim is released with it.
func (u *objectUnit) release(context.Context) {}

// batchUnit is a buffered batch: its item and its members' claims.
type batchUnit struct {
	h  *Handler
	bc *ledger.BatchClaim
	ms []*member
}

func (u *batchUnit) advance(ctx context.Context, n int, last metric.Key) error {
	return u.bc.Advance(ctx, n, encodeKey(last), "")
}

func (u *batchUnit) resume() (resumePoint, bool, error) {
	if u.bc.Complete {
		return resumePoint{batches: u.bc.Resume}, true, nil
	}
	from, err := resumeFrom(u.bc.Claim)
	return from, false, err
}

// published marks the batch complete with the members' outcomes as this
// attempt read them: one gone since the batch was written counted failed
// here, and is so marked by a retry that finds the batch published.
func (u *batchUnit) published(ctx context.Context, n int) error {
	changed := map[string]string{}
	recorded := map[string]string{}
	for _, rm := range u.bc.Record.Members {
		recorded[rm.ID()] = rm.Outcome
	}
	for _, mb := range u.ms {
		if o := mb.ol.res.Outcome; outcomeFrom(recorded[mb.id]) != o {
			changed[mb.id] = outcomeName(o)
		}
	}
	return u.bc.Published(ctx, n, changed)
}

func (u *batchUnit) finish(ctx context.Context, n int) (int, error) {
	for i, mb := range u.ms {
		if mb.claim == nil {
			continue
		}
		if err := mb.claim.Finish(ctx, outcomeName(mb.ol.res.Outcome), 0); err != nil {
			return i, err
		}
	}
	if err := u.bc.Finish(ctx, "processed", n); err != nil {
		// Every member is done: a retry finds them so, and the batch item
		// expires.
		u.h.log.WarnContext(ctx, "batch not marked done", "batch", u.bc.ID, "error", err.Error())
	}
	return 0, nil
}

func (u *batchUnit) release(ctx context.Context) { u.h.release(ctx, u.bc.Claim) }

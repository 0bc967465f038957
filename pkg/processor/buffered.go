package processor

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/ledger"
	"github.com/cognitrail/cognitrail/pkg/notification"
	"github.com/cognitrail/cognitrail/pkg/s3object"
	"github.com/cognitrail/cognitrail/pkg/scan"
	"github.com/cognitrail/cognitrail/pkg/sink"
	"github.com/cognitrail/cognitrail/pkg/trailfile"
)

// member is one object of a buffered batch.
type member struct {
	// msgs are the SQS messages of this event that announced it: none for
	// a member of a resumed batch that this event does not carry.
	msgs  []string
	o     notification.Object
	id    string // the ledger's object id
	claim *ledger.Claim
	ol    *objectLog
	agg   *aggregate.Aggregator
	eng   *finding.Engine
	found []finding.Finding
}

// batchState is what a batch item records for a resumed batch to
// aggregate its members into the same datums.
type batchState struct {
	// Oldest is the aggregation's cut-off (Unix ms; 0: none), judged once:
	// a retry an hour later must not leave out an hour more.
	Oldest int64 `json:"oldest,omitempty"`
	// Folded are the series budget's decisions: another execution
	// environment's budget may answer otherwise.
	Folded []aggregate.Folded `json:"folded,omitempty"`
}

// buffered handles an SQS event in buffered mode: every object of the
// event is aggregated into one aggregation (a batch, see doc.go) published
// once. It returns the messages to retry.
func (h *Handler) buffered(ctx context.Context, ev *notification.Event) (any, error) {
	failed := map[string]bool{}
	skips := aggregate.New(&aggregate.Options{Level: h.opts.Level})
	mskips := map[string]int{}
	var fresh []*member
	resumed := map[string][]*member{}
	byID := map[string]*member{}
	for _, m := range ev.Messages {
		if m.Err != nil {
			h.log.ErrorContext(ctx, "message", "messageId", m.ID, "outcome", "rejected", "error", m.Err.Error())
			failed[m.ID] = true
			continue
		}
		for _, s := range m.Skipped {
			h.logSkip(ctx, m.ID, s.Object, string(s.Reason))
			mskips[m.ID]++
		}
		for _, call := range m.APICalls {
			if err := h.apiCall(ctx, call); err != nil {
				failed[m.ID] = true
			}
		}
		for _, o := range m.Objects {
			if failed[m.ID] {
				break
			}
			if h.ledger != nil && o.Identity() == "" {
				// Nothing to name it by in a batch item before reading it
				// (CloudTrail's SNS message): processed alone, as in direct
				// mode, which claims it by what S3 returns.
				res, err := h.object(ctx, m.ID, o)
				switch {
				case err != nil:
					failed[m.ID] = true
				case res == aggregate.Skipped:
					mskips[m.ID]++
				}
				continue
			}
			mb := &member{msgs: []string{m.ID}, o: o, ol: h.memberLog(m.ID, o)}
			if h.ledger == nil {
				fresh = append(fresh, mb)
				continue
			}
			mb.id = ledger.ObjectID(o.Bucket, o.Key, o.Identity())
			if prev := byID[mb.id]; prev != nil {
				// Announced twice in one event: one claim, and both
				// messages share its fate.
				prev.msgs = append(prev.msgs, m.ID)
				continue
			}
			c, done, err := h.claim(ctx, o.Bucket, o.Key, o.Identity(), mb.ol)
			switch {
			case err != nil:
				failed[m.ID] = true
				continue
			case done:
				mskips[m.ID]++
				continue
			}
			mb.claim = c
			byID[mb.id] = mb
			if c.Batch != "" {
				resumed[c.Batch] = append(resumed[c.Batch], mb)
			} else {
				fresh = append(fresh, mb)
			}
		}
	}
	fail := func(ms []*member) {
		for _, mb := range ms {
			for _, id := range mb.msgs {
				failed[id] = true
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(resumed)) {
		held := resumed[id]
		free, err := h.resumeBatch(ctx, id, held)
		if err != nil {
			fail(held)
		}
		fresh = append(fresh, free...)
	}
	for _, group := range h.groups(fresh) {
		fail(h.newBatch(ctx, group))
	}
	failures := []events.SQSBatchItemFailure{}
	n := 0
	for _, m := range ev.Messages {
		if failed[m.ID] {
			failures = append(failures, events.SQSBatchItemFailure{ItemIdentifier: m.ID})
			continue
		}
		for range mskips[m.ID] {
			skips.AddFile(aggregate.Skipped, h.opts.Now())
			n++
		}
	}
	if n > 0 {
		if err := h.publishAll(ctx, skips.All()); err != nil {
			h.log.WarnContext(ctx, "skip counts not published", "error", err.Error())
		}
	}
	return events.SQSEventResponse{BatchItemFailures: failures}, nil
}

func (h *Handler) memberLog(msgID string, o notification.Object) *objectLog {
	return &objectLog{msgID: msgID, o: o, start: h.opts.Now(), versionID: o.VersionID,
		events: eventLines{max: h.opts.MaxEventLines}}
}

// groups cuts the new members into batches whose ledger items fit, in the
// order of their ids, so that the same objects make the same batches.
func (h *Handler) groups(ms []*member) [][]*member {
	if h.ledger == nil {
		if len(ms) == 0 {
			return nil
		}
		return [][]*member{ms}
	}
	slices.SortFunc(ms, func(x, y *member) int { return cmp.Compare(x.id, y.id) })
	var out [][]*member
	size := 0
	for i, mb := range ms {
		n := len(mb.o.Bucket) + len(mb.o.Key) + len(mb.o.Identity()) + len(mb.o.VersionID) + 96
		if i == 0 || size+n > ledger.MaxBatchRecordBytes/2 {
			out = append(out, nil)
			size = 0
		}
		out[len(out)-1] = append(out[len(out)-1], mb)
		size += n
	}
	return out
}

// newBatch reads, aggregates and publishes a batch of claimed objects no
// batch holds yet. It returns the members that failed transiently (their
// claims released).
func (h *Handler) newBatch(ctx context.Context, ms []*member) []*member {
	oldest := h.oldest()
	if h.opts.MaxDatumAge < 0 {
		oldest = time.Time{}
	}
	overlay := newOverlay(h.findingState(ctx))
	agg := h.newAggregatorAt(oldest)
	var read, failedMs []*member
	for _, mb := range ms {
		if err := h.read(ctx, mb, oldest, overlay); err != nil {
			h.transient(ctx, mb.claim, mb.ol, err)
			failedMs = append(failedMs, mb)
			continue
		}
		agg.Merge(mb.agg)
		read = append(read, mb)
	}
	if len(read) == 0 {
		return failedMs
	}
	if h.opts.Budget != nil {
		if err := agg.ApplyBudget(ctx, h.opts.Budget); err != nil {
			return append(failedMs, h.abandon(ctx, read, nil, fmt.Errorf("processor: batch of %d objects: %w", len(read), err))...)
		}
	}
	var bc *ledger.BatchClaim
	if h.ledger != nil {
		ids := make([]string, len(read))
		rec := ledger.BatchRecord{Members: make([]ledger.Member, len(read))}
		for i, mb := range read {
			ids[i] = mb.id
			rec.Members[i] = ledger.Member{Bucket: mb.o.Bucket, Key: mb.o.Key, Identity: mb.o.Identity(),
				VersionID: mb.o.VersionID, EventTime: mb.o.EventTime}
		}
		st := batchState{Folded: agg.Folded()}
		if !oldest.IsZero() {
			st.Oldest = oldest.UnixMilli()
		}
		raw, err := json.Marshal(st)
		if err != nil {
			return append(failedMs, h.abandon(ctx, read, nil, err)...)
		}
		rec.State = raw
		id := ledger.BatchID(ids)
		bc, err = h.ledger.ClaimBatch(ctx, id, h.lease(ctx), rec)
		if err == nil && bc.Done {
			err = fmt.Errorf("processor: %s is done but its members were not", id)
		}
		if err != nil {
			return append(failedMs, h.abandon(ctx, read, nil, err)...)
		}
		for _, mb := range read {
			if err := mb.claim.Join(ctx, id); err != nil {
				return append(failedMs, h.abandon(ctx, read, bc, err)...)
			}
		}
	}
	return append(failedMs, h.finishBatch(ctx, read, bc, agg, overlay)...)
}

// resumeBatch finishes batch id, which an earlier attempt created, for the
// members held (claimed by this invocation and naming it). It returns the
// members freed when the batch cannot be resumed and was never published
// (they join a new batch), and an error when the held members failed
// transiently (their claims released).
func (h *Handler) resumeBatch(ctx context.Context, id string, held []*member) ([]*member, error) {
	bc, err := h.ledger.ResumeBatch(ctx, id, h.lease(ctx))
	if errors.Is(err, ledger.ErrBatchGone) {
		return h.leave(ctx, held, nil, nil)
	}
	if err != nil {
		h.abandon(ctx, held, nil, err)
		return nil, err
	}
	if bc.Done {
		// Members are finished before their batch, so a running member
		// never names a done batch; if one did, it was counted: finish it.
		for _, mb := range held {
			if err := mb.claim.Finish(ctx, "processed", 0); err != nil {
				h.abandon(ctx, held, nil, err)
				return nil, err
			}
			h.logObject(ctx, mb.ol, "processed", nil)
		}
		return nil, nil
	}
	var st batchState
	if len(bc.Record.State) > 0 {
		if err := json.Unmarshal(bc.Record.State, &st); err != nil {
			err = fmt.Errorf("processor: %s: state: %w", id, err)
			h.abandon(ctx, held, bc, err)
			return nil, err
		}
	}
	heldBy := map[string]*member{}
	for _, mb := range held {
		heldBy[mb.id] = mb
	}
	// Every member, in the recorded order, whether this event carries it
	// or not: the batch is published as a unit.
	var ms, claimed []*member
	for _, rm := range bc.Record.Members {
		if mb := heldBy[rm.ID()]; mb != nil {
			mb.o.EventTime = rm.EventTime
			ms = append(ms, mb)
			continue
		}
		o := notification.Object{Bucket: rm.Bucket, Key: rm.Key, VersionID: rm.VersionID, EventTime: rm.EventTime, Size: -1}
		mb := &member{o: o, id: rm.ID(), ol: h.memberLog("", o)}
		// Not a delivery of this event: a done member is no duplicate to
		// count or log.
		c, err := h.ledger.Claim(ctx, rm.ID(), h.lease(ctx))
		if err != nil {
			h.logObject(ctx, mb.ol, "error", err)
			h.abandon(ctx, append(held, claimed...), bc, err)
			return nil, err
		}
		done := c.Done
		if done {
			c = nil
		} else {
			mb.claim = c
			mb.ol.resumed, mb.ol.attempt = c.Resume, c.Attempt
			claimed = append(claimed, mb)
		}
		if !done && c.Batch == id {
			ms = append(ms, mb)
			continue
		}
		// Done, or never joined: possible only before the batch's first
		// publish, since members join before it. Unpublished, the batch
		// is dissolved; published, a done member was finished by it.
		if !bc.Complete && bc.Resume == 0 {
			return h.leave(ctx, held, claimed, bc)
		}
		if !done {
			ms = append(ms, mb)
		}
	}
	oldest := time.Time{}
	if st.Oldest != 0 {
		oldest = time.UnixMilli(st.Oldest)
	}
	agg := h.newAggregatorAt(oldest)
	overlay := newOverlay(h.findingState(ctx))
	for _, mb := range ms {
		mb.ol.resumed = bc.Resume
	}
	if !bc.Complete {
		for _, mb := range ms {
			if err := h.read(ctx, mb, oldest, overlay); err != nil {
				h.abandon(ctx, ms, bc, err)
				return nil, err
			}
			agg.Merge(mb.agg)
		}
		agg.SetFolded(st.Folded)
		for _, mb := range ms {
			if mb.claim.Batch == id {
				continue
			}
			if err := mb.claim.Join(ctx, id); err != nil {
				h.abandon(ctx, ms, bc, err)
				return nil, err
			}
		}
	}
	if failed := h.finishBatch(ctx, ms, bc, agg, overlay); len(failed) > 0 {
		return nil, fmt.Errorf("processor: %s: resumed batch failed", id)
	}
	return nil, nil
}

// leave dissolves a batch that was never published and cannot be resumed
// as recorded: the held members leave it to join a new batch, the others
// claimed for it are released for their own messages.
func (h *Handler) leave(ctx context.Context, held, claimed []*member, bc *ledger.BatchClaim) ([]*member, error) {
	for _, mb := range held {
		if err := mb.claim.Leave(ctx); err != nil {
			h.abandon(ctx, append(held, claimed...), bc, err)
			return nil, err
		}
	}
	for _, mb := range claimed {
		if err := mb.claim.Leave(ctx); err == nil {
			h.release(ctx, mb.claim)
		}
	}
	if bc != nil {
		// Left unfinished, unpublished: the same objects may make this
		// batch again, and a member whose Leave failed dissolves it again.
		h.release(ctx, bc.Claim)
	}
	h.log.InfoContext(ctx, "batch dissolved", "objects", len(held))
	return held, nil
}

// read reads one member into its own aggregator (dropped whole if the
// read fails half-way). A permanent failure is counted in it, as in
// direct mode; an error is transient.
func (h *Handler) read(ctx context.Context, mb *member, oldest time.Time, state finding.State) error {
	o := mb.o
	scanCtx, cancel := h.scanContext(ctx)
	defer cancel()
	mb.agg = h.newAggregatorAt(oldest)
	obj, err := s3object.Open(scanCtx, h.s3, o.Bucket, o.Key, o.VersionID, &s3object.Options{ExpectedBucketOwner: h.opts.ExpectedBucketOwner})
	if err != nil {
		if !errors.Is(err, s3object.ErrNotFound) {
			return h.deadlineError(ctx, scanCtx, err)
		}
		mb.agg.AddFile(aggregate.Failed, h.at(o.EventTime))
		mb.ol.res = scan.Result{Outcome: aggregate.Failed, Err: err}
		return nil
	}
	defer obj.Body.Close()
	if obj.VersionID != "" {
		mb.ol.versionID = obj.VersionID
	}
	delivered := obj.LastModified
	if delivered.IsZero() {
		delivered = o.EventTime
	}
	mb.eng = finding.New(&finding.Options{State: state, SignInThreshold: h.opts.SignInThreshold})
	mb.ol.events = eventLines{max: h.opts.MaxEventLines}
	mb.found = nil
	res, err := scan.File(scanCtx, obj.Body, mb.agg, &scan.Options{
		Reader: trailfile.Options{Name: "s3://" + o.Bucket + "/" + o.Key,
			MaxUncompressedBytes: h.opts.MaxUncompressedBytes, MaxRecordBytes: h.opts.MaxRecordBytes},
		DeliveredAt: delivered,
		Now:         h.opts.Now,
		OnRecord: func(ev *scan.Event) {
			mb.ol.events.add(ev)
			mb.found = h.collect(mb.found, ev.Findings)
		},
		Clients:  h.opts.Clients,
		Findings: mb.eng,
	})
	mb.ol.res = res
	if res.ClientsErr != nil {
		h.log.WarnContext(ctx, "app clients not resolved", "key", o.Key,
			"unresolved", res.Clients.Unresolved, "error", res.ClientsErr.Error())
	}
	if err != nil {
		return h.deadlineError(ctx, scanCtx, err)
	}
	// The next member of the batch is judged after this one, as one file
	// after another in direct mode; the overlay reaches the shared state
	// only once the batch is done.
	if err := mb.eng.Commit(); err != nil {
		return fmt.Errorf("processor: s3://%s/%s: %w", o.Bucket, o.Key, err)
	}
	return nil
}

// finishBatch publishes agg from bc's progress, marks the members and the
// batch done, then writes the members' event lines and notifications and
// saves the findings state. It returns the members that failed
// transiently.
func (h *Handler) finishBatch(ctx context.Context, ms []*member, bc *ledger.BatchClaim, agg *aggregate.Aggregator, overlay *overlay) []*member {
	bl := &objectLog{start: h.opts.Now(), tooOld: agg.Stats().TooOld}
	id := ""
	if bc != nil {
		id, bl.resumed, bl.attempt = bc.ID, bc.Resume, bc.Attempt
	}
	n := bl.resumed
	if bc == nil || !bc.Complete {
		n = 0
		for batch := range h.sink.Batches(agg.All()) {
			bl.datums += len(batch)
			n++
			if n <= bl.resumed {
				continue
			}
			st, err := h.sink.Publish(ctx, batch)
			bl.stats.Add(st)
			if errors.Is(err, sink.ErrRejected) {
				if bl.rejected == nil {
					bl.rejected = fmt.Errorf("processor: %s: batch %d: %w", id, n, err)
				}
				err = nil
			}
			if err == nil && bc != nil {
				err = bc.Progress(ctx, n)
			}
			if err != nil {
				return h.abandon(ctx, ms, bc, err)
			}
		}
		if bc != nil {
			if err := bc.Published(ctx, n); err != nil {
				return h.abandon(ctx, ms, bc, err)
			}
		}
	}
	bl.batches = n
	for i, mb := range ms {
		if mb.claim == nil {
			continue
		}
		if err := mb.claim.Finish(ctx, outcomeName(mb.ol.res.Outcome), 0); err != nil {
			// Those before are done; the retry finishes the others.
			return h.abandon(ctx, ms[i:], bc, err)
		}
	}
	if bc != nil {
		if err := bc.Finish(ctx, "processed", n); err != nil {
			// Every member is done: a retry finds them so, and the batch
			// item expires.
			h.log.WarnContext(ctx, "batch not marked done", "batch", id, "error", err.Error())
		}
	}
	if err := overlay.commit(); err != nil {
		h.log.WarnContext(ctx, "finding state not saved", "batch", id, "error", err.Error())
	}
	for _, mb := range ms {
		mb.ol.batch = id
		h.writeEvents(ctx, &mb.ol.events)
		if len(mb.found) > 0 {
			h.notify(ctx, mb.o, mb.found)
		}
		h.logObject(ctx, mb.ol, outcomeName(mb.ol.res.Outcome), mb.ol.res.Err)
	}
	h.logBatch(ctx, id, len(ms), bl)
	return nil
}

// abandon releases the claims of a batch that failed transiently (the
// members that joined it stay joined: the retry resumes it) and returns
// the members.
func (h *Handler) abandon(ctx context.Context, ms []*member, bc *ledger.BatchClaim, err error) []*member {
	for _, mb := range ms {
		h.transient(ctx, mb.claim, mb.ol, err)
	}
	if bc != nil {
		h.release(ctx, bc.Claim)
	}
	return ms
}

func (h *Handler) release(ctx context.Context, c *ledger.Claim) {
	if c == nil {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := c.Release(rctx); err != nil {
		h.log.WarnContext(ctx, "claim not released; the retry waits for the lease to expire", "id", c.ID, "error", err.Error())
	}
}

// lease is how long a claim taken now holds.
func (h *Handler) lease(ctx context.Context) time.Time {
	lease := h.opts.Now().Add(DefaultLease)
	if dl, ok := ctx.Deadline(); ok {
		lease = dl
	}
	return lease.Add(h.opts.LeaseGrace)
}

func (h *Handler) newAggregatorAt(oldest time.Time) *aggregate.Aggregator {
	return aggregate.New(&aggregate.Options{Level: h.opts.Level, MaxPools: h.opts.MaxPools, Oldest: oldest})
}

// logBatch writes the one line per published batch.
func (h *Handler) logBatch(ctx context.Context, id string, members int, bl *objectLog) {
	attrs := []slog.Attr{slog.String("outcome", "processed"), slog.Int("objects", members)}
	if id != "" {
		attrs = append(attrs, slog.String("batch", id))
	}
	attrs = append(attrs, slog.Int("datums", bl.datums), slog.Int("batches", bl.batches), slog.Int("requests", bl.stats.Requests))
	level := slog.LevelInfo
	if bl.resumed > 0 {
		attrs = append(attrs, slog.Int("resumedAtBatch", bl.resumed))
	}
	if bl.attempt > 1 {
		attrs = append(attrs, slog.Int("attempt", bl.attempt))
	}
	if bl.tooOld > 0 {
		attrs = append(attrs, slog.Int("recordsTooOld", bl.tooOld))
		level = slog.LevelWarn
	}
	if bl.stats.Dropped > 0 {
		attrs = append(attrs, slog.Int("datumsDroppedTooOld", bl.stats.Dropped))
		level = slog.LevelWarn
	}
	if bl.stats.Rejected > 0 {
		attrs = append(attrs, slog.Int("datumsRejected", bl.stats.Rejected))
		if bl.rejected != nil {
			attrs = append(attrs, slog.String("rejectedError", bl.rejected.Error()))
		}
		level = slog.LevelWarn
	}
	attrs = append(attrs, slog.Int64("durationMs", h.opts.Now().Sub(bl.start).Milliseconds()))
	h.log.LogAttrs(ctx, level, "batch", attrs...)
}

// overlay is the findings state of one batch: each member is judged after
// the members before it, as in direct mode, and the shared state moves on
// only once the batch is done, so a retried batch is judged as the first
// time.
type overlay struct {
	base finding.State
	mu   sync.Mutex
	m    map[string]string
}

func newOverlay(base finding.State) *overlay { return &overlay{base: base, m: map[string]string{}} }

func (o *overlay) Get(key string) (string, bool, error) {
	o.mu.Lock()
	v, ok := o.m[key]
	o.mu.Unlock()
	if ok {
		return v, true, nil
	}
	return o.base.Get(key)
}

func (o *overlay) Put(values map[string]string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	maps.Copy(o.m, values)
	return nil
}

func (o *overlay) commit() error {
	if len(o.m) == 0 {
		return nil
	}
	return o.base.Put(o.m)
}

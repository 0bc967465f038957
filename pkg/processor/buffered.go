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
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/fault"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/ledger"
	"github.com/cognitrail/cognitrail/pkg/notification"
)

// member is one object of a buffered batch.
type member struct {
	// msgs is the SQS message of this event that carries it (a later
	// announcement in the same event is a duplicate): none for a member
	// of a resumed batch that this event does not carry.
	msgs  []string
	o     notification.Object
	id    string // the ledger's object id
	claim *ledger.Claim
	ol    *objectRun
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
	// Clients are the app client pairs the Resolver answered, and Resolved
	// says they were recorded (a batch an earlier version wrote has
	// neither: its retry asks the Resolver again): a warm environment, or
	// a lookup, may answer otherwise on a retry.
	Clients  []clientPair `json:"clients,omitempty"`
	Resolved bool         `json:"resolved,omitempty"`
}

// buffered handles an SQS event in buffered mode: every object of the
// event is aggregated into one aggregation (a batch, see doc.go) published
// once. It returns the messages to retry.
func (h *Handler) buffered(ctx context.Context, ev *notification.Event) (any, error) {
	failed := map[string]bool{}
	mskips := map[string]int{}
	var candidates []*member
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
			if h.ledger != nil {
				mb.id = ledger.ObjectID(o.Bucket, o.Key, o.Identity())
				if byID[mb.id] != nil {
					// Announced again in this event: a duplicate, counted
					// in FilesSkipped as direct mode counts it. The first
					// announcement carries the object, and its message is
					// retried should the object fail.
					h.logSkip(ctx, m.ID, o, "duplicate")
					mskips[m.ID]++
					continue
				}
				byID[mb.id] = mb
			}
			candidates = append(candidates, mb)
		}
	}
	fail := func(ms []*member) {
		for _, mb := range ms {
			for _, id := range mb.msgs {
				failed[id] = true
			}
		}
	}
	groups, err := h.groups(candidates)
	if err != nil {
		fail(candidates)
		groups = nil
	}
	if h.ledger != nil {
		// Claim every object, naming its group's new batch; an object
		// that names an earlier batch is counted by resuming that one.
		resumed := map[string][]*member{}
		for _, g := range groups {
			fresh := g.ms[:0]
			for _, mb := range g.ms {
				c, err := h.ledger.ClaimIn(ctx, mb.id, g.id, h.lease(ctx))
				switch {
				case err != nil:
					h.logObject(ctx, mb.ol, "error", err)
					fail([]*member{mb})
				case c.Done:
					for _, id := range mb.msgs {
						h.logSkip(ctx, id, mb.o, "duplicate", slog.String("previousOutcome", c.Outcome))
						mskips[id]++
					}
				default:
					mb.claim = c
					mb.ol.resumed, mb.ol.attempt = c.Resume, c.Attempt
					if c.Batch == g.id {
						fresh = append(fresh, mb)
					} else {
						resumed[c.Batch] = append(resumed[c.Batch], mb)
					}
				}
			}
			g.ms = fresh
		}
		var free []*member
		for _, id := range slices.Sorted(maps.Keys(resumed)) {
			f, failedMs := h.resumeBatch(ctx, id, resumed[id])
			fail(failedMs)
			free = append(free, f...)
		}
		more, err := h.groups(free)
		if err != nil {
			h.abandon(ctx, free, nil, err)
			fail(free)
		}
		groups = append(groups, more...)
	}
	for _, g := range groups {
		if len(g.ms) > 0 {
			fail(h.newBatch(ctx, g.ms, g.id))
		}
	}
	failures := []events.SQSBatchItemFailure{}
	skips := aggregate.New(&aggregate.Options{Level: h.opts.Level})
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

func (h *Handler) memberLog(msgID string, o notification.Object) *objectRun {
	return &objectRun{msgID: msgID, o: o, start: h.opts.Now(), versionID: o.VersionID,
		events: eventLines{max: h.opts.MaxEventLines}}
}

// group is the objects of one new batch.
type group struct {
	id string
	ms []*member
}

// groups cuts objects into new batches whose ledger items fit, each in the
// order of the objects' ids.
func (h *Handler) groups(ms []*member) ([]*group, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	if h.ledger == nil {
		return []*group{{ms: ms}}, nil
	}
	slices.SortFunc(ms, func(x, y *member) int { return cmp.Compare(x.id, y.id) })
	var out []*group
	size := 0
	for i, mb := range ms {
		n := len(mb.o.Bucket) + len(mb.o.Key) + len(mb.o.Identity()) + len(mb.o.VersionID) + 96
		if i == 0 || size+n > ledger.MaxBatchRecordBytes/2 {
			id, err := h.ledger.NewBatchID()
			if err != nil {
				return nil, err
			}
			out = append(out, &group{id: id})
			size = 0
		}
		g := out[len(out)-1]
		g.ms = append(g.ms, mb)
		size += n
	}
	return out, nil
}

// newBatch reads, aggregates and publishes batch id of claimed objects.
// It returns the members that failed transiently (their claims released).
func (h *Handler) newBatch(ctx context.Context, ms []*member, id string) []*member {
	in, answers := h.judge()
	oldest := in.oldest()
	var clients aggregate.Resolver
	if h.opts.Clients != nil {
		clients = answers
	}
	overlay := newOverlay(h.opts.FindingState)
	agg := h.newAggregatorAt(oldest)
	var read, failedMs []*member
	for _, mb := range ms {
		if err := h.read(ctx, mb, oldest, clients, overlay); err != nil {
			h.transient(ctx, mb.claim, mb.ol, err)
			failedMs = append(failedMs, mb)
			continue
		}
		agg.Merge(mb.agg)
		mb.agg, mb.eng = nil, nil // merged: only the batch's aggregation is kept
		read = append(read, mb)
	}
	if len(read) == 0 {
		return failedMs
	}
	if h.opts.Budget != nil {
		if err := agg.ApplyBudget(ctx, h.opts.Budget); err != nil {
			return append(failedMs, h.abandon(ctx, read, nil, fmt.Errorf("processor: %s: %w", id, err))...)
		}
	}
	var bc *ledger.BatchClaim
	if h.ledger != nil {
		rec := ledger.BatchRecord{Members: make([]ledger.Member, len(read))}
		for i, mb := range read {
			rec.Members[i] = ledger.Member{Bucket: mb.o.Bucket, Key: mb.o.Key, Identity: mb.o.Identity(),
				VersionID: mb.o.VersionID, EventTime: mb.o.EventTime}
			if o := mb.ol.res.Outcome; o != aggregate.Processed {
				rec.Members[i].Outcome = outcomeName(o)
			}
		}
		st := batchState{Oldest: in.Oldest, Folded: agg.Folded()}
		if st.Clients, st.Resolved = fit(answers.pairs()); !st.Resolved {
			h.log.WarnContext(ctx, "app client pairs too many to record: a retry resolves them again", "batch", id)
		}
		raw, err := json.Marshal(st)
		if err != nil {
			return append(failedMs, h.abandon(ctx, read, nil, err)...)
		}
		rec.State = raw
		// The findings go with the batch from the start: a retry that
		// cannot read a member again (gone since) still sends them.
		if rec.Pending, err = h.pending(ctx, read); err != nil {
			return append(failedMs, h.abandon(ctx, read, nil, err)...)
		}
		// Every member names the batch before it is published: those freed
		// from an earlier batch name it now.
		for _, mb := range read {
			if mb.claim.Batch != id {
				if err := mb.claim.Join(ctx, id); err != nil {
					return append(failedMs, h.abandon(ctx, read, nil, err)...)
				}
			}
		}
		if bc, err = h.ledger.ClaimBatch(ctx, id, h.lease(ctx), rec); err != nil {
			return append(failedMs, h.abandon(ctx, read, nil, err)...)
		}
	}
	return append(failedMs, h.finishBatch(ctx, read, bc, agg, overlay)...)
}

// resumeBatch finishes batch id, which an earlier attempt named, for the
// objects held (claimed by this invocation and naming it). It returns the
// held objects the batch does not count (not a member, or the batch was
// never written), free to join a new batch, and those that failed
// transiently (their claims released).
func (h *Handler) resumeBatch(ctx context.Context, id string, held []*member) (free, failed []*member) {
	bc, err := h.ledger.ResumeBatch(ctx, id, h.lease(ctx))
	if errors.Is(err, ledger.ErrBatchGone) {
		return held, nil
	}
	if err != nil {
		return nil, h.abandon(ctx, held, nil, err)
	}
	var listed []*member
	for _, mb := range held {
		if bc.Record.Has(mb.id) && !bc.Done {
			listed = append(listed, mb)
		} else {
			// A done batch finished its members first: a running object
			// naming it is not one.
			free = append(free, mb)
		}
	}
	if bc.Done || len(listed) == 0 {
		if !bc.Done {
			h.release(ctx, bc.Claim)
		}
		return free, nil
	}
	var st batchState
	if len(bc.Record.State) > 0 {
		if err := json.Unmarshal(bc.Record.State, &st); err != nil {
			return free, h.abandon(ctx, listed, bc, fmt.Errorf("processor: %s: state: %w", id, err))
		}
	}
	heldBy := map[string]*member{}
	for _, mb := range listed {
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
		if etag, ok := strings.CutPrefix(rm.Identity, "e:"); ok {
			// Read as claimed: the member's ETag, not whatever the key
			// holds now (see open).
			o.ETag = etag
		}
		mb := &member{o: o, id: rm.ID(), ol: h.memberLog("", o)}
		// Not a delivery of this event: a done member is no duplicate to
		// count or log.
		c, err := h.ledger.Claim(ctx, rm.ID(), h.lease(ctx))
		if err != nil {
			h.logObject(ctx, mb.ol, "error", err)
			h.abandon(ctx, claimed, nil, err)
			return free, h.abandon(ctx, listed, bc, err)
		}
		if c.Done {
			if !bc.Complete && bc.Resume == 0 {
				// Members name the batch before it is published, so
				// nothing else counts them; should one be done anyway,
				// the batch, unpublished, is given up and its objects
				// join a new one.
				h.log.WarnContext(ctx, "batch member counted elsewhere: batch given up", "batch", id, "key", rm.Key)
				for _, c := range claimed {
					h.release(ctx, c.claim)
				}
				h.release(ctx, bc.Claim)
				return append(free, listed...), nil
			}
			continue
		}
		mb.claim = c
		mb.ol.resumed, mb.ol.attempt = c.Resume, c.Attempt
		claimed = append(claimed, mb)
		ms = append(ms, mb)
	}
	for _, mb := range ms {
		mb.ol.resumed = bc.Resume
	}
	if bc.Complete {
		// Published: the members are finished with the outcome judged when
		// the batch was written, or, where it differed, by the attempt
		// that published it.
		outcomes := map[string]string{}
		for _, rm := range bc.Record.Members {
			outcomes[rm.ID()] = rm.Outcome
		}
		for id, o := range bc.Record.Outcomes {
			outcomes[id] = o
		}
		for _, mb := range ms {
			mb.ol.res.Outcome = outcomeFrom(outcomes[mb.id])
		}
	}
	oldest := time.Time{}
	if st.Oldest != 0 {
		oldest = time.UnixMilli(st.Oldest)
	}
	clients := h.opts.Clients
	if st.Resolved {
		clients = newReplay(h.opts.Clients, st.Clients)
	}
	agg := h.newAggregatorAt(oldest)
	overlay := newOverlay(h.opts.FindingState)
	for _, mb := range ms {
		recorded := mb.ol.res.Outcome
		if err := h.read(ctx, mb, oldest, clients, overlay); err != nil {
			return free, h.abandon(ctx, ms, bc, err)
		}
		if bc.Complete {
			// Published: read again for its event lines only, which are
			// written once it is done. Its datums are out, its findings
			// recorded, and its outcome was judged when the batch was
			// written (a member gone since has no lines to write).
			mb.ol.res.Outcome = recorded
		} else {
			agg.Merge(mb.agg)
		}
		mb.agg, mb.eng = nil, nil
	}
	if !bc.Complete {
		agg.SetFolded(st.Folded)
	}
	return free, h.finishBatch(ctx, ms, bc, agg, overlay)
}

// read reads one member into its own aggregator (dropped whole if the
// read fails half-way) and its findings into state (the batch's overlay):
// the next member is judged after this one, as one file after another in
// direct mode, and the overlay reaches the shared state only once the
// batch is done. An error is transient.
func (h *Handler) read(ctx context.Context, mb *member, oldest time.Time, clients aggregate.Resolver, state finding.State) error {
	scanCtx, cancel := h.scanContext(ctx)
	defer cancel()
	obj, err := h.open(scanCtx, mb.o)
	if err != nil && !fault.Permanent(err) {
		return h.deadlineError(ctx, scanCtx, err)
	}
	if err == nil {
		defer obj.Body.Close()
	}
	if err := h.readOpened(ctx, scanCtx, mb, obj, err, oldest, clients, state); err != nil {
		return err
	}
	if mb.eng == nil {
		return nil
	}
	if err := mb.eng.Commit(ctx); err != nil {
		return fmt.Errorf("processor: s3://%s/%s: %w", mb.o.Bucket, mb.o.Key, err)
	}
	return nil
}

// finishBatch delivers a batch (see deliver): its findings, agg from bc's
// progress, the findings state, the members' and the batch's marks, and
// the members' lines. It returns the members that failed transiently.
func (h *Handler) finishBatch(ctx context.Context, ms []*member, bc *ledger.BatchClaim, agg *aggregate.Aggregator, overlay *overlay) []*member {
	d := &delivery{agg: agg, commit: overlay.commit, batch: true,
		log: &objectRun{start: h.opts.Now(), tooOld: agg.Stats().TooOld}}
	var u unit = noUnit{}
	if bc != nil {
		u = &batchUnit{h: h, bc: bc, ms: ms}
		d.where, d.log.resumed, d.log.attempt = bc.ID, bc.Resume, bc.Attempt
	}
	if bc != nil && len(bc.Record.Pending) > 0 {
		// Judged when the batch was written: a member read again since
		// may be gone, or judged against a state that moved on.
		if err := json.Unmarshal(bc.Record.Pending, &d.found); err != nil {
			h.log.ErrorContext(ctx, "batch findings unreadable: not notified", "batch", bc.ID, "error", err.Error())
		}
	} else {
		for _, mb := range ms {
			d.found = append(d.found, mb.found...)
		}
	}
	failed, _ := h.deliver(ctx, u, ms, d)
	return failed
}

// pending is what a batch item records of its members' findings: those a
// notifier may send (none without one). Too many for the item (an attack
// over a large batch) are left out: a retry then reads the members again
// for them.
func (h *Handler) pending(ctx context.Context, ms []*member) (json.RawMessage, error) {
	if h.opts.Notifier == nil {
		return nil, nil
	}
	var found []finding.Finding
	for _, mb := range ms {
		found = append(found, mb.found...)
	}
	if len(found) == 0 {
		return nil, nil
	}
	raw, err := json.Marshal(found)
	if err != nil {
		return nil, fmt.Errorf("processor: findings: %w", err)
	}
	if len(raw) > ledger.MaxPendingBytes {
		h.log.WarnContext(ctx, "batch findings too many to record: a retry reads the members again for them", "findings", len(found))
		return nil, nil
	}
	return raw, nil
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
func (h *Handler) logBatch(ctx context.Context, id string, members int, bl *objectRun) {
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
	// read: the shared state's histories, read once per batch; m: the
	// batch's entries.
	read map[string][]finding.Entry
	m    map[string][]finding.Entry
}

func newOverlay(base finding.State) *overlay {
	return &overlay{base: base, read: map[string][]finding.Entry{}, m: map[string][]finding.Entry{}}
}

func (o *overlay) Get(ctx context.Context, key string) ([]finding.Entry, error) {
	o.mu.Lock()
	h, ok := o.read[key]
	if finding.WindowKey(key) {
		// Read anew: other invocations' counts of the window may have
		// come since (see Put).
		ok = false
	}
	o.mu.Unlock()
	if !ok {
		var err error
		if h, err = o.base.Get(ctx, key); err != nil {
			return nil, err
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.read[key] = h
	// What the shared state will hold once the members before are saved.
	merged, _ := finding.Merge(h, o.m[key])
	return merged, nil
}

// Put holds the batch's entries until commit, but for the provisional
// counts of the windows across files (finding.Provisional), written
// through at once so that files of one attack judged at the same time in
// two invocations meet: they count, but keep no other file from raising
// the attack until committed with the batch.
func (o *overlay) Put(ctx context.Context, entries map[string][]finding.Entry) error {
	through := map[string][]finding.Entry{}
	for k, es := range entries {
		if len(es) > 0 && finding.Provisional(es[0]) {
			through[k] = es
		}
	}
	if len(through) > 0 {
		if err := o.base.Put(ctx, through); err != nil {
			return err
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for k, es := range entries {
		if _, ok := through[k]; !ok {
			o.m[k] = append(o.m[k], es...)
		}
	}
	return nil
}

func (o *overlay) commit(ctx context.Context) error {
	if len(o.m) == 0 {
		return nil
	}
	return o.base.Put(ctx, o.m)
}

package processor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/budget"
	"github.com/cognitrail/cognitrail/pkg/fault"
	"github.com/cognitrail/cognitrail/pkg/finding"
	"github.com/cognitrail/cognitrail/pkg/ledger"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/notification"
	"github.com/cognitrail/cognitrail/pkg/s3object"
	"github.com/cognitrail/cognitrail/pkg/scan"
	"github.com/cognitrail/cognitrail/pkg/sink"
	"github.com/cognitrail/cognitrail/pkg/trailfile"
)

// Sink publishes datums (sink/cloudwatch or sink/emf).
type Sink interface {
	// Batches cuts one file's datums, as they are produced, into batches,
	// deterministically.
	Batches(datums iter.Seq[metric.Datum]) iter.Seq[[]metric.Datum]
	// Publish publishes one batch.
	Publish(ctx context.Context, batch []metric.Datum) (sink.Stats, error)
}

// Defaults for Options.
const (
	// DefaultPublishMargin is the time kept, before the invocation deadline,
	// for publishing what was read (a few PutMetricData calls, with retries)
	// and recording it in the ledger.
	DefaultPublishMargin = 10 * time.Second
	// DefaultLeaseGrace is added to the invocation deadline for the ledger
	// lease, so that a claim outlives its invocation only briefly.
	DefaultLeaseGrace = 30 * time.Second
	// DefaultLease is the lease when the context has no deadline (the CLI):
	// Lambda's longest timeout.
	DefaultLease = 15 * time.Minute
)

// Options configure a Handler. The zero value uses the defaults.
type Options struct {
	// Level, MaxPools: see aggregate.Options.
	Level    metric.Level
	MaxPools int
	// MaxUncompressedBytes is the per-file zip-bomb guard; zero means
	// trailfile.DefaultMaxUncompressedBytes.
	MaxUncompressedBytes int64
	// MaxRecordBytes is the per-record limit (a longer record is counted
	// invalid and passed over); zero means trailfile.DefaultMaxRecordBytes.
	MaxRecordBytes int
	// MaxDatumAge is how old a datum CloudWatch accepts (the sink's
	// AgeFilter): zero means sink.DefaultMaxAge, negative no limit. Records
	// older are not aggregated at all (counted, and logged as
	// recordsTooOld), so that a backfilled month costs the memory of the
	// weeks published.
	MaxDatumAge time.Duration
	// ExpectedBucketOwner: see s3object.Options.
	ExpectedBucketOwner string
	PublishMargin       time.Duration
	LeaseGrace          time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives the JSON log lines; nil means slog.Default(). Its
	// level filters every line but the event lines (cognito_event, finding),
	// which are written at any level, unless EventLinesFollowLevel.
	Logger *slog.Logger
	// EventLinesFollowLevel makes the event lines obey Logger's level like
	// the others: for the command line, whose logs feed no query or rule.
	EventLinesFollowLevel bool
	// Clients, when set, resolves app client ids to user pools beyond each
	// file (clientpool.Resolver), shared by every invocation.
	Clients aggregate.Resolver
	// Budget, when set, bounds the distinct values of the budgeted
	// dimensions that get their own series each month (see pkg/budget),
	// shared by every invocation.
	Budget budget.Budget
	// FindingState keeps the recent values of each watched setting (see
	// pkg/finding); nil means a finding.MemoryState owned by the Handler,
	// which lives as long as the Lambda execution environment, so a
	// restated setting may be raised again (previous "unknown") after a
	// cold start.
	FindingState finding.State
	// MaxEventLines bounds the event lines one object keeps until it is
	// done; zero means DefaultMaxEventLines.
	MaxEventLines int
	// SignInThreshold: see finding.Options; zero means its default.
	SignInThreshold int
	// Windows: the attacks across files (finding.Windows); zero fields
	// mean their defaults.
	Windows finding.Windows
	// Notifier, when set, is handed each object's findings once the object
	// is published and marked done.
	Notifier Notifier
	// Buffered makes an SQS event one batch: every object of it is
	// aggregated into one aggregation, published once (see doc.go for the
	// ledger protocol). The other event shapes are handled as without it.
	Buffered bool
}

// Handler processes invocation events.
type Handler struct {
	s3     s3object.API
	sink   Sink
	ledger *ledger.Ledger
	opts   Options
	log    *slog.Logger
	// events writes the event lines through log's handler, past its level.
	events *slog.Logger
}

// New returns a Handler. l may be nil: idempotency is then off.
func New(s3 s3object.API, sk Sink, l *ledger.Ledger, opts *Options) *Handler {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.PublishMargin <= 0 {
		o.PublishMargin = DefaultPublishMargin
	}
	if o.LeaseGrace <= 0 {
		o.LeaseGrace = DefaultLeaseGrace
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.FindingState == nil {
		o.FindingState = finding.NewMemoryState()
	}
	if o.MaxEventLines <= 0 {
		o.MaxEventLines = DefaultMaxEventLines
	}
	events := slog.New(unfiltered{o.Logger.Handler()})
	if o.EventLinesFollowLevel {
		events = o.Logger
	}
	return &Handler{s3: s3, sink: sk, ledger: l, opts: o, log: o.Logger, events: events}
}

// Summary is the handler's response to the event shapes other than SQS
// (which gets batchItemFailures).
type Summary struct {
	Shape notification.Shape `json:"shape"`
	// Objects counts every object announced (not a test event, which
	// names none, though it is counted in Skipped).
	Objects   int `json:"objects"`
	Processed int `json:"processed"`
	Skipped   int `json:"skipped"`
	Failed    int `json:"failed"`
	// APICalls counts "AWS API Call via CloudTrail" events evaluated.
	APICalls int `json:"apiCalls,omitempty"`
}

// Handle processes one invocation event. For SQS it returns an
// events.SQSEventResponse listing the messages to retry and never an error
// (the function's event source mapping must report batch item failures);
// for S3 Batch Operations an events.S3BatchJobResponse with a result code
// per task and never an error; for the other shapes a Summary, and an error
// when some object failed transiently, so that Lambda retries the event.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	ev, err := notification.Parse(raw)
	if err != nil {
		h.log.ErrorContext(ctx, "event", "outcome", "rejected", "error", err.Error())
		return nil, err
	}
	if h.opts.Buffered && ev.Shape == notification.ShapeSQS {
		return h.buffered(ctx, ev)
	}
	sum := Summary{Shape: ev.Shape}
	// Empty, not null: "no failures" reads the same to Lambda, and better to people.
	failures := []events.SQSBatchItemFailure{}
	var errs []error
	skips := aggregate.New(&aggregate.Options{Level: h.opts.Level})
	var tasks []events.S3BatchJobResult
	for _, m := range ev.Messages {
		mskips := 0
		var tally taskTally
		err := m.Err
		if err != nil {
			h.log.ErrorContext(ctx, "message", "messageId", m.ID, "outcome", "rejected", "error", err.Error())
		}
		for _, s := range m.Skipped {
			h.logSkip(ctx, m.ID, s.Object, string(s.Reason))
			if s.Object.Key != "" {
				// An object announced, skipped by its key (a digest
				// file, a folder) without being read; a test event
				// names none.
				sum.Objects++
			}
			mskips++
		}
		for _, o := range m.Objects {
			if err != nil && ev.Shape == notification.ShapeSQS {
				// The message will be retried whole; don't start more of it.
				break
			}
			sum.Objects++
			res, oerr := h.object(ctx, m.ID, o)
			switch {
			case oerr != nil:
				err = errors.Join(err, oerr)
			case res == aggregate.Skipped:
				mskips++
			case res == aggregate.Failed:
				sum.Failed++
				tally.failed++
			default:
				sum.Processed++
				tally.processed++
			}
		}
		for _, call := range m.APICalls {
			if err != nil && ev.Shape == notification.ShapeSQS {
				break
			}
			sum.APICalls++
			err = errors.Join(err, h.apiCall(ctx, call))
		}
		if ev.Batch != nil {
			tasks = append(tasks, batchResult(m, tally, mskips, err))
		}
		if err != nil {
			errs = append(errs, err)
			if m.ID != "" {
				failures = append(failures, events.SQSBatchItemFailure{ItemIdentifier: m.ID})
			}
			// Its skips are counted when the retry succeeds.
			continue
		}
		sum.Skipped += mskips
		for range mskips {
			skips.AddFile(aggregate.Skipped, h.opts.Now())
		}
	}
	// SQS messages and batch tasks are retried one by one: the skips of the
	// others are counted now.
	perMessage := ev.Shape == notification.ShapeSQS || ev.Batch != nil
	if sum.Skipped > 0 && (len(errs) == 0 || perMessage) {
		if err := h.publishAll(ctx, skips.All()); err != nil {
			// Losing a skip count is better than retrying files for it.
			h.log.WarnContext(ctx, "skip counts not published", "error", err.Error())
		}
	}
	if ev.Shape == notification.ShapeSQS {
		return events.SQSEventResponse{BatchItemFailures: failures}, nil
	}
	if ev.Batch != nil {
		return batchResponse(ev.Batch, tasks), nil
	}
	if len(errs) > 0 {
		return sum, errors.Join(errs...)
	}
	return sum, nil
}

func (h *Handler) publishAll(ctx context.Context, datums iter.Seq[metric.Datum]) error {
	for b := range h.sink.Batches(datums) {
		if _, err := h.sink.Publish(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// objectRun is what one run over an object did and found: its result, what
// it published, its event lines, its findings; its log line is written from
// it.
type objectRun struct {
	msgID     string
	o         notification.Object
	start     time.Time
	res       scan.Result
	datums    int
	batches   int
	resumed   int
	attempt   int
	stats     sink.Stats
	versionID string
	// rejected is the first batch CloudWatch refused as invalid: logged
	// once, with the object's line.
	rejected error
	// events are the object's event lines, written once it is done.
	events eventLines
	// tooOld counts what was not aggregated for being older than
	// CloudWatch accepts.
	tooOld int
	// batch is the buffered batch that published the object.
	batch string
}

// object processes one object. It returns the file's outcome, or an error
// when it failed transiently (nothing is then counted for it).
func (h *Handler) object(ctx context.Context, msgID string, o notification.Object) (aggregate.FileOutcome, error) {
	mb := &member{o: o, ol: h.memberLog(msgID, o)}
	ol := mb.ol
	scanCtx, cancel := h.scanContext(ctx)
	defer cancel()

	if h.ledger != nil && o.Identity() != "" {
		c, done, err := h.claim(ctx, o.Bucket, o.Key, o.Identity(), ol)
		if err != nil || done {
			return aggregate.Skipped, err
		}
		mb.claim = c
	}
	at, err := h.attemptOf(mb.claim)
	if err != nil {
		return 0, h.transient(ctx, mb.claim, ol, err)
	}
	obj, openErr := h.open(scanCtx, o)
	switch {
	case openErr != nil && !fault.Permanent(openErr):
		return 0, h.transient(ctx, mb.claim, ol, h.deadlineError(ctx, scanCtx, openErr))
	case openErr != nil && h.ledger != nil && mb.claim == nil:
		// Without an identity there is nothing to claim; the object is
		// gone anyway, so counting it failed once per delivery is all
		// that can be done.
		h.log.WarnContext(ctx, "object not found and no version to record", "bucket", o.Bucket, "key", o.Key)
	case openErr == nil:
		defer obj.Body.Close()
		if h.ledger != nil && mb.claim == nil {
			// The notification did not identify the version (CloudTrail's
			// SNS message): claim by what S3 returned before reading the
			// body.
			if obj.Identity() == "" {
				return 0, h.transient(ctx, nil, ol, errors.New("processor: S3 returned neither a version id nor an ETag"))
			}
			c, done, err := h.claim(ctx, o.Bucket, o.Key, obj.Identity(), ol)
			if err != nil || done {
				return aggregate.Skipped, err
			}
			mb.claim = c
			if at, err = h.attemptOf(mb.claim); err != nil {
				return 0, h.transient(ctx, mb.claim, ol, err)
			}
		}
	}
	// One engine per object (objects may be processed concurrently), over
	// the Handler's shared state.
	if err := h.readOpened(ctx, scanCtx, mb, obj, openErr, at.in.oldest(), at.clients, h.opts.FindingState); err != nil {
		return 0, h.transient(ctx, mb.claim, ol, err)
	}
	where := "s3://" + o.Bucket + "/" + o.Key
	if h.opts.Budget != nil {
		if err := mb.agg.ApplyBudget(ctx, h.opts.Budget); err != nil {
			return 0, h.transient(ctx, mb.claim, ol, fmt.Errorf("processor: %s: %w", where, err))
		}
	}
	d := &delivery{where: where, agg: mb.agg, found: mb.found, log: ol}
	if mb.eng != nil {
		d.commit = mb.eng.Commit
	}
	var u unit = noUnit{}
	if mb.claim != nil {
		ou := &objectUnit{mb: mb, from: at.from}
		if mb.claim.Inputs == "" {
			// The first progress records what decided these datums; from
			// then on every retry reuses it.
			in := at.in
			var ok bool
			if in.Clients, ok = fit(at.rec.pairs()); !ok {
				in.Unrecorded = true
				h.log.WarnContext(ctx, "app client pairs too many to record: a retry resolves them again", "key", o.Key)
			}
			raw, err := json.Marshal(in)
			if err != nil {
				return 0, h.transient(ctx, mb.claim, ol, err)
			}
			ou.inputs = string(raw)
		}
		u = ou
	}
	if _, err := h.deliver(ctx, u, []*member{mb}, d); err != nil {
		return 0, err
	}
	return ol.res.Outcome, nil
}

// open opens the version of o that was claimed: the version id, else the
// ETag as If-Match, so that a key overwritten since the notification is not
// read as the newer content under the older one's claim (the newer content
// has a notification, and a claim, of its own). A version overwritten is
// s3object.ErrOverwritten, an ErrNotFound: counted failed, logged, done.
func (h *Handler) open(ctx context.Context, o notification.Object) (*s3object.Object, error) {
	opts := &s3object.Options{ExpectedBucketOwner: h.opts.ExpectedBucketOwner}
	if o.VersionID == "" {
		opts.IfMatch = o.ETag
	}
	return s3object.Open(ctx, h.s3, o.Bucket, o.Key, o.VersionID, opts)
}

// readOpened is the read stage, the one way both delivery modes read a
// file: an opened object, or the permanent failure to open it (counted
// failed), into mb's own aggregator cut at oldest, a finding engine over
// state, its findings and its event lines, with clients (nil: none)
// resolving app clients. No ledger, no sink: what it makes is delivered
// after. An error is transient.
func (h *Handler) readOpened(ctx, scanCtx context.Context, mb *member, obj *s3object.Object, openErr error,
	oldest time.Time, clients aggregate.Resolver, state finding.State) error {
	o := mb.o
	mb.agg = h.newAggregatorAt(oldest)
	mb.eng, mb.found = nil, nil
	mb.ol.events = eventLines{max: h.opts.MaxEventLines}
	if openErr != nil {
		mb.agg.AddFile(aggregate.Failed, h.at(o.EventTime))
		mb.ol.res = scan.Result{Outcome: aggregate.Failed, Err: openErr}
		mb.ol.tooOld = mb.agg.Stats().TooOld
		return nil
	}
	if obj.VersionID != "" {
		mb.ol.versionID = obj.VersionID
	}
	mb.eng = finding.New(&finding.Options{State: state, SignInThreshold: h.opts.SignInThreshold, Windows: h.opts.Windows})
	delivered := obj.LastModified
	if delivered.IsZero() {
		delivered = o.EventTime
	}
	res, err := scan.File(scanCtx, obj.Body, mb.agg, &scan.Options{
		Reader: trailfile.Options{Name: "s3://" + o.Bucket + "/" + o.Key,
			MaxUncompressedBytes: h.opts.MaxUncompressedBytes, MaxRecordBytes: h.opts.MaxRecordBytes},
		DeliveredAt: delivered,
		Now:         h.opts.Now,
		OnRecord: func(ev *scan.Event) {
			mb.ol.events.add(ev)
			// Kept apart from the event lines, whose cap must not drop
			// notifications.
			mb.found = h.collect(mb.found, ev.Findings)
		},
		Clients:  clients,
		Findings: mb.eng,
	})
	mb.ol.res = res
	if res.ClientsErr != nil {
		// The calls stay counted, under ClientId: never a reason to fail.
		h.log.WarnContext(ctx, "app clients not resolved", "key", o.Key,
			"unresolved", res.Clients.Unresolved, "error", res.ClientsErr.Error())
	}
	if err != nil {
		return h.deadlineError(ctx, scanCtx, err)
	}
	// The windows across files, judged at the end of the file: notified
	// and logged as the others.
	for _, fd := range res.Findings {
		mb.found = h.collect(mb.found, []finding.Finding{fd.Finding})
		mb.ol.events.addFinding(fd.Finding)
	}
	// A per-address finding is raised on the record that crosses the
	// threshold, and the address may go on failing: the notification and
	// the line say its total in the file, the same on every attempt.
	for i := range mb.found {
		mb.eng.Recount(&mb.found[i])
	}
	for i := range mb.ol.events.findings {
		mb.eng.Recount(&mb.ol.events.findings[i])
	}
	// On the object's line in both modes (a batch's line has the batch's
	// sum): which file was too old is what a reader looks for.
	mb.ol.tooOld = mb.agg.Stats().TooOld
	return nil
}

// oldest is the oldest time worth aggregating: the sink's age filter,
// judged now, would drop anything older when it publishes, later.
func (h *Handler) oldest() time.Time {
	return sink.AgeFilter{MaxAge: h.opts.MaxDatumAge}.Oldest(h.opts.Now())
}

// claim claims one object version; done reports an object already
// processed (logged and to be counted as skipped).
func (h *Handler) claim(ctx context.Context, bucket, key, identity string, ol *objectRun) (*ledger.Claim, bool, error) {
	lease := h.opts.Now().Add(DefaultLease)
	if dl, ok := ctx.Deadline(); ok {
		lease = dl
	}
	c, err := h.ledger.Claim(ctx, ledger.ObjectID(bucket, key, identity), lease.Add(h.opts.LeaseGrace))
	if err != nil {
		return nil, false, h.transient(ctx, nil, ol, err)
	}
	if c.Done {
		h.logSkip(ctx, ol.msgID, ol.o, "duplicate", slog.String("previousOutcome", c.Outcome))
		return nil, true, nil
	}
	ol.resumed, ol.attempt = c.Resume, c.Attempt
	return c, false, nil
}

// publishFrom publishes agg's datums after from, calling progress (when
// not nil) after each batch with the number of batches published in all
// and the key of the batch's last datum, and returns that number. The
// datums come out in key order (metric.Key), so those published before
// are passed over by key, and the rest cut into batches as they are
// produced: a month of minutes is never held at once. An item that
// recorded only a count (an earlier version) is resumed by count, as that
// version would have. where names the file or batch in the error of a
// refused batch.
func (h *Handler) publishFrom(ctx context.Context, agg *aggregate.Aggregator, ol *objectRun, where string,
	from resumePoint, progress func(context.Context, int, metric.Key) error) (int, error) {
	datums, skipBatches, n := agg.All(), from.batches, 0
	if from.after != nil {
		after, all := *from.after, datums
		skipBatches, n = 0, from.batches
		datums = func(yield func(metric.Datum) bool) {
			for d := range all {
				if metric.KeyOf(&d).Compare(after) <= 0 {
					ol.datums++
					continue
				}
				if !yield(d) {
					return
				}
			}
		}
	}
	for batch := range h.sink.Batches(datums) {
		ol.datums += len(batch)
		n++
		if n <= skipBatches {
			continue
		}
		st, err := h.sink.Publish(ctx, batch)
		ol.stats.Add(st)
		if fault.Permanent(err) {
			// Permanent: the same batch is refused on every retry, and
			// failing the file for it would hold back the batches after
			// it until the DLQ. Counted, logged once, passed over.
			if ol.rejected == nil {
				ol.rejected = fmt.Errorf("processor: %s: batch %d: %w", where, n, err)
			}
			err = nil
		}
		if err == nil && progress != nil {
			err = progress(ctx, n, metric.KeyOf(&batch[len(batch)-1]))
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// transient logs a failure a retry may cure, releases the claim and returns
// the error.
func (h *Handler) transient(ctx context.Context, claim *ledger.Claim, ol *objectRun, err error) error {
	if !errors.Is(err, ledger.ErrLeaseLost) {
		h.release(ctx, claim)
	}
	h.logObject(ctx, ol, "error", err)
	return err
}

// scanContext bounds reading so that PublishMargin is left before the
// invocation's deadline.
func (h *Handler) scanContext(ctx context.Context) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, dl.Add(-h.opts.PublishMargin))
}

// deadlineError explains an error caused by the reading deadline.
func (h *Handler) deadlineError(ctx, scanCtx context.Context, err error) error {
	if scanCtx.Err() != nil && ctx.Err() == nil {
		return fmt.Errorf("processor: stopped reading %d ms before the invocation deadline to leave time to publish: %w",
			h.opts.PublishMargin.Milliseconds(), err)
	}
	return err
}

func (h *Handler) at(t time.Time) time.Time {
	if t.IsZero() {
		return h.opts.Now()
	}
	return t
}

func outcomeName(o aggregate.FileOutcome) string {
	switch o {
	case aggregate.Skipped:
		return "skipped"
	case aggregate.Failed:
		return "failed"
	}
	return "processed"
}

// outcomeFrom reads back what outcomeName wrote (empty: processed).
func outcomeFrom(name string) aggregate.FileOutcome {
	switch name {
	case "skipped":
		return aggregate.Skipped
	case "failed":
		return aggregate.Failed
	}
	return aggregate.Processed
}

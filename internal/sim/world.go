package sim

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/cognitrail/cognitrail/pkg/alert"
	"github.com/cognitrail/cognitrail/pkg/budget"
	"github.com/cognitrail/cognitrail/pkg/clientpool"
	"github.com/cognitrail/cognitrail/pkg/ledger"
	"github.com/cognitrail/cognitrail/pkg/metric"
	"github.com/cognitrail/cognitrail/pkg/processor"
	"github.com/cognitrail/cognitrail/pkg/sink"
	"github.com/cognitrail/cognitrail/pkg/sink/cloudwatch"
)

// Config is one simulation run. Everything it does follows from Seed.
type Config struct {
	Seed int64
	// Templates are published CloudTrail records (pkg/class/testdata/aws)
	// the trail files are made of, by file name without ".json".
	Templates map[string]json.RawMessage
	// Trace, when set, receives every step.
	Trace io.Writer
	// Script, when set, picks the fault of each call instead of the seed
	// (n counts the calls of op so far, from 1): a scripted test.
	Script func(op string, n int) Fault
}

const (
	bucket  = "trail-bucket"
	table   = "cognitrail-sim"
	topic   = "arn:aws:sns:us-east-1:123456789012:findings"
	account = "123456789012"
	lease   = processor.DefaultLease + processor.DefaultLeaseGrace
)

// start is the simulated clock's origin: fixed, so a seed replays exactly.
var start = time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)

// World is the simulated account: the models, the clock, the execution
// environments and what was delivered.
type World struct {
	cfg Config
	// pools are the client -> pool pairs the templates teach.
	pools map[string]string
	rng   *rand.Rand
	now   time.Time
	db    *DB
	s3    *S3
	cw    *CloudWatch
	sns   *SNS
	logs  bytes.Buffer
	log   *slog.Logger
	envs  []*environment
	trace func(a *attempt, format string, args ...any)

	// Run parameters, drawn from the seed.
	buffered bool
	level    metric.Level
	// requestDatums caps a PutMetricData request's datums.
	requestDatums int
	faultRate     float64
	faulty        bool

	// What the world did, for the invariants.
	versions      []*objectVersion
	lostPuts      []*cw.PutMetricDataInput
	lostPublishes []*sns.PublishInput
	attempts      []*attempt
	lastCrash     time.Time
	lastTrouble   time.Time
	yielded       chan *attempt
	steps         int
	msgSeq        int
	linesLost     map[string]bool
	everRead      map[string]bool           // key|version|etag of the versions S3 served
	eventVersion  map[string]*objectVersion // by event id, the version holding it
	calls         map[string]int
	story         []storyRecord
	recordClock   time.Time
}

// objectVersion is one object version a notification announced.
type objectVersion struct {
	key, versionID, etag string
	body                 []byte
	at                   time.Time
	// must are the findings its records raise whatever the state
	// (per-file sign-in findings, guest access on a new pool): they must
	// be logged and notified once, never lost.
	must []findingKey
	// story: part of the configuration story (never overwritten).
	story bool
	// seen is when an attempt first carried its notification; done when
	// the ledger was first seen holding it done, and doneCrash whether an
	// attempt crashed in that round (its state may not be saved).
	seen, done time.Time
	doneCrash  bool
}

type environment struct {
	id int
	h  *processor.Handler
}

type attempt struct {
	id       int
	env      *environment
	event    json.RawMessage
	messages []message
	resume   chan struct{}
	finished bool
	crashed  string
	panicked string
	surfaced int
	result   any
	err      error
	// concurrent: another attempt ran beside it.
	concurrent bool
	start      time.Time
	// falseError: it failed with no fault to explain it.
	falseError bool
	// lastPut is its last PutMetricData request CloudWatch applied that
	// no progress write has recorded yet, and putUnit the item that
	// records its progress (the object's or the batch's: the last one the
	// attempt wrote before it, lastUnit).
	putUnit, lastUnit string
	lastPut           *cw.PutMetricDataInput
	// published are the messages SNS accepted from it.
	published []*sns.PublishInput
}

type attemptKey struct{}

func attemptOf(ctx context.Context) *attempt {
	a, _ := ctx.Value(attemptKey{}).(*attempt)
	if a == nil {
		panic("sim: a call outside an attempt")
	}
	return a
}

// message is one S3 notification (an SQS message in buffered mode).
type message struct {
	id string
	v  *objectVersion
}

// LoadTemplates reads the published records of dir.
func LoadTemplates(dir string) (map[string]json.RawMessage, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	out := map[string]json.RawMessage{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		out[filepath.Base(p[:len(p)-len(".json")])] = b
	}
	return out, nil
}

func newWorld(cfg Config) *World {
	w := &World{cfg: cfg, pools: clientPools(cfg.Templates), rng: rand.New(rand.NewSource(cfg.Seed)), now: start, db: NewDB(),
		cw: &CloudWatch{}, sns: &SNS{}, yielded: make(chan *attempt),
		linesLost: map[string]bool{}, calls: map[string]int{}, eventVersion: map[string]*objectVersion{},
		everRead: map[string]bool{}}
	w.log = slog.New(slog.NewJSONHandler(&w.logs, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: lambdacontext.ReplaceAttr}))
	w.trace = func(a *attempt, format string, args ...any) {
		if cfg.Trace == nil {
			return
		}
		id := 0
		if a != nil {
			id = a.id
		}
		fmt.Fprintf(cfg.Trace, "%s a%-3d %s\n", w.now.Format("15:04:05.000"), id, fmt.Sprintf(format, args...))
	}
	w.buffered = w.rng.Intn(2) == 0
	w.s3 = NewS3(w.rng.Intn(2) == 0)
	w.level = []metric.Level{metric.Basic, metric.Standard, metric.Full}[w.rng.Intn(3)]
	w.faultRate = []float64{0, 0.02, 0.05, 0.1, 0.2}[w.rng.Intn(5)]
	// Requests as large as CloudWatch takes, or small, so that a file's
	// resume points fall everywhere in its datums.
	w.requestDatums = []int{cloudwatch.MaxDatumsPerRequest, 40, 7}[w.rng.Intn(3)]
	w.trace(nil, "seed %d: buffered=%v versioned=%v level=%s faultRate=%.2f datums/request=%d", cfg.Seed, w.buffered, w.s3.versioned, w.level, w.faultRate, w.requestDatums)
	return w
}

// coldStart makes a new execution environment: its memory (client pairs,
// caches) starts empty; the table, bucket and services are the world's.
func (w *World) coldStart() *environment {
	db := faultDB{w}
	bud, err := budget.NewDynamo(db, table, budget.DefaultMax)
	if err != nil {
		panic(err)
	}
	now := func() time.Time { return w.now }
	h := processor.New(faultS3{w}, cloudwatch.New(faultCW{w}, &cloudwatch.Options{Age: sink.AgeFilter{Now: now}, MaxDatums: w.requestDatums}), ledger.New(db, ledger.Options{Table: table, Now: now, Rand: w.rng}),
		&processor.Options{
			Level:        w.level,
			Now:          now,
			Logger:       w.log,
			Clients:      clientpool.New(&clientpool.Options{}),
			Budget:       bud,
			FindingState: ledger.NewSettings(db, ledger.Options{Table: table, Now: now}),
			Notifier: alert.New(faultSNS{w}, alert.Options{TopicARN: topic,
				Dedup: ledger.NewNotices(db, ledger.Options{Table: table, Now: now})}),
			Buffered: w.buffered,
		})
	e := &environment{id: len(w.envs) + 1, h: h}
	w.envs = append(w.envs, e)
	w.trace(nil, "cold start: environment %d", e.id)
	return e
}

// yield is every call's scheduling point: the attempt waits for its turn,
// then the call's fault is drawn.
func (w *World) yield(a *attempt, op string, write bool) Fault {
	w.yielded <- a
	<-a.resume
	w.steps++
	w.now = w.now.Add(time.Duration(1+w.rng.Intn(40)) * time.Millisecond)
	f := None
	if w.cfg.Script != nil {
		w.calls[op]++
		f = w.cfg.Script(op, w.calls[op])
	} else if w.faulty && w.rng.Float64() < w.faultRate {
		f = Fault(1 + w.rng.Intn(int(numFaults)-1))
		if !write && (f == LostRetried || f == Lost) {
			// A read that loses its answer is only a read sent again.
			f = None
		}
	}
	if f.surfaced() {
		a.surfaced++
	}
	if f != None {
		w.trace(a, "%s: %s", op, f)
	} else {
		w.trace(a, "%s", op)
	}
	return f
}

// run runs attempts side by side, one step at a time in an order drawn
// from the seed: between two calls to a service only one of them runs, so
// the interleaving, not the Go scheduler, decides what happens.
func (w *World) run(as []*attempt) {
	for _, a := range as {
		a.resume = make(chan struct{})
		a.concurrent = len(as) > 1
		w.attempts = append(w.attempts, a)
		go w.body(a)
		<-w.yielded // started, waiting for its first turn
	}
	waiting := slices.Clone(as)
	for len(waiting) > 0 {
		i := w.rng.Intn(len(waiting))
		a := waiting[i]
		a.resume <- struct{}{}
		if b := <-w.yielded; b != a {
			panic("sim: an attempt ran out of turn")
		}
		if a.finished {
			waiting = slices.Delete(waiting, i, i+1)
		}
	}
}

func (w *World) body(a *attempt) {
	w.yielded <- a
	<-a.resume
	doneBefore := w.done()
	defer func() {
		if r := recover(); r != nil {
			if c, ok := r.(crash); ok {
				a.crashed = c.op
				w.lastCrash = w.now
				// The event lines are written once an object is done, so
				// that a retry never writes them twice: a crash after an
				// object was marked done loses its lines (by choice, see
				// package processor), not its notifications.
				for id := range w.done() {
					if !doneBefore[id] {
						w.linesLost[id] = true
					}
				}

				w.trace(a, "crashed at %s", c.op)
			} else {
				a.panicked = fmt.Sprintf("%v\n%s", r, debug.Stack())
			}
		}
		a.finished = true
		w.yielded <- a
	}()
	ctx := context.WithValue(context.Background(), attemptKey{}, a)
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: fmt.Sprintf("attempt-%d", a.id)})
	a.result, a.err = a.env.h.Handle(ctx, a.event)
	w.trace(a, "returned %s", describe(a.result, a.err))
}

func describe(res any, err error) string {
	b, _ := json.Marshal(res)
	if err != nil {
		return fmt.Sprintf("%s error: %v", b, err)
	}
	return string(b)
}

// trailKey names a trail file as CloudTrail does.
func trailKey(n int, at time.Time) string {
	return fmt.Sprintf("AWSLogs/%s/CloudTrail/us-east-1/%s/%s_CloudTrail_us-east-1_%sZ_sim%04d.json.gz",
		account, at.Format("2006/01/02"), account, at.Format("20060102T1504"), n)
}

// s3Record is the notification of one version.
func (w *World) s3Record(v *objectVersion) events.S3EventRecord {
	r := events.S3EventRecord{EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: "us-east-1",
		EventTime: v.at, EventName: "ObjectCreated:Put"}
	r.S3.Bucket.Name = bucket
	r.S3.Bucket.Arn = "arn:aws:s3:::" + bucket
	r.S3.Object.Key = v.key
	r.S3.Object.Size = int64(len(v.body))
	r.S3.Object.ETag = v.etag
	r.S3.Object.VersionID = v.versionID
	r.S3.Object.Sequencer = fmt.Sprintf("%016X", v.at.UnixNano())
	return r
}

// event builds the invocation event carrying msgs.
func (w *World) event(msgs []message) json.RawMessage {
	if !w.buffered {
		b, err := json.Marshal(events.S3Event{Records: []events.S3EventRecord{w.s3Record(msgs[0].v)}})
		if err != nil {
			panic(err)
		}
		return b
	}
	var ev events.SQSEvent
	for _, m := range msgs {
		body, err := json.Marshal(events.S3Event{Records: []events.S3EventRecord{w.s3Record(m.v)}})
		if err != nil {
			panic(err)
		}
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: m.id, Body: string(body),
			EventSource: "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:" + account + ":buffer", AWSRegion: "us-east-1"})
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return b
}

// writers keeps gzip writers between files: a new one allocates about
// 800 KB, most of a small trail file's cost in the simulation.
var writers = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// gz compresses a trail file.
func gz(records []json.RawMessage) []byte {
	var buf bytes.Buffer
	zw := writers.Get().(*gzip.Writer)
	defer writers.Put(zw)
	zw.Reset(&buf)
	zw.Write([]byte(`{"Records":[`))
	for i, r := range records {
		if i > 0 {
			zw.Write([]byte(","))
		}
		zw.Write(r)
	}
	zw.Write([]byte("]}"))
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// done is the set of versions the ledger holds done.
func (w *World) done() map[string]bool {
	out := map[string]bool{}
	for _, v := range w.versions {
		id := v.id(w.s3.versioned)
		if str(w.db.Item(id), "status") == "done" {
			out[id] = true
		}
	}
	return out
}

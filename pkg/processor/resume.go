package processor

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cognitrail/cognitrail/pkg/aggregate"
	"github.com/cognitrail/cognitrail/pkg/ledger"
	"github.com/cognitrail/cognitrail/pkg/metric"
)

// inputs are what decides an object's datums besides the object: the age
// cut and the app client pairs a Resolver answered. Judged again on a
// retry they may differ (the clock moved on, a warm environment learned
// pairs, a lookup answered), and the datums with them; so the first
// progress records them and every retry reuses them.
type inputs struct {
	// Oldest is the aggregation's cut-off, Unix ms; 0: none.
	Oldest int64 `json:"oldest,omitempty"`
	// Clients are the Resolver's answers that named a pool.
	Clients []clientPair `json:"clients,omitempty"`
	// Unrecorded: the answers were too many to record (maxPairsBytes); a
	// retry asks the Resolver again.
	Unrecorded bool `json:"unrecorded,omitempty"`
}

// maxPairsBytes bounds the client pairs recorded in a ledger item (at most
// 400 KB, shared with a batch's members): about 900 pairs, far more than
// the app clients one file or batch names without their pool. Past it
// they are not recorded, and a retry asks the Resolver again (logged at
// WARN): rather than an item DynamoDB refuses, which would fail the
// object on every attempt until the DLQ.
const maxPairsBytes = 64 << 10

// fit returns pairs, or none and false when they are over maxPairsBytes.
func fit(pairs []clientPair) ([]clientPair, bool) {
	n := 0
	for _, p := range pairs {
		n += len(p.Region) + len(p.Client) + len(p.Pool) + 20
	}
	if n > maxPairsBytes {
		return nil, false
	}
	return pairs, true
}

// clientPair is one Resolver answer: client, called in region, is of pool.
type clientPair struct {
	Region string `json:"r"`
	Client string `json:"c"`
	Pool   string `json:"p"`
}

func (in *inputs) oldest() time.Time {
	if in.Oldest == 0 {
		return time.Time{}
	}
	return time.UnixMilli(in.Oldest)
}

// judge returns the inputs of a first attempt: the age cut judged now,
// and a resolver that records its answers.
func (h *Handler) judge() (inputs, *recorder) {
	var in inputs
	if o := h.oldest(); !o.IsZero() {
		in.Oldest = o.UnixMilli()
	}
	return in, &recorder{inner: h.opts.Clients, answers: map[[2]string]string{}}
}

// recorder is a Resolver that asks inner once per client and records the
// answers, so that a retry can be given the same (replay). Asked again in
// the same attempt (another file of a batch), it answers as the first
// time, so that what it records is all that decided the datums.
type recorder struct {
	inner   aggregate.Resolver
	mu      sync.Mutex
	answers map[[2]string]string
}

func (r *recorder) Learn(client, pool string) {
	if r.inner != nil {
		r.inner.Learn(client, pool)
	}
}

// SaveLearned lets inner keep what it learned (aggregate.Saver).
func (r *recorder) SaveLearned(ctx context.Context) error { return saveLearned(ctx, r.inner) }

func saveLearned(ctx context.Context, r aggregate.Resolver) error {
	if s, ok := r.(aggregate.Saver); ok {
		return s.SaveLearned(ctx)
	}
	return nil
}

func (r *recorder) Resolve(ctx context.Context, region, client string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := [2]string{region, client}
	if p, ok := r.answers[k]; ok {
		return p, nil
	}
	if r.inner == nil {
		return "", nil
	}
	p, err := r.inner.Resolve(ctx, region, client)
	r.answers[k] = p
	return p, err
}

// pairs returns the answers that named a pool, sorted.
func (r *recorder) pairs() []clientPair {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []clientPair
	for k, p := range r.answers {
		if p != "" {
			out = append(out, clientPair{Region: k[0], Client: k[1], Pool: p})
		}
	}
	slices.SortFunc(out, func(x, y clientPair) int {
		if c := cmp.Compare(x.Region, y.Region); c != 0 {
			return c
		}
		return cmp.Compare(x.Client, y.Client)
	})
	return out
}

// replay is a Resolver that answers what a first attempt recorded, and
// nothing else: a client it left unresolved stays so. Learn still reaches
// the shared resolver.
type replay struct {
	learn aggregate.Resolver
	pools map[[2]string]string
}

func newReplay(learn aggregate.Resolver, pairs []clientPair) *replay {
	r := &replay{learn: learn, pools: map[[2]string]string{}}
	for _, p := range pairs {
		r.pools[[2]string{p.Region, p.Client}] = p.Pool
	}
	return r
}

func (r *replay) Learn(client, pool string) {
	if r.learn != nil {
		r.learn.Learn(client, pool)
	}
}

// SaveLearned lets the shared resolver keep what it learned.
func (r *replay) SaveLearned(ctx context.Context) error { return saveLearned(ctx, r.learn) }

func (r *replay) Resolve(_ context.Context, region, client string) (string, error) {
	return r.pools[[2]string{region, client}], nil
}

// resumePoint is where an earlier attempt stopped publishing.
type resumePoint struct {
	// batches is how many batches were published.
	batches int
	// after is the key of the last datum published; nil when only a count
	// was recorded (an item written by a version that recorded no key):
	// the first batches are then passed over by count, as that version did.
	after *metric.Key
}

// resumeFrom decodes a claim's progress.
func resumeFrom(c *ledger.Claim) (resumePoint, error) {
	rp := resumePoint{batches: c.Resume}
	if c.After == "" {
		return rp, nil
	}
	var k metric.Key
	if err := json.Unmarshal([]byte(c.After), &k); err != nil {
		return rp, fmt.Errorf("processor: %s: progress %q: %w", c.ID, c.After, err)
	}
	rp.after = &k
	return rp, nil
}

func encodeKey(k metric.Key) string {
	b, _ := json.Marshal(k) // strings and numbers only
	return string(b)
}

// attempt is what one attempt at an object works from.
type attempt struct {
	in inputs
	// clients resolves app clients: nil for none, rec on a first attempt,
	// a replay of the recorded answers on a retry.
	clients aggregate.Resolver
	// rec records the Resolver's answers of a first attempt (nil on a
	// retry).
	rec *recorder
	// from is where earlier attempts stopped publishing.
	from resumePoint
}

// attemptOf returns the inputs of an attempt holding c (nil: no ledger):
// those c's item recorded, else judged now.
func (h *Handler) attemptOf(c *ledger.Claim) (*attempt, error) {
	at := &attempt{}
	if c != nil && c.Inputs != "" {
		if err := json.Unmarshal([]byte(c.Inputs), &at.in); err != nil {
			return nil, fmt.Errorf("processor: %s: inputs: %w", c.ID, err)
		}
		at.clients = newReplay(h.opts.Clients, at.in.Clients)
		if at.in.Unrecorded {
			at.clients = h.opts.Clients
		}
	} else {
		at.in, at.rec = h.judge()
		if h.opts.Clients != nil {
			at.clients = at.rec
		}
	}
	if c != nil {
		var err error
		if at.from, err = resumeFrom(c); err != nil {
			return nil, err
		}
	}
	return at, nil
}

package clientpool

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognitrail/cognitrail/pkg/record"
)

// Defaults for Options.
const (
	// DefaultRequestsPerSecond paces the lookup's calls. ListUserPools and
	// ListUserPoolClients share their quota categories with every other
	// read of the account's pools (consoles, IaC drift checks), so the
	// lookup takes a small part of it.
	DefaultRequestsPerSecond = 5
	// DefaultRelistAfter is the least time between two listings prompted by
	// a client never seen before: made-up client ids in a spray attack must
	// not turn into a listing each.
	DefaultRelistAfter = 5 * time.Minute
	// DefaultTTL is how long a looked-up pair stays in the DynamoDB cache.
	// A client never moves between pools; the TTL only lets deleted
	// clients' items go.
	DefaultTTL = 30 * 24 * time.Hour
	// pageSize is the largest MaxResults both list operations accept.
	pageSize = 60
)

// ErrMap is returned by ParseMap for a malformed CLIENT_POOLS value.
var ErrMap = errors.New("clientpool: malformed client map")

// LookupAPI is the part of the cognito-idp client the lookup uses.
type LookupAPI interface {
	ListUserPools(ctx context.Context, in *cip.ListUserPoolsInput, optFns ...func(*cip.Options)) (*cip.ListUserPoolsOutput, error)
	ListUserPoolClients(ctx context.Context, in *cip.ListUserPoolClientsInput, optFns ...func(*cip.Options)) (*cip.ListUserPoolClientsOutput, error)
}

// Key is an app client id in the Region of the calls that name it. A
// client id is only unique within a Region (AWS's own published examples
// use 1example23456789 for pools in us-east-1 and eu-west-1), and a call
// made in one Region never reaches a pool of another, so every pair is
// held under its pool's Region (record.UserPoolRegion).
type Key struct{ Region, Client string }

// keyOf is the Key a pair is held under.
func keyOf(client, pool string) Key {
	return Key{Region: record.UserPoolRegion(pool), Client: client}
}

// Store is a cache of pairs that outlives the process (DynamoStore).
type Store interface {
	// Get returns the pool of k, "" when not stored.
	Get(ctx context.Context, k Key) (string, error)
	Put(ctx context.Context, k Key, pool string) error
}

// Options configure a Resolver. The zero value resolves from what it is
// taught only.
type Options struct {
	// Static is the operator's map (ParseMap of CLIENT_POOLS), each pair
	// under its pool's Region.
	Static map[Key]string
	// Lookup, when set, enables the cognito-idp lookup. It lists the
	// pools of Region only, so it answers for calls made there; Region
	// empty disables it.
	Lookup LookupAPI
	// Region is the Region Lookup's client calls (the function's own).
	Region string
	// Store, when set, keeps pairs across cold starts: looked up, and
	// learned from the trail (SaveLearned), for calls in any Region.
	Store             Store
	RequestsPerSecond float64
	RelistAfter       time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Wait blocks for d or until ctx ends; nil means a timer. Pacing only.
	Wait func(ctx context.Context, d time.Duration) error
}

// Resolver implements aggregate.Resolver. It is safe for concurrent use.
type Resolver struct {
	opts Options
	mu   sync.Mutex
	// known holds every pair learned, configured or looked up, under its
	// pool's Region.
	known map[Key]string
	// missed are clients a listing did not find, so that they prompt no
	// second listing before RelistAfter.
	missed map[Key]bool
	// unsaved are clients a listing found that the Store has not been
	// given: only those a trail asks for are written, not whole listings.
	unsaved map[Key]bool
	// learned are pairs the trail taught that the Store has not been
	// given (SaveLearned): a cold start must not forget them, since the
	// trail may not name them again for hours while calls naming the
	// client alone keep coming.
	learned map[Key]bool
	// absent: when the Store last had no pair for a client, so that
	// made-up client ids cost one read per RelistAfter, not one per file.
	absent   map[Key]time.Time
	listed   time.Time // last complete listing; zero: none since cold start
	nextCall time.Time
	// Stats, for logs and tests.
	stats Stats
}

// Stats counts what a Resolver did.
type Stats struct {
	Listings, Calls, StoreHits, StoreErrors int
}

// New returns a Resolver.
func New(opts *Options) *Resolver {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.RequestsPerSecond <= 0 {
		o.RequestsPerSecond = DefaultRequestsPerSecond
	}
	if o.RelistAfter <= 0 {
		o.RelistAfter = DefaultRelistAfter
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Wait == nil {
		o.Wait = wait
	}
	r := &Resolver{opts: o, known: map[Key]string{}, missed: map[Key]bool{}, unsaved: map[Key]bool{},
		learned: map[Key]bool{}, absent: map[Key]time.Time{}}
	for k, p := range o.Static {
		// A pair filed under another Region than its pool's would answer
		// calls that cannot reach that pool.
		if keyOf(k.Client, p) == k {
			r.known[k] = p
		}
	}
	return r
}

func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats returns what the Resolver did so far.
func (r *Resolver) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// Learn records a pair a trail record gave, for calls in the pool's
// Region. The trail is the freshest source, so it overrides the static
// map.
func (r *Resolver) Learn(client, pool string) {
	if !record.IsClientID(client) || !record.IsUserPoolID(pool) {
		return
	}
	k := keyOf(client, pool)
	r.mu.Lock()
	if r.known[k] != pool && r.opts.Store != nil {
		r.learned[k] = true
	}
	r.known[k] = pool
	delete(r.missed, k)
	delete(r.unsaved, k)
	delete(r.absent, k)
	r.mu.Unlock()
}

// SaveLearned gives the Store the pairs the trail taught since the last
// call (aggregate.Saver), so that the next cold start, in any execution
// environment, resolves the calls that name the client alone. A pair that
// could not be written is tried again on the next call.
func (r *Resolver) SaveLearned(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.learned) == 0 {
		return nil
	}
	keys := make([]Key, 0, len(r.learned))
	for k := range r.learned {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Region != keys[j].Region {
			return keys[i].Region < keys[j].Region
		}
		return keys[i].Client < keys[j].Client
	})
	var errs []error
	for _, k := range keys {
		if err := r.opts.Store.Put(ctx, k, r.known[k]); err != nil {
			r.stats.StoreErrors++
			errs = append(errs, fmt.Errorf("clientpool: keep client %s in %s: %w", k.Client, k.Region, err))
			continue
		}
		delete(r.learned, k)
	}
	return errors.Join(errs...)
}

// Resolve returns the pool of client for a call made in region, "" when
// no source knows it there. The Store and the lookup answer for
// Options.Region only: a client seen in another Region is resolved by
// what the trail taught or the static map says for that Region, or not
// at all. The error of a failed lookup or cache read is returned beside
// whatever could still be answered; it never means the caller must stop.
func (r *Resolver) Resolve(ctx context.Context, region, client string) (string, error) {
	k := Key{Region: region, Client: client}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.known[k]; ok {
		if r.unsaved[k] {
			return p, r.save(ctx, k, p)
		}
		return p, nil
	}
	if region == "" {
		return "", nil
	}
	var errs []error
	if r.opts.Store != nil && !r.recentlyAbsent(k) {
		// Any Region: pairs the trail taught are kept for the Region of
		// their pool, wherever the function runs.
		p, err := r.opts.Store.Get(ctx, k)
		switch {
		case err != nil:
			r.stats.StoreErrors++
			errs = append(errs, fmt.Errorf("clientpool: read cache for client %s in %s: %w", client, region, err))
		case keyOf(client, p) == k:
			r.stats.StoreHits++
			r.known[k] = p
			return p, nil
		default:
			r.absent[k] = r.opts.Now()
		}
	}
	if region != r.opts.Region || r.opts.Lookup == nil || !r.shouldList(k) {
		return "", errors.Join(errs...)
	}
	if err := r.list(ctx); err != nil {
		errs = append(errs, err)
	}
	p, ok := r.known[k]
	if !ok {
		r.missed[k] = true
		return "", errors.Join(errs...)
	}
	return p, errors.Join(append(errs, r.save(ctx, k, p))...)
}

// save gives a looked-up pair to the Store.
func (r *Resolver) save(ctx context.Context, k Key, pool string) error {
	delete(r.unsaved, k)
	if r.opts.Store == nil {
		return nil
	}
	if err := r.opts.Store.Put(ctx, k, pool); err != nil {
		r.stats.StoreErrors++
		return fmt.Errorf("clientpool: cache client %s in %s: %w", k.Client, k.Region, err)
	}
	return nil
}

// recentlyAbsent: the Store had no pair for k less than RelistAfter ago.
func (r *Resolver) recentlyAbsent(k Key) bool {
	t, ok := r.absent[k]
	return ok && r.opts.Now().Sub(t) < r.opts.RelistAfter
}

// shouldList: once per cold start, then for a never-seen client at most
// every RelistAfter.
func (r *Resolver) shouldList(k Key) bool {
	if r.listed.IsZero() {
		return true
	}
	return !r.missed[k] && r.opts.Now().Sub(r.listed) >= r.opts.RelistAfter
}

// list reads every pool's clients into known. Pairs from a listing cut
// short by an error are kept: they are true, just not all.
func (r *Resolver) list(ctx context.Context) error {
	r.stats.Listings++
	var pools []string
	var token *string
	for {
		if err := r.pace(ctx); err != nil {
			return fmt.Errorf("clientpool: ListUserPools: %w", err)
		}
		out, err := r.opts.Lookup.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(pageSize), NextToken: token})
		if err != nil {
			return fmt.Errorf("clientpool: ListUserPools: %w", err)
		}
		for _, p := range out.UserPools {
			if id := aws.ToString(p.Id); record.IsUserPoolID(id) {
				pools = append(pools, id)
			}
		}
		if token = out.NextToken; aws.ToString(token) == "" {
			break
		}
	}
	sort.Strings(pools)
	for _, pool := range pools {
		var token *string
		for {
			if err := r.pace(ctx); err != nil {
				return fmt.Errorf("clientpool: ListUserPoolClients %s: %w", pool, err)
			}
			out, err := r.opts.Lookup.ListUserPoolClients(ctx, &cip.ListUserPoolClientsInput{
				UserPoolId: aws.String(pool), MaxResults: aws.Int32(pageSize), NextToken: token,
			})
			if err != nil {
				return fmt.Errorf("clientpool: ListUserPoolClients %s: %w", pool, err)
			}
			for _, c := range out.UserPoolClients {
				if id := aws.ToString(c.ClientId); record.IsClientID(id) {
					k := keyOf(id, pool)
					if r.known[k] != pool {
						r.known[k] = pool
						r.unsaved[k] = true
					}
					delete(r.missed, k)
				}
			}
			if token = out.NextToken; aws.ToString(token) == "" {
				break
			}
		}
	}
	r.listed = r.opts.Now()
	return nil
}

// pace spaces calls RequestsPerSecond apart.
func (r *Resolver) pace(ctx context.Context) error {
	now := r.opts.Now()
	if d := r.nextCall.Sub(now); d > 0 {
		if err := r.opts.Wait(ctx, d); err != nil {
			return err
		}
		now = r.nextCall
	}
	r.nextCall = now.Add(time.Duration(float64(time.Second) / r.opts.RequestsPerSecond))
	r.stats.Calls++
	return nil
}

// ParseMap parses CLIENT_POOLS: "clientId=poolId,clientId=poolId", spaces
// around items allowed, empty means none. Each id must have its documented
// shape. A pair holds for calls in its pool's Region, so a client may
// appear once per Region: "web=us-east-1_A,web=eu-west-1_B" maps the same
// client id in two Regions.
func ParseMap(s string) (map[Key]string, error) {
	m := map[Key]string{}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		c, p, ok := strings.Cut(item, "=")
		c, p = strings.TrimSpace(c), strings.TrimSpace(p)
		switch {
		case !ok:
			return nil, fmt.Errorf("%w: item %d %q: want clientId=poolId", ErrMap, i+1, item)
		case !record.IsClientID(c):
			return nil, fmt.Errorf("%w: item %d: %q is not an app client id", ErrMap, i+1, c)
		case !record.IsUserPoolID(p):
			return nil, fmt.Errorf("%w: item %d: %q is not a user pool id", ErrMap, i+1, p)
		}
		k := keyOf(c, p)
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("%w: item %d: client %s listed twice in %s", ErrMap, i+1, c, k.Region)
		}
		m[k] = p
	}
	return m, nil
}

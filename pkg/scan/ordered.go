package scan

import (
	"context"
	"sync"
)

// Ordered runs read(ctx, i) for every i in [0, n), up to workers at once,
// and done(i, v) with each result on the calling goroutine, in order of i:
// the files of a run are read in parallel, each into state of its own
// (an aggregator, a deferred read's records, its output), and done merges
// them one after the other, so that what depends on the order (the
// findings' State, the merged aggregator, lines written) advances as in a
// sequential run. At most workers results exist at a time, being read or
// waiting for done: memory is bounded by workers times one file's state.
// workers below 1 counts as 1, which reads and finishes one file after the
// other.
//
// When done returns an error or ctx ends, no further read starts; Ordered
// returns that error once the reads started have returned (their results
// are dropped). read sees a context cancelled then.
func Ordered[T any](ctx context.Context, n, workers int, read func(ctx context.Context, i int) T, done func(i int, v T) error) error {
	workers = max(workers, 1)
	var wg sync.WaitGroup
	// Deferred first, so run last: the reads see ctx cancelled, then are
	// waited for.
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A slot is taken before a read starts and given back once done has
	// taken its result: workers bounds the reads and the waiting results.
	slots := make(chan struct{}, workers)
	results := make([]chan T, n)
	for i := range results {
		results[i] = make(chan T, 1)
	}
	started := make(chan int, n)
	wg.Go(func() {
		defer close(started)
		for i := range n {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			if ctx.Err() != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] <- read(ctx, i)
			}()
			started <- i
		}
	})
	for i := range n {
		if _, ok := <-started; !ok {
			return ctx.Err()
		}
		var v T
		select {
		case v = <-results[i]:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := done(i, v); err != nil {
			return err
		}
		<-slots
	}
	return nil
}

package sim

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
)

var (
	seeds     = flag.Int("seeds", 200, "how many seeds TestSimulation runs")
	firstSeed = flag.Int64("seed", 1, "the first seed (with -seeds 1 -v: replay one, with its trace)")
)

// TestSimulation runs the handler over many seeded worlds (see Run) and
// fails with each seed whose invariants did not hold, and the command that
// replays it with a trace.
func TestSimulation(t *testing.T) {
	tmpl, err := LoadTemplates("../../pkg/class/testdata/aws")
	if err != nil {
		t.Fatal(err)
	}
	n := *seeds
	if testing.Short() {
		n = min(n, 50)
	}
	var trace *strings.Builder
	if n == 1 && testing.Verbose() {
		trace = &strings.Builder{}
	}
	results := make([]*Report, n)
	var wg sync.WaitGroup
	work := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				cfg := Config{Seed: *firstSeed + int64(i), Templates: tmpl}
				if trace != nil {
					cfg.Trace = trace
				}
				results[i] = Run(cfg)
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	clean, attempts, crashes, faults := 0, 0, 0, 0
	for _, r := range results {
		attempts += r.Attempts
		crashes += r.Crashes
		faults += r.Faults
		if len(r.Violations) == 0 {
			clean++
			continue
		}
		t.Errorf("%s\n  %s\n  replay: go test ./internal/sim -run 'TestSimulation$' -seeds 1 -seed %d -v",
			r, strings.Join(r.Violations, "\n  "), r.Seed)
	}
	if trace != nil {
		fmt.Fprint(os.Stderr, trace.String())
	}
	t.Logf("%d of %d seeds clean (%d attempts, %d crashes, %d surfaced faults)", clean, n, attempts, crashes, faults)
}

var batchID = regexp.MustCompile(`batch#[0-9a-f]+`)

func TestDeterministic(t *testing.T) {
	tmpl, err := LoadTemplates("../../pkg/class/testdata/aws")
	if err != nil {
		t.Fatal(err)
	}
	for seed := int64(1); seed <= 60; seed++ {
		var a, b strings.Builder
		Run(Config{Seed: seed, Templates: tmpl, Trace: &a})
		Run(Config{Seed: seed, Templates: tmpl, Trace: &b})
		if batchID.ReplaceAllString(a.String(), "") != batchID.ReplaceAllString(b.String(), "") {
			mask := func(s string) []string { return strings.Split(batchID.ReplaceAllString(s, "batch#X"), "\n") }
			x, y := mask(a.String()), mask(b.String())
			for i := range min(len(x), len(y)) {
				if x[i] != y[i] {
					t.Errorf("seed %d diverges at line %d:\n%s\n%s", seed, i, x[i], y[i])
					break
				}
			}
		}
	}
}

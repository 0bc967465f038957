package finding

import (
	"context"
	"sync"
)

// State keeps the last seen value of each watched setting, by key
// ("ACCOUNT/identitypool/ID/allowUnauthenticatedIdentities"). The Lambda can
// back it with its ledger table so a transition is judged across invocations;
// MemoryState judges it within one process only.
//
// The Engine reads through Get while it evaluates a file and writes once, in
// Commit, after the caller has kept the file's results: a file that is
// retried (the scan or the publish failed) is judged against the same state
// again, so its findings are neither lost nor raised twice.
type State interface {
	// Get returns the last seen value of key; known is false when there is
	// none. An error leaves the finding undecided: the Engine reports it
	// and the file must be retried.
	Get(key string) (value string, known bool, err error)
	// Put stores the values of one file.
	Put(values map[string]string) error
}

// MemoryState is a State in memory, safe for concurrent use.
type MemoryState struct {
	mu sync.Mutex
	m  map[string]string
}

// NewMemoryState returns an empty MemoryState.
func NewMemoryState() *MemoryState { return &MemoryState{m: make(map[string]string)} }

// Get implements State.
func (s *MemoryState) Get(key string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	return v, ok, nil
}

// Put implements State.
func (s *MemoryState) Put(values map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range values {
		s.m[k] = v
	}
	return nil
}

// ContextState is a State whose calls go over the network (the ledger
// table): the caller binds it to each invocation's context, so that a State
// call ends with the invocation instead of outliving it.
type ContextState interface {
	State
	WithContext(ctx context.Context) State
}

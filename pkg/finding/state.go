package finding

import "sync"

// State keeps the last seen value of each watched setting, by key
// ("ACCOUNT/identitypool/ID/allowUnauthenticatedIdentities"). The Lambda can
// back it with its ledger table so a transition is judged across invocations;
// MemoryState judges it within one process only.
type State interface {
	// Swap stores value as the last seen value of key and returns the value
	// it replaces; known is false when key had none. An error leaves the
	// finding undecided: the Engine reports it and the file is retried.
	Swap(key, value string) (previous string, known bool, err error)
}

// MemoryState is a State in memory, safe for concurrent use.
type MemoryState struct {
	mu sync.Mutex
	m  map[string]string
}

// NewMemoryState returns an empty MemoryState.
func NewMemoryState() *MemoryState { return &MemoryState{m: make(map[string]string)} }

// Swap implements State.
func (s *MemoryState) Swap(key, value string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, ok := s.m[key]
	s.m[key] = value
	return prev, ok, nil
}

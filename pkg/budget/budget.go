package budget

import (
	"context"
	"sync"
)

// DefaultMax is the default bound: values of one dimension with their own
// series in a month (MAX_SERIES_PER_DIMENSION). Five times the per-file
// pool cap: room for every pool an account really has, not for a spray.
const DefaultMax = 100

// Budget decides which dimension values get their own series in a month.
type Budget interface {
	// Admit is given the values of one dimension seen in one month
	// ("2006-01"), in order of preference (busiest first). It returns the
	// ones that have their own series: those admitted before in the month,
	// and new ones while the month's budget of the dimension lasts. An
	// error means nothing could be decided (a store failed): retry.
	Admit(ctx context.Context, month, dimension string, values []string) (map[string]bool, error)
}

// Memory is a Budget held in memory, safe for concurrent use.
type Memory struct {
	max int
	mu  sync.Mutex
	// admitted[month][dimension] is the set of values with their own series.
	admitted map[string]map[string]map[string]bool
}

// NewMemory returns a Memory budget of max values per dimension and month.
func NewMemory(max int) *Memory {
	return &Memory{max: max, admitted: map[string]map[string]map[string]bool{}}
}

// Admit implements Budget.
func (m *Memory) Admit(_ context.Context, month, dimension string, values []string) (map[string]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	byDim := m.admitted[month]
	if byDim == nil {
		byDim = map[string]map[string]bool{}
		m.admitted[month] = byDim
	}
	set := byDim[dimension]
	if set == nil {
		set = map[string]bool{}
		byDim[dimension] = set
	}
	out := make(map[string]bool, len(values))
	for _, v := range values {
		if !set[v] && len(set) < m.max {
			set[v] = true
		}
		out[v] = set[v]
	}
	return out, nil
}

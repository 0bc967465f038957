package finding

import "container/heap"

// ipStat is what one source IP did in the current file. failures and
// notFound are exact since the IP entered the table; weight, which decides
// eviction, also carries the weight of the entry it replaced (space-saving),
// so an IP that keeps failing is not pushed out by a stream of one-off IPs.
type ipStat struct {
	ip                 string
	weight             int
	failures, notFound int
	raisedFailures     bool
	raisedEnumeration  bool
	raisedSuccess      bool
	// the records that raised the findings, for Recount
	failuresBy, enumerationBy, successBy raisedBy
	index                                int
}

// raisedBy names the record a per-address finding was raised on.
type raisedBy struct {
	eventID string
	unix    int64
}

// ipTable keeps at most max IPs, evicting the lightest: memory stays bounded
// whatever the number of distinct IPs, and the busiest IPs keep exact counts
// (a finding is raised on exact counts only, never on inherited weight).
type ipTable struct {
	max int
	m   map[string]*ipStat
	h   ipHeap
}

func (t *ipTable) reset() {
	clear(t.m)
	t.h = t.h[:0]
}

func (t *ipTable) lookup(ip string) *ipStat { return t.m[ip] }

// add returns the entry of ip, creating it (evicting the lightest when full).
func (t *ipTable) add(ip string) *ipStat {
	if s := t.m[ip]; s != nil {
		return s
	}
	s := &ipStat{ip: ip}
	if len(t.h) >= t.max {
		old := heap.Pop(&t.h).(*ipStat)
		delete(t.m, old.ip)
		s.weight = old.weight
	}
	t.m[ip] = s
	heap.Push(&t.h, s)
	return s
}

func (t *ipTable) bump(s *ipStat) {
	s.weight++
	heap.Fix(&t.h, s.index)
}

type ipHeap []*ipStat

func (h ipHeap) Len() int { return len(h) }
func (h ipHeap) Less(i, j int) bool {
	if h[i].weight != h[j].weight {
		return h[i].weight < h[j].weight
	}
	return h[i].ip < h[j].ip
}
func (h ipHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *ipHeap) Push(x any) {
	s := x.(*ipStat)
	s.index = len(*h)
	*h = append(*h, s)
}
func (h *ipHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return s
}

package graph

// csr is a compressed adjacency list: the neighbours of node i are
// ids[start[i]:start[i+1]]. One flat array keeps runs cache-friendly.
type csr struct {
	start []int32
	ids   []NodeID
}

func (c csr) of(id NodeID) []NodeID {
	return c.ids[c.start[id]:c.start[id+1]:c.start[id+1]]
}

// reverse returns the transposed adjacency of n nodes.
func (c csr) reverse(n int) csr {
	r := csr{start: make([]int32, n+1), ids: make([]NodeID, len(c.ids))}
	for _, to := range c.ids {
		r.start[to+1]++
	}
	for i := 0; i < n; i++ {
		r.start[i+1] += r.start[i]
	}
	fill := append([]int32(nil), r.start[:n]...)
	for from := 0; from < n; from++ {
		for _, to := range c.of(NodeID(from)) {
			r.ids[fill[to]] = NodeID(from)
			fill[to]++
		}
	}
	return r
}

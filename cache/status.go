package cache

// Status says where a cached node's value came from.
type Status uint8

const (
	// StatusFetched: the node's body ran for this run, or for a concurrent run
	// whose fetch this one shared.
	StatusFetched Status = iota + 1
	// StatusFresh: a value within its TTL, from the in-process tier or Redis.
	StatusFresh
	// StatusStale: a value past its TTL but within its stale window, served at
	// once while one background refresh replaces it.
	StatusStale
)

// String returns "fetched", "fresh" or "stale".
func (s Status) String() string {
	switch s {
	case StatusFetched:
		return "fetched"
	case StatusFresh:
		return "fresh"
	case StatusStale:
		return "stale"
	}
	return "unknown"
}

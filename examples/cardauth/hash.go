package cardauth

import "strconv"

// draw is a deterministic source of values derived from one id, so that
// any id gets data and the same id always gets the same data.
type draw uint64

// drawFor hashes the service's name and the id (FNV-1a, 64 bits).
func drawFor(service, id string) draw {
	h := uint64(14695981039346656037)
	for i := 0; i < len(service); i++ {
		h = (h ^ uint64(service[i])) * 1099511628211
	}
	h = (h ^ '/') * 1099511628211
	for i := 0; i < len(id); i++ {
		h = (h ^ uint64(id[i])) * 1099511628211
	}
	return draw(h)
}

// bits returns 64 well-mixed bits for field, so that the fields drawn from
// one id are independent (splitmix64 finalizer).
func (d draw) bits(field uint64) uint64 {
	z := uint64(d) + field*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// unit returns a number in [0, 1).
func (d draw) unit(field uint64) float64 { return float64(d.bits(field)>>11) / (1 << 53) }

// chance returns true with probability p.
func (d draw) chance(field uint64, p float64) bool { return d.unit(field) < p }

// intn returns an integer in [lo, hi].
func (d draw) intn(field uint64, lo, hi int) int { return lo + int(d.bits(field)%uint64(hi-lo+1)) }

// id returns a new id with the given prefix, derived from field.
func (d draw) id(field uint64, prefix string) string {
	return prefix + strconv.FormatUint(d.bits(field)>>24, 36)
}

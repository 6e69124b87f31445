package serve

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// hashToken is what a token is compared by: equal-length digests, so the
// comparison's time says nothing about the token's length.
func hashToken(t string) [32]byte { return sha256.Sum256([]byte(t)) }

// authorized reports whether r carries one of the accepted bearer tokens.
// Every accepted token is compared, in constant time, whatever matches.
func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return false
	}
	got := hashToken(strings.TrimSpace(h[len(prefix):]))
	ok := 0
	for i := range s.cfg.tokens {
		ok |= subtle.ConstantTimeCompare(got[:], s.cfg.tokens[i][:])
	}
	return ok == 1
}

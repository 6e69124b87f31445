package decisionlog

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Mode says how a node's value is written into a record.
type Mode uint8

// The privacy modes.
const (
	// Keep writes the value as it is: the default.
	Keep Mode = iota
	// Hash writes an HMAC-SHA256 of the value's JSON, keyed from the
	// environment: equal values give equal hashes (records can be joined on
	// them) but the value cannot be read back.
	Hash
	// Omit leaves the value (and its cause) out.
	Omit
)

// MetaKey is the key of a node annotation (nodes.Meta) that marks it: "keep",
// "hash" or "omit". A spec's `log:` key sets it; Go code sets it with
// nodes.Meta(decisionlog.MetaKey, "hash").
const MetaKey = "log"

// KeyEnv is the environment variable that holds the HMAC key of hashed
// values when [HashKey] gives none. It must hold at least 16 bytes.
const KeyEnv = "FEATGRAPH_LOG_HMAC_KEY"

// minKeyLen is the shortest HMAC key accepted.
const minKeyLen = 16

var modeNames = [...]string{Keep: "keep", Hash: "hash", Omit: "omit"}

// String returns keep, hash or omit.
func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// ParseMode is the inverse of [Mode.String].
func ParseMode(s string) (Mode, error) {
	for m, name := range modeNames {
		if s == name {
			return Mode(m), nil
		}
	}
	return Keep, fmt.Errorf("decisionlog: log mode %q: want keep, hash or omit", s)
}

// MarshalText implements encoding.TextMarshaler.
func (m Mode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *Mode) UnmarshalText(b []byte) error {
	v, err := ParseMode(strings.TrimSpace(string(b)))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// hasher computes keyed hashes of values.
type hasher struct{ key []byte }

const hashPrefix = "hmac-sha256:"

func (h hasher) sum(data []byte) string {
	mac := hmac.New(sha256.New, h.key)
	mac.Write(data)
	return hashPrefix + hex.EncodeToString(mac.Sum(nil))
}

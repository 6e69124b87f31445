// Package millis writes durations in JSON the one way featgraph's JSON
// outputs do: as milliseconds, a float, in fields named *_ms.
package millis

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Duration is a time.Duration that encodes as JSON milliseconds (a float,
// exact to the nanosecond) and decodes from them.
type Duration time.Duration

// MarshalJSON writes d in milliseconds.
func (d Duration) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(d)/1e6, 'f', -1, 64), nil
}

// UnmarshalJSON reads milliseconds, rounded to the nanosecond.
func (d *Duration) UnmarshalJSON(b []byte) error {
	ms, err := strconv.ParseFloat(string(b), 64)
	ns := math.Round(ms * 1e6)
	if err != nil || math.IsNaN(ns) || math.Abs(ns) > math.MaxInt64/2 {
		return fmt.Errorf("duration %.40q is not a number of milliseconds", b)
	}
	*d = Duration(ns)
	return nil
}

// Of returns d as milliseconds, for fields that are floats already.
func Of(d time.Duration) float64 { return float64(d) / 1e6 }

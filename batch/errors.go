package batch

import "fmt"

// MissingKeyError says that a batch call answered without a key that a
// node asked for: an error for that node alone.
type MissingKeyError struct {
	// Batch names the batch.
	Batch string
	// Key is the missing key, printed with %v.
	Key string
}

func (e *MissingKeyError) Error() string {
	return fmt.Sprintf("batch %q: no value for key %q in the answer", e.Batch, e.Key)
}

// CallError is a failed batch call, as seen by each node that waited for it.
type CallError struct {
	// Batch names the batch.
	Batch string
	// Keys is the number of keys in the call.
	Keys int
	// Err is the fetch function's error.
	Err error
}

func (e *CallError) Error() string {
	return fmt.Sprintf("batch %q: call for %d keys: %v", e.Batch, e.Keys, e.Err)
}

// Unwrap returns the fetch function's error.
func (e *CallError) Unwrap() error { return e.Err }

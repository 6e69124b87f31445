package executor

import (
	"testing"
	"unsafe"
)

// A node's state is one cache line: a run reads the states of its nodes'
// dependencies and users in no particular order, and a state that
// straddled two lines would cost two misses on a big graph.
func TestNodeStateIsOneCacheLine(t *testing.T) {
	if size := unsafe.Sizeof(nodeState{}); size != 64 {
		t.Errorf("nodeState is %d bytes, want 64", size)
	}
}

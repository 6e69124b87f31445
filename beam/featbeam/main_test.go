package featbeam_test

import (
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"go.uber.org/goleak"

	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
)

// ptestMain runs the tests through ptest, on the in-process prism runner
// unless --runner says otherwise.
type ptestMain struct{ m *testing.M }

func (p ptestMain) Run() int { return ptest.MainRetWithDefault(p.m, "prism") }

func TestMain(m *testing.M) {
	// Prism serves its job service in process from the first pipeline on,
	// for every later pipeline of the process: by design, not a leak.
	goleak.VerifyTestMain(ptestMain{m},
		goleak.IgnoreAnyFunction("github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism/internal/jobservices.(*Server).Serve"))
}

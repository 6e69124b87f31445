package graphtest

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/featgraph/featgraph/executor"
)

// table renders every node's outcome, one aligned row per node in
// declaration order.
func (r *Run) table() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "\tnode\tkind\toutcome\tduration\tcause\tstub")
	for _, nr := range r.res.Nodes() {
		dur, cause := "-", ""
		if nr.Outcome != executor.OutcomeSkipped {
			dur = nr.Duration().Round(time.Microsecond).String()
		}
		if nr.Cause != nil {
			cause = firstLine(nr.Cause.Error())
		}
		if nr.Branch != "" {
			cause = strings.TrimSpace("took " + nr.Branch + "; " + cause)
			cause = strings.TrimSuffix(cause, ";")
		}
		stub := r.h.stubs[nr.ID].describe()
		fmt.Fprintf(w, "\t%s\t%s\t%s\t%s\t%s\t%s\n", nr.Name, nr.Kind, nr.Outcome, dur, cause, stub)
	}
	w.Flush()
	return strings.TrimRight(b.String(), "\n")
}

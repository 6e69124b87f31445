package decisionlog_test

// childMain runs the body of a re-executed test binary (the crash test) and
// reports whether it did.
func childMain() bool { return false }

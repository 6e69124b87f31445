package main

import (
	"errors"
	"flag"
	"fmt"
)

// The exit codes of every command, and only these:
const (
	// exitOK: the command did what was asked (a run whose targets all have
	// a value, every spec valid, the pictures written).
	exitOK = 0
	// exitFailed: the command ran and failed: a run with a target
	// without a value, an invalid spec, a file that cannot be read or
	// written, an internal error (a bug: a recovered panic).
	exitFailed = 1
	// exitUsage: the command was asked wrongly: an unknown command or
	// flag, a bad flag value, a missing or extra argument, an --input the
	// spec does not declare or gives twice, an --upstream it does not have.
	// Nothing ran.
	exitUsage = 2
)

// usageError marks a bad invocation: exit code 2, and the message is
// followed by a one-line hint to the command's help. Commands return one
// (through usagef, or wrapping with usageError{err}) for any problem with
// their arguments that they find before doing anything.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// exitCode maps what a command returned to the process exit code.
func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	default:
		return exitFailed
	}
}

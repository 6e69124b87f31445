package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/featgraph/featgraph/spec"
)

func init() {
	register(command{
		name:    "validate",
		summary: "check spec files and report every problem with file:line:col",
		run:     runValidate,
	})
}

// runValidate loads every file and reports all their errors; it fails when
// any file has one. Go nodes cannot be bound from the command line, so
// they are accepted and listed.
func runValidate(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "validate", "FILE...\n\nChecks each spec: syntax, unknown keys, types, dependencies, cycles,\nexpressions. Go nodes and upstream URLs from unset environment variables\nare noted, not errors: they matter only to a run. Prints every error found; exit 1 if any, 0 when all are valid.")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		fs.Usage()
		return usageError{errors.New("no spec file given")}
	}
	bad := 0
	for _, file := range files {
		s, err := spec.Load(file, spec.AllowUnbound(), spec.AllowUnsetEnv(), spec.Getenv(e.getenv))
		if err != nil {
			bad++
			fmt.Fprintln(e.stderr, err)
			continue
		}
		s.Close()
		fmt.Fprintf(e.stdout, "%s: ok (%d nodes, targets %v)\n", file, s.Graph().Len(), s.Targets())
		for _, name := range s.Unbound() {
			fmt.Fprintf(e.stdout, "%s: note: go node %q needs Go code (spec.Bind) to run\n", file, name)
		}
		for _, name := range s.Unresolved() {
			fmt.Fprintf(e.stdout, "%s: note: upstream %q reads an environment variable that is not set here; set it (or use --upstream) to run\n", file, name)
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d files invalid", bad, len(files))
	}
	return nil
}

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

const validateUsage = `FILE... [--format table|json]

Checks each spec: syntax, unknown keys, types, dependencies, cycles,
expressions. Go nodes and upstream URLs from unset environment variables
are noted, not errors: they matter only to a run. Prints every problem
found (on stderr as file:line:col: "node": what is wrong, or in the JSON on
stdout); exit 1 if any file has one, 0 when all are valid.`

// validateJSON is the output of validate --format json.
type validateJSON struct {
	Valid bool               `json:"valid"`
	Files []validateFileJSON `json:"files"`
}

type validateFileJSON struct {
	File    string   `json:"file"`
	Valid   bool     `json:"valid"`
	Nodes   int      `json:"nodes,omitempty"`
	Targets []string `json:"targets,omitempty"`
	// Unbound lists the go nodes that need Go code to run.
	Unbound []string `json:"unbound,omitempty"`
	// Unresolved lists the upstreams whose URL reads an unset variable.
	Unresolved []string        `json:"unresolved,omitempty"`
	Errors     []specErrorJSON `json:"errors,omitempty"`
}

// specErrorJSON is one problem: where (line and col from 1; 0 when
// unknown), which node, what.
type specErrorJSON struct {
	Line    int    `json:"line,omitempty"`
	Col     int    `json:"col,omitempty"`
	Node    string `json:"node,omitempty"`
	Message string `json:"message"`
}

// runValidate loads every file and reports all their errors; it fails when
// any file has one. Go nodes cannot be bound from the command line, so
// they are accepted and listed.
func runValidate(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "validate", validateUsage)
	format := addFormatFlag(fs)
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("no spec file given")
	}
	out := validateJSON{Valid: true}
	bad := 0
	for _, file := range files {
		r := validateFileJSON{File: file, Valid: true}
		s, err := spec.Load(file, spec.AllowUnbound(), spec.AllowUnsetEnv(), spec.Getenv(e.getenv))
		if err != nil {
			bad++
			r.Valid, out.Valid = false, false
			r.Errors = specErrors(err)
			if !format.json() {
				fmt.Fprintln(e.stderr, cleanMessage(err.Error()))
			}
			out.Files = append(out.Files, r)
			continue
		}
		s.Close()
		r.Nodes, r.Targets, r.Unbound, r.Unresolved = s.Graph().Len(), s.Targets(), s.Unbound(), s.Unresolved()
		out.Files = append(out.Files, r)
		if format.json() {
			continue
		}
		fmt.Fprintf(e.stdout, "%s: ok (%d nodes, targets %v)\n", file, r.Nodes, r.Targets)
		for _, name := range r.Unbound {
			fmt.Fprintf(e.stdout, "%s: note: go node %q needs Go code (spec.Bind) to run\n", file, name)
		}
		for _, name := range r.Unresolved {
			fmt.Fprintf(e.stdout, "%s: note: upstream %q reads an environment variable that is not set here; set it (or use --upstream) to run\n", file, name)
		}
	}
	if format.json() {
		if err := writeJSON(e.stdout, out); err != nil {
			return err
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d files invalid", bad, len(files))
	}
	return nil
}

// specErrors lists the problems of a failed Load.
func specErrors(err error) []specErrorJSON {
	var list spec.ErrorList
	if !errors.As(err, &list) {
		return []specErrorJSON{{Message: cleanMessage(err.Error())}}
	}
	out := make([]specErrorJSON, 0, len(list))
	for _, se := range list {
		msg := se.Msg
		if se.Err != nil {
			if msg != "" {
				msg += ": "
			}
			msg += se.Err.Error()
		}
		out = append(out, specErrorJSON{Line: se.Line, Col: se.Col, Node: se.Node, Message: cleanNodeMessage(msg, se.Node)})
	}
	return out
}

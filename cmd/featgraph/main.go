// Command featgraph runs, validates and draws featgraph graphs.
//
// Usage:
//
//	featgraph <command> [flags] [args]
//	featgraph help [command]
//	featgraph --version
//
// The commands: demo (the card-authorization graph against simulated
// services, or those services over HTTP), validate (check specs), dot (draw
// a spec's graph), run (run a spec against its upstreams), draw (draw a
// run recorded with run --record), serve (specs as a decision service
// over HTTP, with --log and --shadow) and log (read a decision log: tail,
// shadow-report). "featgraph help CMD", "featgraph CMD
// -h" and "featgraph CMD --help" print a command's help on stdout.
//
// Conventions every command follows:
//
//   - Exit codes: 0 success; 1 the command ran and failed (a run with a
//     target without a value, an invalid spec, a file that cannot be read
//     or written, an internal error); 2 bad usage (unknown command or flag,
//     bad flag value, an --input the spec does not declare or gives twice,
//     an --upstream it does not have): nothing ran.
//   - Help goes to stdout; errors to stderr, once, with a one-line hint
//     after a usage error.
//   - Nothing is written to disk unless asked (demo alone has a default
//     directory): one file with -o FILE (or run --record FILE), several
//     with --out-dir DIR. Output paths are checked before any work.
//   - JSON output (--format json) gives durations in milliseconds as
//     floats, in fields named *_ms, and NaN and infinite values as the
//     strings "NaN", "+Inf" and "-Inf".
//
// Words: a run record is the JSON file run --record writes (an
// executor.Record); draw turns it into pictures; trace.json is the
// Perfetto (Chrome trace-event) file among those pictures, in
// microseconds as that format wants; OpenTelemetry traces are the spans a
// run emits, which the CLI does not export.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
)

// command is one subcommand. Each lives in a file of its own and registers
// itself in an init function, so commands can be added without touching
// this file.
type command struct {
	name    string
	summary string
	// run executes the command with its arguments (after the command
	// name). It returns nil, flag.ErrHelp (help printed), a usageError
	// (exit 2) or another error (exit 1); runMain prints the error.
	run func(ctx context.Context, env *env, args []string) error
}

// env is what a command may touch of the process, so tests can run commands
// in-process with captured output.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := runMain(ctx, &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

// runMain runs one command and returns the process exit code.
func runMain(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		printUsage(e.stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		printUsage(e.stdout)
		return exitOK
	case "-version", "--version":
		args = []string{"version"}
	case "help":
		if len(args) == 1 || args[1] == "help" {
			printUsage(e.stdout)
			return exitOK
		}
		if len(args) > 2 {
			fmt.Fprintf(e.stderr, "featgraph help: want one command, got %q\n", args[1:])
			return exitUsage
		}
		args = []string{args[1], "--help"}
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "featgraph: unknown command %s\nRun 'featgraph help' for the commands.\n", quoteValue(args[0]))
		return exitUsage
	}
	err := runProtected(ctx, e, c, args[1:])
	code := exitCode(err)
	switch code {
	case exitUsage:
		fmt.Fprintf(e.stderr, "featgraph %s: %s\nRun 'featgraph help %s' for usage.\n", c.name, cleanMessage(err.Error()), c.name)
	case exitFailed:
		fmt.Fprintf(e.stderr, "featgraph %s: %s\n", c.name, cleanMessage(err.Error()))
	}
	return code
}

// internalError is a panic of a command, recovered: a bug, exit 1.
type internalError struct {
	value any
	stack []byte
}

func (e *internalError) Error() string {
	return fmt.Sprintf("internal error (a bug; please report it with this message): %v\n%s", e.value, e.stack)
}

// runProtected runs c, turning a panic into an internalError.
func runProtected(ctx context.Context, e *env, c command, args []string) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &internalError{value: v, stack: debug.Stack()}
		}
	}()
	return c.run(ctx, e, args)
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "featgraph runs, validates and draws feature graphs.\n\nUsage: featgraph <command> [flags] [args]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-10s %s\n", name, commands[name].summary)
	}
	fmt.Fprintln(w, "\nRun 'featgraph help <command>' (or featgraph <command> --help) for a command's flags.\nExit codes: 0 success, 1 the command failed (a failed run, an invalid spec), 2 bad usage.")
}

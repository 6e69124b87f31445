// Command featgraph runs, validates and draws featgraph graphs.
//
// Usage:
//
//	featgraph <command> [flags] [args]
//
// Run "featgraph help" for the list of commands and "featgraph <command>
// --help" for one command's flags. Exit codes: 0 success, 1 the command ran
// and found a problem (invalid spec, failed run), 2 bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
)

// command is one subcommand. Each lives in a file of its own and registers
// itself in an init function, so commands can be added without touching
// this file.
type command struct {
	name    string
	summary string
	// run executes the command with its arguments (after the command name).
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

// usageError marks a bad invocation: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := runMain(ctx, &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

// runMain runs one command and returns the process exit code.
func runMain(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(e.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "featgraph: unknown command %q\n", args[0])
		printUsage(e.stderr)
		return 2
	}
	err := c.run(ctx, e, args[1:])
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "featgraph %s: %v\n", c.name, err)
		return 2
	default:
		fmt.Fprintf(e.stderr, "featgraph %s: %v\n", c.name, err)
		return 1
	}
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
	fmt.Fprintln(w, "\nRun 'featgraph <command> --help' for a command's flags.\nExit codes: 0 success, 1 failure, 2 bad usage.")
}

// newFlagSet returns a flag set that reports errors instead of exiting and
// prints its usage to e.stderr.
func newFlagSet(e *env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: featgraph %s %s\n", name, usage)
		if strings.Contains(usage, "[flags]") {
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args, turning a flag error into a usageError.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	return nil
}

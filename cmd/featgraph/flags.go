package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// newFlagSet returns the flag set of a command. usage is what follows
// "featgraph NAME" in the help: the arguments, then a blank line and what
// the command does. The flag package prints nothing itself: parseFlags
// prints the help to stdout on -h or --help, and a flag error becomes a
// usageError that runMain prints once, with a one-line hint.
//
// Flags are written --name in the help; -name works too.
func newFlagSet(e *env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() { printHelp(e.stdout, fs, name, usage) }
	return fs
}

// printHelp writes a command's help: its usage, then its flags.
func printHelp(w io.Writer, fs *flag.FlagSet, name, usage string) {
	usage = strings.TrimRight(strings.TrimSuffix(strings.TrimRight(usage, " \n"), "Flags:"), " \n")
	if usage != "" && !strings.HasPrefix(usage, "\n") {
		usage = " " + usage
	}
	fmt.Fprintf(w, "Usage: featgraph %s%s\n", name, usage)
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if first {
			fmt.Fprintf(w, "\nFlags:\n")
			first = false
		}
		dashes := "--"
		if len(f.Name) == 1 {
			dashes = "-"
		}
		arg, help := flag.UnquoteUsage(f)
		if arg != "" {
			arg = " " + arg
		}
		fmt.Fprintf(w, "  %s%s%s\n", dashes, f.Name, arg)
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "0s" && f.DefValue != "false" && f.DefValue != "[]" {
			def := f.DefValue
			if g, ok := f.Value.(flag.Getter); ok {
				if _, isString := g.Get().(string); isString {
					def = fmt.Sprintf("%q", def)
				}
			}
			help += " (default " + def + ")"
		}
		for line := range strings.SplitSeq(help, "\n") {
			fmt.Fprintf(w, "      %s\n", line)
		}
	})
}

// parseFlags parses args with fs. On -h or --help it prints the command's
// help to stdout and returns flag.ErrHelp (exit 0); a flag error is a
// usageError (exit 2).
func parseFlags(fs *flag.FlagSet, args []string) error {
	help := fs.Usage
	fs.Usage = func() {} // the flag package calls it on errors too
	err := fs.Parse(args)
	fs.Usage = help
	switch {
	case errors.Is(err, flag.ErrHelp):
		help()
		return err
	case err != nil:
		return usageError{err}
	}
	return nil
}

// parseInterleaved parses args with fs, allowing flags after positional
// arguments (featgraph run FILE --input a=1), which flag.Parse alone does
// not: it stops at the first positional argument. Everything after "--" is
// positional. Errors are parseFlags's.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// listFlag is a repeatable flag: --input a=1 --input b=2.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// keyValues splits NAME=VALUE items, reporting the first malformed one and
// a name given twice, as usage errors.
func keyValues(items []string, flagName string) ([][2]string, error) {
	out := make([][2]string, 0, len(items))
	seen := map[string]bool{}
	for _, it := range items {
		k, v, ok := strings.Cut(it, "=")
		if !ok || k == "" {
			return nil, usagef("--%s %s: want NAME=VALUE", flagName, quoteValue(it))
		}
		if seen[k] {
			return nil, usagef("--%s %s given twice", flagName, k)
		}
		seen[k] = true
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

// formatFlag is --format: table (for people, the default) or json (for
// machines); any other value is a usage error when the flags are parsed.
type formatFlag string

// addFormatFlag defines --format table|json on fs.
func addFormatFlag(fs *flag.FlagSet) *formatFlag {
	f := formatFlag("table")
	fs.Var(&f, "format", "output format: `table` or json")
	return &f
}

func (f *formatFlag) String() string { return string(*f) }

func (f *formatFlag) Set(s string) error {
	if s != "table" && s != "json" {
		return errors.New("want table or json")
	}
	*f = formatFlag(s)
	return nil
}

// Get returns the format, so that help quotes its default as a string's.
func (f *formatFlag) Get() any { return string(*f) }

// json reports whether JSON was asked for.
func (f *formatFlag) json() bool { return *f == "json" }

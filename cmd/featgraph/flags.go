package main

import (
	"flag"
	"fmt"
	"strings"
)

// parseInterleaved parses args with fs, allowing flags after positional
// arguments (featgraph run FILE --input a=1), which flag.Parse alone does
// not: it stops at the first positional argument. Everything after "--" is
// positional.
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

// keyValues splits NAME=VALUE items, reporting the first malformed one.
func keyValues(items []string, flagName string) ([][2]string, error) {
	out := make([][2]string, 0, len(items))
	for _, it := range items {
		k, v, ok := strings.Cut(it, "=")
		if !ok || k == "" {
			return nil, usageError{fmt.Errorf("--%s %q: want NAME=VALUE", flagName, it)}
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

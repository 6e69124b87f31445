package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

func init() {
	register(command{
		name:    "version",
		summary: "print featgraph's version, commit and Go version (also --version)",
		run:     runVersion,
	})
}

func runVersion(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "version", "\n\nPrints the module version, the commit it was built from (when built\nfrom a checkout) and the Go version, from the binary's build information.")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected arguments %q", rest)
	}
	info, _ := debug.ReadBuildInfo()
	printVersion(e.stdout, info)
	return nil
}

// printVersion writes one line: featgraph VERSION [(commit REV, TIME,
// modified)] GOVERSION.
func printVersion(w io.Writer, info *debug.BuildInfo) {
	if info == nil {
		fmt.Fprintln(w, "featgraph (unknown version: no build information)")
		return
	}
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var vcs []string
	var modified bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev := s.Value
			if len(rev) > 12 {
				rev = rev[:12]
			}
			vcs = append([]string{"commit " + rev}, vcs...)
		case "vcs.time":
			vcs = append(vcs, s.Value)
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if modified {
		vcs = append(vcs, "modified")
	}
	line := "featgraph " + version
	if len(vcs) > 0 {
		line += " (" + strings.Join(vcs, ", ") + ")"
	}
	fmt.Fprintln(w, line, info.GoVersion)
}

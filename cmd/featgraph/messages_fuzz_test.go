package main

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCleanMessage: cleaning any message never panics, keeps valid UTF-8
// valid and bounds every line.
func FuzzCleanMessage(f *testing.F) {
	for _, seed := range []string{
		`node "long": upstream "accounts", node "long": GET /a: status 503`,
		`f.yaml:3:3: "a": graph: dependency cycle: a -> b -> a`,
		`node "a" not run: dependency "b" failed because "c" failed: node "c": boom`,
		`expression "` + strings.Repeat(`\"x\" + `, 40) + `": unknown name`,
		"node \"é\": \"\xff\xfe\": node \"é\": x",
		`node "", node "": node ""`,
	} {
		f.Add(seed, "long")
	}
	f.Fuzz(func(t *testing.T, msg, node string) {
		out := cleanNodeMessage(msg, node)
		if utf8.ValidString(msg) && !utf8.ValidString(out) {
			t.Fatalf("valid UTF-8 in, invalid out: %q", out)
		}
		for line := range strings.SplitSeq(out, "\n") {
			if len(line) > maxLine {
				t.Fatalf("a line of %d bytes: %.200q", len(line), line)
			}
		}
	})
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// countingServer answers {"amount": 12.5} and counts its requests.
func countingServer(t *testing.T) (url string, hits *atomic.Int64) {
	t.Helper()
	hits = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, `{"amount": 12.5}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, hits
}

// TestExitCodes holds each case to the one convention: 0 ok, 1 the command
// ran and failed, 2 bad usage (nothing ran), and checks that an error is
// printed once, on stderr, followed after a usage error by a one-line hint
// instead of the whole help.
func TestExitCodes(t *testing.T) {
	url, hits := countingServer(t)
	small := writeSpec(t, "small.yaml", smallSpec)
	bad := writeSpec(t, "bad.yaml", "version: 1\nnodes:\n  a: {expr: nope, type: int}\n")
	up := "prices=" + url
	register(command{name: "crash-for-test", summary: "panics", run: func(_ context.Context, _ *env, args []string) error {
		return errors.New(args[len(args)]) // out of range: a bug of the command
	}})
	t.Cleanup(func() { delete(commands, "crash-for-test") })

	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string // in stderr, once
	}{
		{"ok", []string{"run", small, "--upstream", up, "--input", "sku=a", "--input", "qty=2"}, 0, ""},
		{"bad --input value", []string{"run", small, "--upstream", up, "--input", "sku=a", "--input", "qty=many"}, 2, `--input qty="many": not an int`},
		{"bad --input float", []string{"run", writeSpec(t, "f.yaml", "version: 1\ninputs: {x: float}\nnodes:\n  y: {expr: x, type: float}\n"), "--input", "x=abc"}, 2, `not a float`},
		{"bad --input object", []string{"run", writeSpec(t, "o.yaml", "version: 1\ninputs: {x: object}\nnodes:\n  y: {expr: x, type: object}\n"), "--input", "x=[1]"}, 2, `not an object`},
		{"the same input twice", []string{"run", small, "--upstream", up, "--input", "sku=a", "--input", "qty=1", "--input", "qty=2"}, 2, "--input qty given twice"},
		{"unknown --input", []string{"run", small, "--upstream", up, "--input", "sku=a", "--input", "colour=red"}, 2, `--input "colour": the spec has no such input (it has sku (string), qty (int))`},
		{"malformed --input", []string{"run", small, "--input", "sku"}, 2, `want NAME=VALUE`},
		{"unknown --upstream", []string{"run", small, "--upstream", "nope=" + url, "--input", "sku=a", "--input", "qty=1"}, 2, `no upstream "nope" to set the URL of`},
		{"the same upstream twice", []string{"run", small, "--upstream", up, "--upstream", up, "--input", "sku=a", "--input", "qty=1"}, 2, "--upstream prices given twice"},
		{"unknown flag", []string{"run", small, "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{"bad flag value", []string{"demo", "--latency", "soon"}, 2, `invalid value "soon" for flag -latency`},
		{"bad --format", []string{"run", small, "--format", "yaml"}, 2, `invalid value "yaml" for flag -format: want table or json`},
		{"two spec files", []string{"run", small, small}, 2, "want one spec file, got 2 arguments"},
		{"unknown command", []string{"nosuch"}, 2, `unknown command "nosuch"`},
		{"help of an unknown command", []string{"help", "nosuch"}, 2, `unknown command "nosuch"`},
		{"bad --serve address", []string{"demo", "--serve", "8080"}, 2, `--serve "8080": want host:port`},
		{"missing spec file", []string{"run", filepath.Join(t.TempDir(), "none.yaml")}, 1, "no such file"},
		{"invalid spec", []string{"validate", bad}, 1, "1 of 1 files invalid"},
		{"invalid spec run", []string{"run", bad}, 1, `"a": expression "nope"`},
		{"crash", []string{"crash-for-test"}, 1, "internal error (a bug; please report it with this message): runtime error: index out of range [0] with length 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := hits.Load()
			code, out, errOut := runCommand(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
			if tc.msg != "" && strings.Count(errOut, tc.msg) != 1 {
				t.Errorf("stderr does not say %q once:\n%s", tc.msg, errOut)
			}
			if tc.code == 0 {
				return
			}
			if strings.Contains(errOut, "Usage:") || strings.Contains(errOut, "Flags:") {
				t.Errorf("stderr holds the whole usage:\n%s", errOut)
			}
			hint := regexp.MustCompile(`(?m)^Run 'featgraph help( \S+)?' for (usage|the commands)\.$`)
			if got := hint.MatchString(errOut); got != (tc.code == 2) {
				t.Errorf("one-line hint printed: %v, want %v:\n%s", got, tc.code == 2, errOut)
			}
			if tc.code == 2 && hits.Load() != before {
				t.Errorf("a usage error reached the upstream")
			}
			if tc.code == 2 && out != "" {
				t.Errorf("a usage error printed on stdout:\n%s", out)
			}
		})
	}
}

// TestNoArgumentsIsUsage: featgraph alone prints the commands on stderr and
// exits 2; asked for help, on stdout with exit 0.
func TestNoArgumentsIsUsage(t *testing.T) {
	code, out, errOut := runCommand(t)
	if code != 2 || out != "" || !strings.Contains(errOut, "Commands:") {
		t.Errorf("no arguments: exit code %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		code, out, errOut := runCommand(t, args...)
		if code != 0 || errOut != "" || !strings.Contains(out, "Commands:") {
			t.Errorf("%q: exit code %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

// TestHelpGoesToStdout: help CMD, CMD -h and CMD --help print the same help
// of that command, on stdout, with exit 0, for every command.
func TestHelpGoesToStdout(t *testing.T) {
	_, general, _ := runCommand(t, "help")
	var names []string
	for name := range commands {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, want := range []string{"demo", "dot", "draw", "run", "validate", "version"} {
		if !slices.Contains(names, want) {
			t.Errorf("no command %q in %v", want, names)
		}
	}
	for _, name := range names {
		var helps []string
		for _, args := range [][]string{{"help", name}, {name, "-h"}, {name, "--help"}} {
			code, out, errOut := runCommand(t, args...)
			if code != 0 || errOut != "" || !strings.HasPrefix(out, "Usage: featgraph "+name) {
				t.Errorf("%q: exit code %d, stderr %q, stdout:\n%s", args, code, errOut, out)
			}
			helps = append(helps, out)
		}
		if helps[0] != helps[1] || helps[1] != helps[2] || helps[0] == general {
			t.Errorf("%s: help CMD, -h and --help differ or give the general help:\n%s", name, strings.Join(helps, "\n---\n"))
		}
		if !strings.Contains(general, "  "+name+" ") {
			t.Errorf("the general help does not list %s:\n%s", name, general)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}, {"-version"}} {
		code, out, errOut := runCommand(t, args...)
		if code != 0 || errOut != "" || !strings.HasPrefix(out, "featgraph ") || !strings.Contains(out, runtime.Version()) {
			t.Errorf("%q: exit code %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	if code, _, _ := runCommand(t, "version", "extra"); code != 2 {
		t.Errorf("version extra: exit code %d, want 2", code)
	}
	var b bytes.Buffer
	printVersion(&b, &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"},
	}})
	if want := "featgraph v1.2.3 (commit 0123456789ab, 2026-12-01T10:00:00Z, modified) go1.26.0\n"; b.String() != want {
		t.Errorf("printVersion = %q, want %q", b.String(), want)
	}
}

func TestCleanMessage(t *testing.T) {
	long := strings.Repeat("x + ", 250_000)
	for _, tc := range []struct{ node, in, want string }{
		{"", `node "long": upstream "accounts", node "long": GET /a: status 503`, `node "long": upstream "accounts": GET /a: status 503`},
		{"", `run failed: node "total" not run: dependency "price" failed: node "price": upstream "prices": GET /p`, `run failed: node "total" not run: dependency "price" failed: upstream "prices": GET /p`},
		{"total", `node "total" not run: dependency "price" failed: node "price": boom`, `not run: dependency "price" failed: boom`},
		{"long", `node "long": upstream "accounts", node "long": boom`, `upstream "accounts": boom`},
		{"", `f.yaml:3:3: "a": graph: dependency cycle: a -> b -> a`, `f.yaml:3:3: "a": dependency cycle: a -> b -> a`},
		{"", `executor: input "qty" is bound twice`, `input "qty" is bound twice`},
		{"", `spec: open x.yaml: no such file or directory`, `open x.yaml: no such file or directory`},
		{"", `node "a": node "b": boom`, `node "a": node "b": boom`}, // two nodes, both named
		{"", `"graph": graph: node "graph" is declared twice`, `"graph": node "graph" is declared twice`},
		{"", fmt.Sprintf(`f.yaml:4:11: "a": expression %q: unknown name x`, long), `f.yaml:4:11: "a": expression "x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + …" (1000000 bytes): unknown name x`},
		{"", "a\x1b[2J\tb\nc\x00d\u0085e\xffé", "a\\x1b[2J\tb\nc\\x00d\\u0085e\ufffdé"},
		{"", "héllo " + strings.Repeat("é", 1000), "héllo " + strings.Repeat("é", 181) + "… (line of 2007 bytes)"},
	} {
		if got := cleanNodeMessage(tc.in, tc.node); got != tc.want {
			t.Errorf("cleanNodeMessage(%.100q, %q)\n got %.300q\nwant %.300q", tc.in, tc.node, got, tc.want)
		}
	}
	if article("int") != "an" || article("object") != "an" || article("float") != "a" || article("list") != "a" {
		t.Error("article")
	}
}

// TestHugeValuesAreNotEchoed: a 1 MB expression or --input value is not
// printed whole.
func TestHugeValuesAreNotEchoed(t *testing.T) {
	huge := strings.Repeat("x + ", 250_000) + "1"
	file := writeSpec(t, "huge.yaml", "version: 1\ninputs: {n: int}\nnodes:\n  a: {expr: \""+huge+"\", type: int}\n")
	code, _, errOut := runCommand(t, "validate", file)
	if code != 1 || len(errOut) > 2000 || !strings.Contains(errOut, `"a": expression "x + x`) {
		t.Errorf("exit code %d, %d bytes of stderr: %.500s", code, len(errOut), errOut)
	}
	code, out, _ := runCommand(t, "validate", "--format", "json", file)
	if code != 1 || len(out) > 2000 {
		t.Errorf("validate --format json: exit code %d, %d bytes: %.500s", code, len(out), out)
	}
	small := writeSpec(t, "small.yaml", smallSpec)
	code, _, errOut = runCommand(t, "run", small, "--input", "qty="+strings.Repeat("9", 1<<20))
	if code != 2 || len(errOut) > 1000 || !strings.Contains(errOut, "not an int") {
		t.Errorf("exit code %d, %d bytes of stderr: %.500s", code, len(errOut), errOut)
	}
}

// TestNodeNamedOnce: the table, the JSON and the error of a failed run name
// each node once per message, and no package prefix leaks.
func TestNodeNamedOnce(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	small := writeSpec(t, "small.yaml", smallSpec)
	args := []string{"run", small, "--input", "sku=A", "--input", "qty=1", "--upstream", "prices=" + srv.URL}
	code, out, errOut := runCommand(t, args...)
	if code != 1 {
		t.Fatalf("exit code %d", code)
	}
	for _, line := range strings.Split(out+errOut, "\n") {
		for _, node := range []string{"price", "total", "expensive"} {
			if n := strings.Count(line, `node "`+node+`"`); n > 1 {
				t.Errorf("node %s named %d times: %s", node, n, line)
			}
		}
		if regexp.MustCompile(`^(price|total|expensive) .*node "(price|total|expensive)" `).MatchString(line) && !strings.Contains(line, "dependency") {
			t.Errorf("a row names its own node again: %s", line)
		}
		if strings.Contains(line, "executor: ") || strings.Contains(line, "graph: ") {
			t.Errorf("a package prefix leaks: %s", line)
		}
	}
	if !regexp.MustCompile(`(?m)^total +fetch +error .* not run: dependency "price" failed: upstream "prices"`).MatchString(out) {
		t.Errorf("the table:\n%s", out)
	}
	code, out, _ = runCommand(t, append(args, "--format", "json")...)
	var res runJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 1 {
		t.Fatalf("exit code %d, %v:\n%s", code, err, out)
	}
	for _, n := range res.Nodes {
		if strings.Contains(n.Cause, `node "`+n.Name+`"`) {
			t.Errorf("node %s: cause names it again: %s", n.Name, n.Cause)
		}
	}
}

const nanSpec = `version: 1
inputs:
  x: float
nodes:
  same:
    expr: x
    type: float
  negated:
    expr: -x
    type: float
  both:
    expr: '{"x": x, "list": [x, -x, 1.5]}'
    type: object
targets: [same, negated, both]
`

// TestRunJSONNonFinite: NaN and infinities are strings in the JSON, which
// stays valid, and the exit code is the run's (0).
func TestRunJSONNonFinite(t *testing.T) {
	file := writeSpec(t, "nan.yaml", nanSpec)
	for _, tc := range []struct{ in, same, negated string }{{"NaN", "NaN", "NaN"}, {"+Inf", "+Inf", "-Inf"}, {"-Inf", "-Inf", "+Inf"}} {
		code, out, errOut := runCommand(t, "run", file, "--format", "json", "--input", "x="+tc.in)
		var res runJSON
		if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 {
			t.Fatalf("x=%s: exit code %d, %v\nstdout:\n%s\nstderr:\n%s", tc.in, code, err, out, errOut)
		}
		both, _ := res.Targets["both"].(map[string]any)
		list, _ := both["list"].([]any)
		if res.Targets["same"] != tc.same || res.Targets["negated"] != tc.negated || both["x"] != tc.same ||
			len(list) != 3 || list[0] != tc.same || list[1] != tc.negated || list[2] != 1.5 {
			t.Errorf("x=%s: targets %v", tc.in, res.Targets)
		}
		code, out, _ = runCommand(t, "run", file, "--input", "x="+tc.in)
		if code != 0 || !strings.Contains(out, `same = "`+tc.same+`"`) {
			t.Errorf("x=%s table: exit code %d:\n%s", tc.in, code, out)
		}
	}
}

// TestJSONDurationsInMilliseconds: every duration field of the CLI's JSON
// is *_ms.
func TestJSONDurationsInMilliseconds(t *testing.T) {
	url, _ := countingServer(t)
	file := writeSpec(t, "small.yaml", smallSpec)
	code, out, _ := runCommand(t, "run", file, "--format", "json", "--upstream", "prices="+url, "--input", "sku=a", "--input", "qty=1")
	var res map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 {
		t.Fatalf("exit code %d, %v", code, err)
	}
	keys := []string{}
	for k := range res {
		keys = append(keys, k)
	}
	for _, n := range res["nodes"].([]any) {
		for k := range n.(map[string]any) {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		if (strings.Contains(k, "duration") || strings.Contains(k, "start") || strings.HasSuffix(k, "_ns")) && !strings.HasSuffix(k, "_ms") {
			t.Errorf("field %q is a duration not in milliseconds", k)
		}
	}
	if !slices.Contains(keys, "duration_ms") || !slices.Contains(keys, "start_ms") {
		t.Errorf("fields %v", keys)
	}
}

// TestOutputPathsCheckedFirst: run --record or --out-dir to a path that
// cannot be written fails before the run (no call, nothing printed).
func TestOutputPathsCheckedFirst(t *testing.T) {
	url, hits := countingServer(t)
	file := writeSpec(t, "small.yaml", smallSpec)
	aFile := writeSpec(t, "a-file", "")
	for _, flags := range [][]string{
		{"--record", filepath.Join(t.TempDir(), "no-such-dir", "run.json")},
		{"--record", t.TempDir()},
		{"--out-dir", filepath.Join(aFile, "sub")},
	} {
		args := append([]string{"run", file, "--upstream", "prices=" + url, "--input", "sku=a", "--input", "qty=1"}, flags...)
		code, out, errOut := runCommand(t, args...)
		if code != 1 || out != "" || hits.Load() != 0 || !strings.Contains(errOut, flags[0]) {
			t.Errorf("%q: exit code %d, %d calls, stdout %q, stderr %q; want 1, no call, nothing printed, the flag named", flags, code, hits.Load(), out, errOut)
		}
	}
	// A good path gets the record whole, and nothing else lands beside it.
	dir := t.TempDir()
	record := filepath.Join(dir, "run.json")
	if code, _, errOut := runCommand(t, "run", file, "--upstream", "prices="+url, "--input", "sku=a", "--input", "qty=1", "--record", record); code != 0 {
		t.Fatalf("exit code %d: %s", code, errOut)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 || entries[0].Name() != "run.json" {
		t.Errorf("the directory holds %v, want run.json alone", entries)
	}
	if _, err := readRecord(record); err != nil {
		t.Error(err)
	}
}

// TestDrawEmptyRecord: a record of no nodes is an error and nothing is written.
func TestDrawEmptyRecord(t *testing.T) {
	for _, content := range []string{`{}`, `{"started": "2026-12-01T10:00:00Z", "duration_ms": 0, "nodes": []}`} {
		record := writeSpec(t, "empty.json", content)
		dir := filepath.Join(t.TempDir(), "pictures")
		svg := filepath.Join(t.TempDir(), "w.svg")
		for _, args := range [][]string{{"draw", record, "--out-dir", dir}, {"draw", record, "-o", svg}, {"draw", record}} {
			code, out, errOut := runCommand(t, args...)
			if code != 1 || out != "" || !strings.Contains(errOut, "no nodes") {
				t.Errorf("%s %q: exit code %d, stdout %q, stderr %q", content, args, code, out, errOut)
			}
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("--out-dir created: %v", err)
		}
		if _, err := os.Stat(svg); !os.IsNotExist(err) {
			t.Errorf("-o written: %v", err)
		}
	}
}

// TestDraw: -o FILE picks the picture by extension; nothing is written
// unless asked.
func TestDraw(t *testing.T) {
	url, _ := countingServer(t)
	file := writeSpec(t, "small.yaml", smallSpec)
	record := filepath.Join(t.TempDir(), "run.json")
	if code, _, errOut := runCommand(t, "run", file, "--upstream", "prices="+url, "--input", "sku=a", "--input", "qty=1", "--record", record); code != 0 {
		t.Fatalf("exit code %d: %s", code, errOut)
	}
	dir := t.TempDir()
	for ext, want := range map[string]string{".svg": "<svg", ".dot": "digraph", ".json": "traceEvents"} {
		out := filepath.Join(dir, "picture"+ext)
		code, stdout, errOut := runCommand(t, "draw", record, "-o", out)
		data, _ := os.ReadFile(out)
		if code != 0 || !strings.Contains(string(data), want) || !strings.Contains(stdout, "critical path: sku -> price -> total") || !strings.Contains(errOut, "wrote "+out) {
			t.Errorf("-o %s: exit code %d, stdout %q, stderr %q, file %.100q", out, code, stdout, errOut, data)
		}
	}
	for _, args := range [][]string{{"draw", record, "-o", filepath.Join(dir, "x.png")}, {"draw", record, "-o", filepath.Join(dir, "x.svg"), "--out-dir", dir}} {
		if code, _, _ := runCommand(t, args...); code != 2 {
			t.Errorf("%q: exit code %d, want 2", args, code)
		}
	}
}

// TestWriteNothingUnlessAsked: validate, dot, run and draw leave the
// working directory as they found it.
func TestWriteNothingUnlessAsked(t *testing.T) {
	url, _ := countingServer(t)
	file := writeSpec(t, "small.yaml", smallSpec)
	record := filepath.Join(t.TempDir(), "run.json")
	if code, _, errOut := runCommand(t, "run", file, "--upstream", "prices="+url, "--input", "sku=a", "--input", "qty=1", "--record", record); code != 0 {
		t.Fatalf("exit code %d: %s", code, errOut)
	}
	wd := t.TempDir()
	t.Chdir(wd)
	for _, args := range [][]string{
		{"validate", file}, {"validate", "--format", "json", file}, {"dot", file},
		{"run", file, "--upstream", "prices=" + url, "--input", "sku=a", "--input", "qty=1"},
		{"run", file, "--format", "json", "--upstream", "prices=" + url, "--input", "sku=a", "--input", "qty=1"},
		{"draw", record}, {"version"}, {"help", "run"},
	} {
		if code, _, errOut := runCommand(t, args...); code != 0 {
			t.Errorf("%q: exit code %d: %s", args, code, errOut)
		}
		if entries, _ := os.ReadDir(wd); len(entries) > 0 {
			t.Fatalf("%q wrote %v", args, entries)
		}
	}
}

func TestValidateJSON(t *testing.T) {
	bad := writeSpec(t, "bad.yaml", "version: 1\nnodes:\n  a: {expr: b, type: int}\n  b: {expr: a, type: int}\n  c: {value: 1, colour: red}\n")
	good := writeSpec(t, "good.yaml", smallSpec)
	code, out, errOut := runCommand(t, "validate", "--format", "json", good, bad)
	if code != 1 || !strings.Contains(errOut, "1 of 2 files invalid") {
		t.Errorf("exit code %d, stderr %q; want 1 and the count", code, errOut)
	}
	var res validateJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not JSON (%v):\n%s", err, out)
	}
	if res.Valid || len(res.Files) != 2 {
		t.Fatalf("%+v", res)
	}
	g, b := res.Files[0], res.Files[1]
	if g.File != good || !g.Valid || g.Nodes != 5 || !slices.Equal(g.Targets, []string{"total", "expensive"}) || len(g.Errors) != 0 {
		t.Errorf("the good file: %+v", g)
	}
	want := []specErrorJSON{
		{Line: 3, Col: 3, Node: "a", Message: "dependency cycle: a -> b -> a"},
		{Line: 5, Col: 17, Node: "c", Message: `unknown key "colour" in a value node (allowed: type, timeout, fallback, description, log, value)`},
	}
	if b.File != bad || b.Valid || !slices.Equal(b.Errors, want) {
		t.Errorf("the bad file: %+v\nwant errors %+v", b, want)
	}
	if code, _, _ := runCommand(t, "validate", "--format", "json", good); code != 0 {
		t.Errorf("a valid file: exit code %d", code)
	}
}

// TestHostileArguments: values from the command line or a file are never
// echoed raw (no terminal control sequence reaches stderr), and hostile
// files fail cleanly.
func TestHostileArguments(t *testing.T) {
	small := writeSpec(t, "small.yaml", smallSpec)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"run", small, "--input", "qty=\x1b[2J\x07"}, 2, `--input qty="\x1b[2J\a": not an int`},
		{[]string{"run", small, "--input", "\x1b]0;pwned\x07=1"}, 2, `--input "\x1b]0;pwned\a": the spec has no such input`},
		{[]string{"\x1b[31mred"}, 2, `unknown command "\x1b[31mred"`},
		{[]string{"draw", "/dev/zero"}, 1, "/dev/zero: "},
		{[]string{"run", small, "--\x1b[2Jx"}, 2, `flag provided but not defined: -\x1b[2Jx`},
		{[]string{"draw", small}, 1, "reading run record"},
		{[]string{"draw", writeSpec(t, "dup.json", `{"nodes": [{"name": "a", "kind": "input", "outcome": "ok"}, {"name": "a", "kind": "input", "outcome": "ok"}]}`)}, 1, `node "a" appears twice`},
	} {
		code, _, errOut := runCommand(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) || strings.ContainsAny(errOut, "\x1b\x07") {
			t.Errorf("%q: exit code %d, stderr %q; want %d and %q, no control characters", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

// TestAttemptsAgreeWithTheCause: a call retried inside one try of its node
// shows the call's attempts in the table and the JSON, as its cause says.
func TestAttemptsAgreeWithTheCause(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	file := writeSpec(t, "retry.yaml", strings.Replace(smallSpec, "timeout: 2s}", "timeout: 2s, retry: {attempts: 3, backoff: 1ms}}", 1))
	args := []string{"run", file, "--input", "sku=A", "--input", "qty=1", "--upstream", "prices=" + srv.URL}
	code, out, _ := runCommand(t, args...)
	if code != 1 || calls.Load() != 3 {
		t.Fatalf("exit code %d, %d calls; want 1, 3", code, calls.Load())
	}
	if !regexp.MustCompile(`(?m)^price +fetch +error +\S+ +\S+ +3 +.*after 3 attempts`).MatchString(out) {
		t.Errorf("the price row does not show 3 attempts beside the cause's:\n%s", out)
	}
	_, out, _ = runCommand(t, append(args, "--format", "json")...)
	var res runJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	for _, n := range res.Nodes {
		if n.Name == "price" && (n.Attempts != 3 || !strings.Contains(n.Cause, "after 3 attempts")) {
			t.Errorf("price in JSON: attempts %d, cause %q; want 3 and the cause saying so", n.Attempts, n.Cause)
		}
	}
}

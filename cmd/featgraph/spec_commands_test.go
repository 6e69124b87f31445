package main

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// writeSpec writes a spec file into a temporary directory.
func writeSpec(t *testing.T, name, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func exampleSpecs(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob("../../examples/specs/*.yaml")
	if len(files) < 3 {
		t.Fatalf("want at least 3 example specs, found %v", files)
	}
	return files
}

func TestValidateExamples(t *testing.T) {
	files := exampleSpecs(t)
	code, out, errOut := runCommand(t, append([]string{"validate"}, files...)...)
	if code != 0 {
		t.Fatalf("exit code %d:\n%s%s", code, out, errOut)
	}
	for _, f := range files {
		if !strings.Contains(out, f+": ok") {
			t.Errorf("no ok line for %s in:\n%s", f, out)
		}
	}
}

func TestValidateReportsEveryErrorOfEveryFile(t *testing.T) {
	bad1 := writeSpec(t, "bad1.yaml", "version: 1\nnodes:\n  a: {value: 1, colour: red}\n  b: {expr: nope, type: int}\n")
	bad2 := writeSpec(t, "bad2.yaml", "version: 1\nnodes:\n  a: {expr: b, type: int}\n  b: {expr: a, type: int}\n")
	good := exampleSpecs(t)[0]
	code, out, errOut := runCommand(t, "validate", bad1, good, bad2)
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	for _, want := range []string{
		bad1 + `:3:17: "a": unknown key "colour"`,
		bad1 + `:4:13: "b": expression "nope"`,
		bad2 + `:3:3: "a": dependency cycle: a -> b -> a`,
		"2 of 3 files invalid",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if !strings.Contains(out, good+": ok") {
		t.Errorf("the valid file is not reported ok:\n%s", out)
	}
}

func TestValidateNotesWhatOnlyARunNeeds(t *testing.T) {
	file := writeSpec(t, "env.yaml", "version: 1\nupstreams:\n  prod: {url: \"${FEATGRAPH_UNSET_URL}/v1\"}\ninputs: {x: int}\nnodes:\n  a: {http: {upstream: prod}}\n  g: {go: compute, deps: [x], type: int}\n")
	code, out, errOut := runCommand(t, "validate", file)
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, errOut)
	}
	for _, want := range []string{`note: upstream "prod" reads an environment variable`, `note: go node "g" needs Go code`} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	code, _, errOut = runCommand(t, "run", file, "--input", "x=1")
	if code != 1 || !strings.Contains(errOut, "FEATGRAPH_UNSET_URL is not set") {
		t.Errorf("run: exit code %d, stderr %s; want 1 and the variable named", code, errOut)
	}
}

func TestUsageErrors(t *testing.T) {
	spec := exampleSpecs(t)[0]
	for _, args := range [][]string{
		{"validate"},
		{"dot"},
		{"dot", spec, spec},
		{"run", spec, "--format", "yaml"},
		{"run", spec, "--input", "nosuch=1"},
		{"run", spec, "--input", "novalue"},
		{"run", spec, "--bogus"},
		{"draw"},
	} {
		code, _, errOut := runCommand(t, args...)
		if code != 2 || errOut == "" {
			t.Errorf("%q: exit code %d, stderr %q; want 2 and a message", args, code, errOut)
		}
	}
}

func TestDotFlagsAfterFile(t *testing.T) {
	spec := exampleSpecs(t)[0]
	code, out, errOut := runCommand(t, "dot", spec)
	if code != 0 || !strings.HasPrefix(out, "digraph") {
		t.Fatalf("exit code %d, stdout %.80q, stderr %s", code, out, errOut)
	}
	if _, err := exec.LookPath("dot"); err != nil {
		t.Fatal("Graphviz's dot is needed (.ci/run installs graphviz)")
	}
	svg := filepath.Join(t.TempDir(), "g.svg")
	code, _, errOut = runCommand(t, "dot", spec, "-o", svg)
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, errOut)
	}
	checkSVG(t, svg, "decision")
}

// checkSVG checks that path is well-formed XML that names node.
func checkSVG(t *testing.T, path, node string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(strings.NewReader(string(data)))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s is not XML: %v", path, err)
		}
	}
	if !strings.Contains(string(data), "<svg") || !strings.Contains(string(data), node) {
		t.Errorf("%s is not an SVG naming %q", path, node)
	}
}

const smallSpec = `version: 1
upstreams:
  prices: {url: "http://127.0.0.1:9/unused", timeout: 2s}
inputs:
  sku: string
  qty: int
nodes:
  price:
    http: {upstream: prices, path: "/price/{sku}"}
  total:
    expr: price.amount * qty
    type: float
  expensive:
    expr: total > 100
    type: bool
targets: [total, expensive]
`

func TestRunAgainstUpstream(t *testing.T) {
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		io.WriteString(w, `{"amount": 12.5}`)
	}))
	defer srv.Close()
	spec := writeSpec(t, "small.yaml", smallSpec)
	dir := t.TempDir()
	record := filepath.Join(dir, "run.json")
	code, out, errOut := runCommand(t, "run", spec, "--input", "sku=A 1", "--upstream", "prices="+srv.URL+"/v1",
		"--input", "qty=10", "--record", record, "--out-dir", filepath.Join(dir, "pictures"), "--deadline", "5s")
	if code != 0 {
		t.Fatalf("exit code %d:\n%s\n%s", code, out, errOut)
	}
	if len(paths) != 1 || paths[0] != "/v1/price/A 1" { // r.URL.Path is unescaped
		t.Errorf("upstream saw %q", paths)
	}
	for _, re := range []string{`(?m)^price +fetch +ok +\d+\.\d+ms +\d+\.\d+ms +1`, `(?m)^total = 125$`, `(?m)^expensive = true$`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output does not match %s:\n%s", re, out)
		}
	}
	for _, f := range []string{"graph.dot", "graph.svg", "run.dot", "run.svg", "waterfall.svg", "trace.json"} {
		if _, err := os.Stat(filepath.Join(dir, "pictures", f)); err != nil {
			t.Errorf("--out-dir: %v", err)
		}
	}

	// The recorded run draws again with draw.
	code, out, errOut = runCommand(t, "draw", record, "--out-dir", filepath.Join(dir, "again"))
	if code != 0 {
		t.Fatalf("draw: exit code %d: %s", code, errOut)
	}
	if !strings.Contains(out, "critical path: sku -> price -> total") {
		t.Errorf("draw output:\n%s", out)
	}
	checkSVG(t, filepath.Join(dir, "again", "waterfall.svg"), "price")
	checkSVG(t, filepath.Join(dir, "again", "run.svg"), "total")

	// JSON output.
	code, out, _ = runCommand(t, "run", "--format", "json", "--upstream", "prices="+srv.URL+"/v1", spec, "--input", "sku=B", "--input", "qty=2")
	var res runJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 {
		t.Fatalf("exit code %d, output not JSON (%v):\n%s", code, err, out)
	}
	if res.Targets["total"] != 25.0 || res.Targets["expensive"] != false || len(res.Nodes) != 5 {
		t.Errorf("json result %+v", res)
	}
}

func TestRunFailingUpstreamExitsOne(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	spec := writeSpec(t, "small.yaml", smallSpec)
	code, out, errOut := runCommand(t, "run", spec, "--input", "sku=A", "--input", "qty=1", "--upstream", "prices="+srv.URL)
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if !regexp.MustCompile(`(?m)^price +fetch +error .*503`).MatchString(out) || !strings.Contains(errOut, "down for maintenance") {
		t.Errorf("the failure is not reported:\nstdout:\n%s\nstderr:\n%s", out, errOut)
	}
}

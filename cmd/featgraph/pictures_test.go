package main

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDemoOutWritesEveryPicture(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pictures")
	code, out, errOut := runCommand(t, "demo", "--latency", "1ms", "--out-dir", dir)
	if code != 0 {
		t.Fatalf("exit code %d, stderr:\n%s", code, errOut)
	}
	for _, name := range []string{"graph.dot", "graph.svg", "run.dot", "run.svg", "waterfall.svg", "trace.json"} {
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v (stderr: %s)", name, err, errOut)
			continue
		}
		if !strings.Contains(out, path) {
			t.Errorf("output does not list %s:\n%s", path, out)
		}
		switch filepath.Ext(name) {
		case ".svg":
			if err := checkXML(data); err != nil {
				t.Errorf("%s is not XML: %v", name, err)
			}
		case ".json":
			var tf struct{ TraceEvents []map[string]any }
			if err := json.Unmarshal(data, &tf); err != nil || len(tf.TraceEvents) == 0 {
				t.Errorf("%s: %v, %d events", name, err, len(tf.TraceEvents))
			}
		}
	}
}

func TestDemoOutWithoutGraphvizSaysSo(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	dir := t.TempDir()
	code, _, errOut := runCommand(t, "demo", "--latency", "1ms", "--out-dir", dir)
	if code != 0 {
		t.Fatalf("exit code %d, stderr:\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "Graphviz") {
		t.Errorf("stderr does not say that Graphviz is missing:\n%s", errOut)
	}
	for _, name := range []string{"graph.dot", "run.dot", "waterfall.svg", "trace.json"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s not written without Graphviz: %v", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "graph.svg")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("graph.svg: %v, want it missing", err)
	}
}

func TestDemoOutUnwritableDirFails(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCommand(t, "demo", "--latency", "1ms", "--out-dir", filepath.Join(file, "sub"))
	if code != 1 || !strings.Contains(errOut, "--out-dir") {
		t.Errorf("exit code %d, stderr %q: want 1 and an error about --out-dir", code, errOut)
	}
	if out != "" {
		t.Errorf("the demo ran although its pictures cannot be written:\n%s", out)
	}
}

func checkXML(data []byte) error {
	dec := xml.NewDecoder(strings.NewReader(string(data)))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

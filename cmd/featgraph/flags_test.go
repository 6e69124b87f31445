package main

import (
	"bytes"
	"slices"
	"testing"
)

func TestParseInterleaved(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		positional []string
		inputs     []string
		format     string
	}{
		{[]string{"a.yaml"}, []string{"a.yaml"}, nil, "table"},
		{[]string{"a.yaml", "--input", "x=1", "--format", "json"}, []string{"a.yaml"}, []string{"x=1"}, "json"},
		{[]string{"--input", "x=1", "a.yaml", "--input=y=2", "b.yaml"}, []string{"a.yaml", "b.yaml"}, []string{"x=1", "y=2"}, "table"},
		{[]string{"a.yaml", "--", "--input", "x=1"}, []string{"a.yaml", "--input", "x=1"}, nil, "table"},
	} {
		e := &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
		fs := newFlagSet(e, "test", "[flags]")
		var inputs listFlag
		fs.Var(&inputs, "input", "")
		format := fs.String("format", "table", "")
		pos, err := parseInterleaved(fs, tc.args)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if !slices.Equal(pos, tc.positional) || !slices.Equal(inputs, tc.inputs) || *format != tc.format {
			t.Errorf("%q: positional %q, inputs %q, format %q", tc.args, pos, inputs, *format)
		}
	}
}

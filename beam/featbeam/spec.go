package featbeam

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/featgraph/featgraph/backfill"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/spec"
)

// SpecGraph is the name of the registered graph that builds a YAML spec:
// its GraphConfig is a SpecConfig as JSON (see NewSpecConfig).
const SpecGraph = "featgraph.spec"

// SpecConfig is the GraphConfig of SpecGraph: the spec's text travels with
// the pipeline, and each worker parses it.
type SpecConfig struct {
	// File is the spec's file name, for errors.
	File string `json:"file"`
	// YAML is the spec's text.
	YAML string `json:"yaml"`
	// Upstreams replaces upstreams' base URLs by name.
	Upstreams map[string]string `json:"upstreams,omitempty"`
}

// NewSpecConfig checks a spec (so that a bad one fails at launch, not in
// every worker) and returns the GraphConfig that runs it as SpecGraph.
// Environment variables in upstream URLs are read in the workers.
func NewSpecConfig(file string, yaml []byte, upstreams map[string]string) ([]byte, error) {
	c := SpecConfig{File: file, YAML: string(yaml), Upstreams: upstreams}
	opts := []spec.Option{spec.AllowUnsetEnv()}
	for name, url := range upstreams {
		opts = append(opts, spec.UpstreamURL(name, url))
	}
	s, err := spec.Parse(file, yaml, opts...)
	if err != nil {
		return nil, err
	}
	s.Close()
	return json.Marshal(c)
}

func init() {
	Register(SpecGraph, buildSpec)
}

func buildSpec(ctx context.Context, config []byte) (*Built, error) {
	var c SpecConfig
	if err := json.Unmarshal(config, &c); err != nil {
		return nil, fmt.Errorf("spec config: %w", err)
	}
	var opts []spec.Option
	for name, url := range c.Upstreams {
		opts = append(opts, spec.UpstreamURL(name, url))
	}
	s, err := spec.Parse(c.File, []byte(c.YAML), opts...)
	if err != nil {
		return nil, err
	}
	ex, err := executor.New(s.Graph())
	if err != nil {
		s.Close()
		return nil, err
	}
	return &Built{
		Executor: ex,
		Targets:  s.Targets(),
		// Nodes of a row that ask an upstream the same thing share one call.
		Options: []backfill.Option{backfill.RowContext(fetchers.WithRequestCache)},
		Close:   s.Close,
	}, nil
}

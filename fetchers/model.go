package fetchers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphx"
	"maps"
	"net/http"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// ScoreField is the field of a model's answer that holds the score.
const ScoreField = "score"

// Row is one flat set of named feature values sent to a model.
type Row = map[string]any

// Score is a model's answer: the score, and the other fields of the answer
// (a reason code, a model version) as they came.
type Score struct {
	Value float64
	Extra map[string]any
}

// UnmarshalJSON reads a flat JSON object with a numeric "score" field.
func (s *Score) UnmarshalJSON(b []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil || fields == nil {
		return fmt.Errorf("%w: a score must be a JSON object, got %s", ErrWrongShape, excerpt(b))
	}
	raw, ok := fields[ScoreField]
	if !ok {
		return fmt.Errorf("%w: no %q field", ErrWrongShape, ScoreField)
	}
	if err := json.Unmarshal(raw, &s.Value); err != nil {
		return fmt.Errorf("%w: %q is %s, want a number", ErrWrongShape, ScoreField, excerpt(raw))
	}
	delete(fields, ScoreField)
	s.Extra = nil
	for k, v := range fields {
		if t := bytes.Trim(v, " \t\r\n"); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
			return fmt.Errorf("%w: field %q is nested; a score answer must be flat", ErrWrongShape, k)
		}
		var val any
		if err := json.Unmarshal(v, &val); err != nil {
			return fmt.Errorf("%w: field %q: %v", ErrWrongShape, k, err)
		}
		if s.Extra == nil {
			s.Extra = make(map[string]any, len(fields))
		}
		s.Extra[k] = val
	}
	return nil
}

// MarshalJSON writes the score back as the flat object it came from.
func (s Score) MarshalJSON() ([]byte, error) {
	out := make(map[string]any, len(s.Extra)+1)
	maps.Copy(out, s.Extra)
	out[ScoreField] = s.Value
	return json.Marshal(out)
}

// Feature is one named input of a model: the value of a node, sent under
// a name.
type Feature struct {
	name  string
	dep   nodes.Dep
	value func(nodes.Args) any
}

// FeatureOf returns the Feature that sends the value of ref as name.
func FeatureOf[T any](name string, ref nodes.Ref[T]) Feature {
	return Feature{name: name, dep: ref, value: func(a nodes.Args) any { return nodes.Arg(a, ref) }}
}

// ModelScore declares a fetch node that POSTs the features as one flat
// JSON object {"name": value, …} to path on up, and reads back a Score.
// Scoring has no side effect, so the request is marked idempotent: it is
// retried, hedged and shared by the request cache like a GET.
func ModelScore(b *graph.Builder, name string, up *Upstream, path string, features []Feature, opts ...nodes.Option) nodes.Ref[Score] {
	deps := make([]nodes.Dep, 0, len(features))
	seen := make(map[string]bool, len(features))
	for _, f := range features {
		if f.dep == nil || f.name == "" {
			graphx.Fail(b, &graph.InvalidNodeError{Node: name, Reason: "a model feature needs a name and a node (use FeatureOf)"})
			continue
		}
		if seen[f.name] {
			graphx.Fail(b, &graph.InvalidNodeError{Node: name, Reason: fmt.Sprintf("model feature %q appears twice", f.name)})
		}
		seen[f.name] = true
		deps = append(deps, f.dep)
	}
	return JSON[Score](b, name, up, deps, func(args nodes.Args) (Request, error) {
		row := make(Row, len(features))
		for _, f := range features {
			if f.value != nil {
				row[f.name] = f.value(args)
			}
		}
		return scoreRequest(path, row), nil
	}, opts...)
}

// ModelScoreBatch declares a fetch node that POSTs the rows as a JSON array
// to path on up and reads back exactly one Score per row, in order; an
// answer with another number of rows is an error wrapping ErrRowCount.
func ModelScoreBatch(b *graph.Builder, name string, up *Upstream, path string, rows nodes.Ref[[]Row], opts ...nodes.Option) nodes.Ref[[]Score] {
	checkUpstream(b, name, up)
	return nodes.Fetch1(b, name, rows, func(ctx context.Context, rows []Row) ([]Score, error) {
		return scoreBatch(ctx, up, name, path, rows)
	}, withUpstreamMeta(up, opts)...)
}

// PostScore sends one row to the model at path on up and returns its
// Score: the body of ModelScore, for hand-written nodes.
func PostScore(ctx context.Context, up *Upstream, path string, row Row) (Score, error) {
	return FetchJSON[Score](ctx, up, scoreRequest(path, row))
}

// PostScoreBatch sends rows to the model at path on up and returns one
// Score per row, in order.
func PostScoreBatch(ctx context.Context, up *Upstream, path string, rows []Row) ([]Score, error) {
	return scoreBatch(ctx, up, "", path, rows)
}

func scoreRequest(path string, body any) Request {
	return Request{Method: http.MethodPost, Path: path, Body: body, Idempotent: true}
}

func scoreBatch(ctx context.Context, up *Upstream, node, path string, rows []Row) ([]Score, error) {
	if rows == nil {
		rows = []Row{}
	}
	req := scoreRequest(path, rows)
	scores, err := requestJSON[[]Score](ctx, up, node, func() (Request, error) { return req, nil })
	if err != nil {
		return nil, err
	}
	if len(scores) != len(rows) {
		up.stats.failures.Add(1)
		return nil, &Error{Upstream: up.name, Node: node, Method: req.Method, Path: path, Status: http.StatusOK,
			Err: fmt.Errorf("%w: sent %d rows, got %d scores", ErrRowCount, len(rows), len(scores))}
	}
	return scores, nil
}

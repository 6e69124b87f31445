package shadow

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// ScopeName is the OpenTelemetry instrumentation scope of the package's metrics.
const ScopeName = "github.com/featgraph/featgraph/shadow"

// Metric names.
const (
	// MetricRuns counts live runs by what the shadow did: result = ok,
	// error (the candidate failed, panicked or ran out of budget), busy (no
	// slot free) or sampled_out.
	MetricRuns = "featgraph.shadow.runs"
	// MetricComparisons counts compared targets by target and agree
	// (true/false): the agreement rate of a target is agree="true" over all.
	MetricComparisons = "featgraph.shadow.comparisons"
	// MetricDecisions counts the decision values of each target by side
	// (live, candidate) and value, for values that are strings, booleans or
	// integers, or objects holding one in a decision field (DecisionField,
	// DecisionFields); at most 32 distinct values per target, then "other".
	MetricDecisions = "featgraph.shadow.decisions"
	// MetricScores records numeric values that are not integers (scores)
	// by target and side.
	MetricScores = "featgraph.shadow.scores"
)

// maxValues bounds the distinct decision values counted per target.
const maxValues = 32

type metricProvider = metric.MeterProvider

// WithMeterProvider records the metrics with mp instead of the global provider.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) error {
		if mp == nil {
			return errors.New("shadow: nil meter provider")
		}
		c.mp = mp
		return nil
	}
}

type instruments struct {
	runs        metric.Int64Counter
	comparisons metric.Int64Counter
	decisions   metric.Int64Counter
	scores      metric.Float64Histogram

	field string // of object values that holds the decision; "": DecisionFields

	mu     sync.Mutex
	values map[string]map[string]bool // distinct values seen per target
}

func newInstruments(mp metric.MeterProvider) (*instruments, error) {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := mp.Meter(ScopeName)
	in := &instruments{values: map[string]map[string]bool{}}
	var errs [4]error
	in.runs, errs[0] = m.Int64Counter(MetricRuns, metric.WithUnit("{run}"),
		metric.WithDescription("Live runs by what the shadow did: ok, error, busy, sampled_out."))
	in.comparisons, errs[1] = m.Int64Counter(MetricComparisons, metric.WithUnit("{target}"),
		metric.WithDescription("Targets compared between live and candidate, by target and agreement."))
	in.decisions, errs[2] = m.Int64Counter(MetricDecisions, metric.WithUnit("{decision}"),
		metric.WithDescription("Decision values of live and candidate, by target, side and value."))
	in.scores, errs[3] = m.Float64Histogram(MetricScores, metric.WithUnit("1"),
		metric.WithDescription("Numeric target values of live and candidate, by target and side."))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	return in, nil
}

func (in *instruments) run(ctx context.Context, result string) {
	in.runs.Add(ctx, 1, metric.WithAttributes(attribute.String("result", result)))
}

func (in *instruments) compare(ctx context.Context, target string, agree bool, live, cand []byte) {
	in.comparisons.Add(ctx, 1, metric.WithAttributes(attribute.String("target", target), attribute.Bool("agree", agree)))
	in.decision(ctx, target, "live", live)
	in.decision(ctx, target, "candidate", cand)
}

func (in *instruments) decision(ctx context.Context, target, side string, raw []byte) {
	if k, ok := decisionKey(raw, in.field); ok {
		in.mu.Lock()
		seen := in.values[target]
		if seen == nil {
			seen = map[string]bool{}
			in.values[target] = seen
		}
		if !seen[k] {
			if len(seen) >= maxValues {
				k = "other"
			} else {
				seen[k] = true
			}
		}
		in.mu.Unlock()
		in.decisions.Add(ctx, 1, metric.WithAttributes(attribute.String("target", target), attribute.String("side", side), attribute.String("value", k)))
		return
	}
	var f float64
	if json.Unmarshal(raw, &f) == nil {
		in.scores.Record(ctx, f, metric.WithAttributes(attribute.String("target", target), attribute.String("side", side)))
	}
}

// DecisionFields are the fields of an object value that hold its decision,
// looked for in this order when no field is given: a target whose value is
// {"verdict": "approve", "score": 0.1, ...} is counted by its verdict.
var DecisionFields = []string{"verdict", "decision", "action", "outcome", "label", "class"}

// decisionKey returns the text of a decision value: a string (at most 64
// bytes), a boolean or an integer, or such a value in the field of an
// object (field, else the first of DecisionFields it has). Other values
// are not decisions to count.
func decisionKey(raw []byte, field string) (string, bool) {
	if len(raw) == 0 {
		return "", false
	}
	var v any
	dec := json.NewDecoder(bytesReader(raw))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return "", false
	}
	if obj, ok := v.(map[string]any); ok {
		fields := DecisionFields
		if field != "" {
			fields = []string{field}
		}
		v = nil
		for _, f := range fields {
			if x, has := obj[f]; has {
				v = x
				break
			}
		}
	}
	switch x := v.(type) {
	case string:
		return x, len(x) <= 64
	case bool:
		return strconv.FormatBool(x), true
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return x.String(), true
		}
	}
	return "", false
}

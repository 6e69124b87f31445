package decisionlog

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// FileOptions passes options to the file sink that [Open] makes.
func FileOptions(opts ...FileOption) LogOption {
	return func(c *logConfig) error { c.fileOpts = append(c.fileOpts, opts...); return nil }
}

// KafkaOptions passes options to the Kafka sink that [Open] makes.
func KafkaOptions(opts ...KafkaOption) LogOption {
	return func(c *logConfig) error { c.kafkaOpts = append(c.kafkaOpts, opts...); return nil }
}

// Open returns a Log writing to the sink named by target:
//
//	file://DIR[?max_bytes=N&max_age=D]   JSON-lines files in DIR (file:///abs/dir or file://rel/dir)
//	kafka://BROKER[,BROKER]/TOPIC        a Kafka topic
//	stdout                               JSON lines on standard output
//
// The spill directory defaults to DIR/spill for a file sink and to
// featgraph-spill/TOPIC in the temporary directory for Kafka: give
// [SpillDir] on a disk that outlives a reboot in production.
func Open(target string, opts ...LogOption) (*Log, error) {
	cfg, err := newLogConfig(opts)
	if err != nil {
		return nil, err
	}
	sink, spill, err := openSink(target, &cfg)
	if err != nil {
		return nil, err
	}
	if cfg.spillDir == "" {
		cfg.spillDir, cfg.spillMax = spill, 1<<30
	}
	l, err := start(sink, cfg)
	if err != nil {
		_ = sink.Close(context.Background())
		return nil, err
	}
	return l, nil
}

func openSink(target string, cfg *logConfig) (Sink, string, error) {
	scheme, rest, _ := strings.Cut(target, "://")
	switch scheme {
	case "stdout", "stdout:":
		if rest != "" {
			return nil, "", fmt.Errorf("decisionlog: %q: stdout takes no path", target)
		}
		cfg.sinkName = "stdout"
		return NewWriterSink(os.Stdout), filepath.Join(os.TempDir(), "featgraph-spill", "stdout"), nil
	case "file":
		u, err := url.Parse(target)
		if err != nil {
			return nil, "", fmt.Errorf("decisionlog: %q: %w", target, err)
		}
		dir := u.Host + u.Path
		if dir == "" {
			return nil, "", fmt.Errorf("decisionlog: %q: no directory", target)
		}
		fopts, err := fileQuery(u.Query())
		if err != nil {
			return nil, "", fmt.Errorf("decisionlog: %q: %w", target, err)
		}
		s, err := NewFileSink(dir, append(fopts, cfg.fileOpts...)...)
		if err != nil {
			return nil, "", err
		}
		cfg.sinkName = "file"
		return s, filepath.Join(dir, "spill"), nil
	case "kafka":
		hosts, topic, ok := strings.Cut(rest, "/")
		if !ok || topic == "" || strings.ContainsAny(topic, "/?#") || hosts == "" {
			return nil, "", fmt.Errorf("decisionlog: %q: want kafka://BROKER[,BROKER]/TOPIC", target)
		}
		var brokers []string
		for _, b := range strings.Split(hosts, ",") {
			if b = strings.TrimSpace(b); b != "" {
				brokers = append(brokers, b)
			}
		}
		s, err := NewKafkaSink(brokers, topic, cfg.kafkaOpts...)
		if err != nil {
			return nil, "", err
		}
		cfg.sinkName = "kafka"
		return s, filepath.Join(os.TempDir(), "featgraph-spill", topic), nil
	}
	return nil, "", fmt.Errorf("decisionlog: %q: unknown sink; want file://DIR, kafka://BROKER[,BROKER]/TOPIC or stdout", target)
}

func fileQuery(q url.Values) ([]FileOption, error) {
	maxBytes, maxAge := int64(64<<20), time.Minute
	for k, vs := range q {
		v := vs[len(vs)-1]
		switch k {
		case "max_bytes":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("max_bytes=%q: want a positive number of bytes", v)
			}
			maxBytes = n
		case "max_age":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("max_age=%q: want a positive duration such as 30s", v)
			}
			maxAge = d
		default:
			return nil, fmt.Errorf("unknown parameter %q (want max_bytes, max_age)", k)
		}
	}
	return []FileOption{Rotate(maxBytes, maxAge)}, nil
}

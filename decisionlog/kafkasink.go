package decisionlog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// KafkaSink produces records to a Kafka topic with franz-go: an idempotent
// producer (no duplicates from its own retries), acknowledged by all
// in-sync replicas, each record keyed by its run id so that the records of
// a run land in one partition and compaction or readers can de-duplicate.
// Delivery is at least once: a write that times out is spilled and sent
// again, and may then arrive twice.
type KafkaSink struct {
	cl    *kgo.Client
	topic string
}

// KafkaOption configures a [KafkaSink].
type KafkaOption func(*kafkaConfig)

type kafkaConfig struct {
	deliveryTimeout time.Duration
	opts            []kgo.Opt
}

// DeliveryTimeout bounds how long the producer keeps trying one record
// before the write fails and the Log spills it (default 5 s).
func DeliveryTimeout(d time.Duration) KafkaOption {
	return func(c *kafkaConfig) { c.deliveryTimeout = d }
}

// KafkaClientOptions passes options to the franz-go client (TLS, SASL,
// compression). Options that would turn off idempotence or acks=all are
// overridden.
func KafkaClientOptions(opts ...kgo.Opt) KafkaOption {
	return func(c *kafkaConfig) { c.opts = append(c.opts, opts...) }
}

// NewKafkaSink returns a sink producing to topic on brokers.
func NewKafkaSink(brokers []string, topic string, opts ...KafkaOption) (*KafkaSink, error) {
	if len(brokers) == 0 || topic == "" {
		return nil, errors.New("decisionlog: kafka sink: want at least one broker and a topic")
	}
	cfg := kafkaConfig{deliveryTimeout: 5 * time.Second}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	kopts := append(append([]kgo.Opt(nil), cfg.opts...),
		kgo.SeedBrokers(brokers...),
		kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordDeliveryTimeout(cfg.deliveryTimeout),
		// A write that cannot finish in time must fail, so that the Log
		// spills it rather than waiting on a broker that is away: the
		// producer's own retries stay de-duplicated by idempotence, and a
		// spilled record sent again may arrive twice, which readers
		// de-duplicate by run id.
		kgo.AllowIdempotentProduceCancellation(),
		kgo.ProducerLinger(0),
	)
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		return nil, fmt.Errorf("decisionlog: kafka sink: %w", err)
	}
	return &KafkaSink{cl: cl, topic: topic}, nil
}

// Write implements [Sink]: it produces the batch and waits for every
// acknowledgement. Records the broker refuses for good (too large, invalid)
// are reported as rejected.
func (s *KafkaSink) Write(ctx context.Context, batch []Entry) error {
	recs := make([]*kgo.Record, len(batch))
	for i, e := range batch {
		recs[i] = &kgo.Record{Key: []byte(e.RunID), Value: e.Line, Topic: s.topic}
	}
	results := s.cl.ProduceSync(ctx, recs...)
	var be BatchError
	for i, r := range results {
		if r.Err == nil {
			continue
		}
		if be.Err == nil {
			be.Err = fmt.Errorf("kafka topic %s: %w", s.topic, r.Err)
		}
		if rejected(r.Err) {
			be.Rejected = append(be.Rejected, i)
		} else {
			be.Failed = append(be.Failed, i)
		}
	}
	if be.Err == nil {
		return nil
	}
	return &be
}

func rejected(err error) bool {
	return errors.Is(err, kerr.MessageTooLarge) || errors.Is(err, kerr.RecordListTooLarge) ||
		errors.Is(err, kerr.InvalidRecord) || errors.Is(err, kerr.CorruptMessage)
}

// Close implements [Sink]: it flushes the producer and closes the client.
func (s *KafkaSink) Close(ctx context.Context) error {
	err := s.cl.Flush(ctx)
	s.cl.Close()
	if err != nil {
		return fmt.Errorf("decisionlog: kafka sink: %w", err)
	}
	return nil
}

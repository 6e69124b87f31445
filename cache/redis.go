package cache

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"
)

// RedisOption configures the Redis tier.
type RedisOption func(*redisTier) error

// redisTier is the second tier, shared by replicas: values with the time
// they were fetched, under the cache's key, expiring at TTL + stale.
type redisTier struct {
	client       redis.UniversalClient
	readTimeout  time.Duration
	writeTimeout time.Duration
	maxBytes     int
	codec        Codec
	settings     gobreaker.Settings
	breaker      *gobreaker.TwoStepCircuitBreaker[struct{}]
	c            *Cache
}

// WithRedis puts Redis under the in-process tier: a miss asks Redis (within
// [RedisTimeout], and never past the node's deadline) before the upstream,
// and fetched values are written to Redis in the background. Every Redis
// failure is a miss; a circuit breaker (gobreaker, opening after 5
// consecutive failures for 1 s by default) stops asking while Redis is down.
// A *redis.Client must have ContextTimeoutEnabled set, so that Redis calls
// end at the cache's timeout rather than the client's read timeout; New
// fails otherwise.
func WithRedis(client redis.UniversalClient, opts ...RedisOption) Option {
	return func(c *config) error {
		if client == nil {
			return errors.New("cache: nil Redis client")
		}
		if rc, ok := client.(*redis.Client); ok && !rc.Options().ContextTimeoutEnabled {
			return errors.New("cache: the Redis client needs ContextTimeoutEnabled so that its calls respect the cache's timeouts")
		}
		r := &redisTier{
			client: client, readTimeout: 10 * time.Millisecond, writeTimeout: 100 * time.Millisecond,
			maxBytes: 1 << 20, codec: JSON{},
			settings: gobreaker.Settings{Timeout: time.Second},
		}
		for _, opt := range opts {
			if opt == nil {
				continue
			}
			if err := opt(r); err != nil {
				return err
			}
		}
		if r.settings.Name == "" {
			r.settings.Name = "cache-redis"
		}
		if r.settings.IsExcluded == nil {
			// A node that gave up says nothing about Redis's health.
			r.settings.IsExcluded = func(err error) bool { return errors.Is(err, context.Canceled) }
		}
		r.breaker = gobreaker.NewTwoStepCircuitBreaker[struct{}](r.settings)
		c.redis = r
		return nil
	}
}

// RedisTimeout bounds each Redis read (default 10 ms) and write (default
// 100 ms, in the background). A read never outlives the node's deadline.
func RedisTimeout(read, write time.Duration) RedisOption {
	return func(r *redisTier) error {
		if read <= 0 || write <= 0 {
			return fmt.Errorf("cache: Redis timeouts %v and %v must be positive", read, write)
		}
		r.readTimeout, r.writeTimeout = read, write
		return nil
	}
}

// RedisCodec encodes values for Redis (default [JSON]).
func RedisCodec(codec Codec) RedisOption {
	return func(r *redisTier) error {
		if codec == nil {
			return errors.New("cache: nil codec")
		}
		r.codec = codec
		return nil
	}
}

// RedisBreaker replaces the settings of the breaker in front of Redis.
func RedisBreaker(s gobreaker.Settings) RedisOption {
	return func(r *redisTier) error {
		r.settings = s
		return nil
	}
}

// RedisMaxBytes ignores Redis values larger than n bytes (default 1 MiB).
func RedisMaxBytes(n int) RedisOption {
	return func(r *redisTier) error {
		if n < 1 {
			return fmt.Errorf("cache: Redis max bytes %d is not positive", n)
		}
		r.maxBytes = n
		return nil
	}
}

func (r *redisTier) start(c *Cache) { r.c = c }

// BreakerState returns the state of the breaker in front of Redis, or
// StateClosed when the cache has no Redis tier.
func (c *Cache) BreakerState() gobreaker.State {
	if c.redis == nil {
		return gobreaker.StateClosed
	}
	return c.redis.breaker.State()
}

// get reads key from Redis; any failure is a miss.
func (r *redisTier) get(ctx context.Context, key string, p *policy) (*entry, bool) {
	st := &r.c.stats
	done, err := r.breaker.Allow()
	if err != nil {
		st.redisSkipped.Add(1)
		return nil, false
	}
	rctx, cancel := context.WithTimeout(ctx, r.readTimeout)
	data, err := r.client.Get(rctx, key).Bytes()
	cancel()
	switch {
	case errors.Is(err, redis.Nil):
		done(nil)
		st.redisMisses.Add(1)
		return nil, false
	case err != nil:
		if ctx.Err() != nil {
			err = context.Canceled // the node gave up: not Redis's fault
		}
		done(err)
		st.redisErrors.Add(1)
		return nil, false
	}
	done(nil)
	e, err := r.decode(data, p)
	if err != nil {
		st.redisErrors.Add(1)
		return nil, false
	}
	st.redisHits.Add(1)
	return e, true
}

// decode reads an 8-byte fetch time (Unix ns) and the encoded value, and
// refuses what cannot be right: too large, from the future, expired.
func (r *redisTier) decode(data []byte, p *policy) (*entry, error) {
	if len(data) < 8 || len(data) > r.maxBytes {
		return nil, fmt.Errorf("cache: Redis value of %d bytes", len(data))
	}
	written := int64(binary.BigEndian.Uint64(data[:8]))
	now := time.Now().UnixNano()
	age := time.Duration(now - written)
	if age < -time.Second || age >= p.ttl+p.stale {
		return nil, fmt.Errorf("cache: Redis value aged %v", age)
	}
	if written > now {
		written = now
	}
	v, err := r.codec.Unmarshal(data[8:], p.typ)
	if err != nil {
		return nil, err
	}
	return &entry{val: v, written: written, loadedAt: now, fromRedis: true, ttl: p.ttl, stale: p.stale}, nil
}

// setLater encodes e now and writes it to Redis in the background.
func (r *redisTier) setLater(key string, e *entry, p *policy) {
	body, err := r.codec.Marshal(e.val)
	if err != nil || len(body)+8 > r.maxBytes {
		r.c.stats.redisWriteErrors.Add(1)
		return
	}
	data := make([]byte, 8+len(body))
	binary.BigEndian.PutUint64(data, uint64(e.written))
	copy(data[8:], body)
	ttl := p.ttl + p.stale
	r.c.goBackground(func() {
		done, err := r.breaker.Allow()
		if err != nil {
			r.c.stats.redisSkipped.Add(1)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), r.writeTimeout)
		defer cancel()
		err = r.client.Set(ctx, key, data, ttl).Err()
		done(err)
		if err != nil {
			r.c.stats.redisWriteErrors.Add(1)
			return
		}
		r.c.stats.redisWrites.Add(1)
	})
}

func (r *redisTier) del(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, r.writeTimeout)
	defer cancel()
	return r.client.Del(ctx, key).Err()
}

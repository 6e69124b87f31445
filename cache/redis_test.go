package cache_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/featgraph/featgraph/cache"
	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

// redisServer is Debian's redis-server on a free loopback port.
type redisServer struct {
	addr string
	cmd  *exec.Cmd
	once sync.Once
}

func startRedis(t *testing.T, args ...string) *redisServer {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is needed (apt-get install redis-server): %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	argv := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"}, args...)
	cmd := exec.Command(path, argv...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &redisServer{addr: fmt.Sprintf("127.0.0.1:%d", port), cmd: cmd}
	t.Cleanup(s.kill)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not listen on %s: %v", s.addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kill stops the server at once (SIGKILL), as a crash would.
func (s *redisServer) kill() {
	s.once.Do(func() {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	})
}

func (s *redisServer) client(t *testing.T) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{
		Addr: s.addr, ContextTimeoutEnabled: true, MaxRetries: -1,
		DialTimeout: 100 * time.Millisecond, Protocol: 2,
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// generous timeouts for the tests that are not about timeouts: a first call
// dials and greets Redis, which can exceed the 10 ms default under -race on
// a loaded machine.
var generous = cache.RedisTimeout(2*time.Second, 2*time.Second)

func TestRedisSharesValuesBetweenReplicas(t *testing.T) {
	srv := startRedis(t)
	var log statusLog
	replicaA := newCache(t, cache.WithRedis(srv.client(t), generous))
	replicaB := newCache(t, cache.WithRedis(srv.client(t), generous), cache.WithObserver(log.observe))
	u := &upstream{}
	pgA := newProfileGraph(t, u, cache.For(replicaA, time.Hour))
	pgB := newProfileGraph(t, u, cache.For(replicaB, time.Hour))
	ctx := context.Background()

	fetched, _ := pgA.run(t, ctx, "u1")
	eventually(t, "the write to Redis", func() bool { return replicaA.Stats().RedisWrites == 1 })
	shared, nr := pgB.run(t, ctx, "u1")
	if nr.Outcome != executor.OutcomeOK || !reflect.DeepEqual(shared, fetched) {
		t.Fatalf("replica B: %v %+v, want %+v", nr.Outcome, shared, fetched)
	}
	if n := u.calls.Load(); n != 1 {
		t.Fatalf("two replicas made %d calls, want 1 (stats of B: %+v)", n, replicaB.Stats())
	}
	if log.last() != cache.StatusFresh || replicaB.Stats().RedisHits != 1 {
		t.Fatalf("replica B: status %v, stats %+v; want a fresh Redis hit", log.last(), replicaB.Stats())
	}
	// Invalidate removes the value from both tiers of A; B still holds it in process.
	if err := replicaA.Invalidate(ctx, "profile", "u1"); err != nil {
		t.Fatal(err)
	}
	pgA.run(t, ctx, "u1")
	if n := u.calls.Load(); n != 2 {
		t.Fatalf("after Invalidate: %d calls, want 2", n)
	}
}

func TestRedisNeedsContextTimeouts(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	if _, err := cache.New(cache.WithRedis(c)); err == nil {
		t.Fatal("a client without ContextTimeoutEnabled was accepted")
	}
}

// decisionGraph derives a decision from a cached profile: what the test
// checks for correctness while Redis fails.
func decisionGraph(t *testing.T, c *cache.Cache, u *upstream) (*graph.Graph, nodes.Ref[string], nodes.Ref[string]) {
	t.Helper()
	b := graph.NewBuilder()
	id := nodes.Input[string](b, "customer_id")
	p := nodes.Fetch1(b, "profile", id, u.profile, cache.For(c, time.Hour), nodes.Timeout(time.Second))
	d := nodes.Compute1(b, "decision", p, func(p Profile) (string, error) { return "approve:" + p.ID, nil })
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return g, id, d
}

func TestRedisKilledMidRunLeavesDecisionsCorrect(t *testing.T) {
	srv := startRedis(t)
	c := newCache(t, cache.WithRedis(srv.client(t), generous), cache.WithMaxSize(1_000_000))
	u := &upstream{}
	g, id, decision := decisionGraph(t, c, u)
	ex, err := executor.New(g, executor.WithRunTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	const workers, perWorker = 4, 200
	var wg sync.WaitGroup
	var killOnce sync.Once
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				if w == 0 && i == perWorker/2 {
					killOnce.Do(srv.kill) // Redis dies while the others run
				}
				key := fmt.Sprintf("c%d", i) // each worker asks the same keys
				res, err := ex.Run(context.Background(), []executor.Binding{executor.Bind(id, key)}, decision)
				if err != nil {
					t.Errorf("run %d/%d: %v", w, i, err)
					return
				}
				got, _ := executor.Get(res, decision)
				res.Release()
				if got != "approve:"+key {
					t.Errorf("run %d/%d: decision %q, want approve:%s", w, i, got, key)
					return
				}
			}
		}()
	}
	wg.Wait()
	st := c.Stats()
	if st.RedisErrors+st.RedisSkipped+st.RedisWriteErrors == 0 {
		t.Fatalf("stats %+v: Redis died but no Redis failure was counted", st)
	}
	if st.Fresh == 0 || st.Fetched == 0 {
		t.Fatalf("stats %+v: want both fetched and cached values", st)
	}
	// Keep asking for new keys: the breaker opens and Redis is skipped.
	g2, id2, d2 := decisionGraph(t, c, u)
	for i := range 20 {
		res, err := executor.Run(context.Background(), g2, []executor.Binding{executor.Bind(id2, fmt.Sprintf("new-%d", i))}, d2)
		if err != nil {
			t.Fatal(err)
		}
		res.Release()
	}
	if c.BreakerState() != gobreaker.StateOpen || c.Stats().RedisSkipped == 0 {
		t.Fatalf("breaker %v, stats %+v: want it open and Redis skipped", c.BreakerState(), c.Stats())
	}
}

func TestSlowRedisIsAMiss(t *testing.T) {
	srv := startRedis(t, "--enable-debug-command", "yes")
	c := newCache(t, cache.WithRedis(srv.client(t), cache.RedisTimeout(10*time.Millisecond, 10*time.Millisecond)))
	u := &upstream{}
	g, id, decision := decisionGraph(t, c, u)

	blocker := srv.client(t)
	sleeping := make(chan error, 1)
	go func() { sleeping <- blocker.Do(context.Background(), "DEBUG", "SLEEP", "1").Err() }()
	for i := 0; c.Stats().RedisErrors == 0; i++ {
		if i == 1000 {
			t.Fatalf("stats %+v: Redis never timed out", c.Stats())
		}
		start := time.Now()
		res, err := executor.Run(context.Background(), g, []executor.Binding{executor.Bind(id, fmt.Sprintf("k%d", i))}, decision)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := executor.Get(res, decision)
		res.Release()
		if got != fmt.Sprintf("approve:k%d", i) {
			t.Fatalf("decision %q", got)
		}
		if took := time.Since(start); took > 900*time.Millisecond {
			t.Fatalf("a run took %v while Redis slept: it waited for Redis", took)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := <-sleeping; err != nil {
		t.Logf("DEBUG SLEEP: %v", err)
	}
}

func TestHostileRedisValuesAreMisses(t *testing.T) {
	srv := startRedis(t)
	rc := srv.client(t)
	c := newCache(t, cache.WithRedis(rc, generous))
	u := &upstream{}
	pg := newProfileGraph(t, u, cache.For(c, time.Hour))
	ctx := context.Background()
	for i, garbage := range []string{"", "short", "\x00\x00\x00\x00\x00\x00\x00\x01{not json", "\x7f\xff\xff\xff\xff\xff\xff\xff{}"} {
		id := fmt.Sprintf("h%d", i)
		if err := rc.Set(ctx, `featgraph:profile:"`+id+`"`, garbage, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		v, nr := pg.run(t, ctx, id)
		if nr.Outcome != executor.OutcomeOK || v.ID != id {
			t.Fatalf("garbage %q: %v %+v", garbage, nr.Outcome, v)
		}
	}
	if st := c.Stats(); st.RedisErrors != 4 || st.Fetched != 4 {
		t.Fatalf("stats %+v: want 4 Redis errors, 4 fetches", st)
	}
}

func TestStaleValueFromRedisIsRefreshed(t *testing.T) {
	srv := startRedis(t)
	var log statusLog
	replicaA := newCache(t, cache.WithRedis(srv.client(t), generous))
	replicaB := newCache(t, cache.WithRedis(srv.client(t), generous), cache.WithObserver(log.observe))
	u := &upstream{}
	policy := []cache.NodeOption{cache.Stale(time.Hour)}
	pgA := newProfileGraph(t, u, cache.For(replicaA, 5*time.Millisecond, policy...))
	pgB := newProfileGraph(t, u, cache.For(replicaB, 5*time.Millisecond, policy...))
	ctx := context.Background()
	pgA.run(t, ctx, "u1")
	eventually(t, "the write to Redis", func() bool { return replicaA.Stats().RedisWrites == 1 })
	time.Sleep(10 * time.Millisecond) // past the TTL
	u.version.Store(1)
	v, nr := pgB.run(t, ctx, "u1")
	if nr.Outcome != executor.OutcomeOK || v.Tenure != 0 || log.last() != cache.StatusStale {
		t.Fatalf("replica B: %v %+v %v, want the stale value from Redis", nr.Outcome, v, log.last())
	}
	eventually(t, "the refresh", func() bool { return replicaB.Stats().Refreshes == 1 && u.calls.Load() == 2 })
	eventually(t, "the refreshed value", func() bool {
		v, _ := pgB.run(t, ctx, "u1")
		return v.Tenure == 1
	})
}

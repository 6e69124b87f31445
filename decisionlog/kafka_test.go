package decisionlog_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/featgraph/featgraph/decisionlog"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

const topic = "decisions"

func startKafka(t *testing.T, dataDir string, port int) *kfake.Cluster {
	t.Helper()
	var c *kfake.Cluster
	var err error
	// The port of a closed cluster may take a moment to be free again.
	for try := 0; try < 100; try++ {
		c, err = kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, topic), kfake.DataDir(dataDir), kfake.Ports(port))
		if err == nil {
			return c
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal(err)
	return nil
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// consumeAll reads the topic from the start until it has want distinct keys
// (or a minute passes) and counts each key.
func consumeAll(t *testing.T, addr string, want int) map[string]int {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := map[string]int{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for len(got) < want && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			rec, err := decisionlog.Unmarshal(r.Value)
			if err != nil {
				t.Errorf("a message is not a record: %v", err)
				return
			}
			if rec.RunID != string(r.Key) {
				t.Errorf("message keyed %q holds run %q", r.Key, rec.RunID)
			}
			got[string(r.Key)]++
		})
	}
	return got
}

// TestKafkaBrokerGoesAwayAndComesBack: the broker is closed mid-stream and
// started again on the same port with its data; every record arrives,
// exactly once by run id after de-duplication.
func TestKafkaBrokerGoesAwayAndComesBack(t *testing.T) {
	dataDir, port := t.TempDir(), freePort(t)
	c := startKafka(t, dataDir, port)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	l, err := decisionlog.Open("kafka://"+addr+"/"+topic,
		decisionlog.SpillDir(t.TempDir(), 1<<30),
		decisionlog.RetryBackoff(20*time.Millisecond, 200*time.Millisecond),
		decisionlog.KafkaOptions(decisionlog.DeliveryTimeout(time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	const n = 600
	for i := range n / 3 {
		l.Enqueue(entry(fmt.Sprint("run-", i)))
		if i%20 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	waitFor(t, "the first third to be written", func() bool { return l.Stats().Written >= 50 })
	c.Close() // the broker goes away mid-stream
	for i := n / 3; i < 2*n/3; i++ {
		l.Enqueue(entry(fmt.Sprint("run-", i)))
	}
	waitFor(t, "the sink to be seen down", func() bool { return l.Stats().SinkDown })
	c = startKafka(t, dataDir, port) // and comes back
	defer c.Close()
	for i := 2 * n / 3; i < n; i++ {
		l.Enqueue(entry(fmt.Sprint("run-", i)))
	}
	waitFor(t, "every record to be acknowledged", func() bool {
		st := l.Stats()
		return st.Written+st.Resent >= n && st.Queued == 0
	})
	shutdown(t, l)
	st := l.Stats()
	t.Logf("stats %+v", st)
	if st.Spilled == 0 || st.Dropped != 0 {
		t.Errorf("stats %+v: want records spilled while the broker was away, none dropped", st)
	}
	got := consumeAll(t, addr, n)
	dups := 0
	for _, c := range got {
		dups += c - 1
	}
	t.Logf("%d distinct records, %d duplicates before de-duplication", len(got), dups)
	expectEach(t, got, n, false)
}

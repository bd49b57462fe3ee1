package hubserver_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/multicall"
)

// The benchmarks of this file run a real Koji hub (startKoji: HTTPS on a
// free loopback port; the read benchmark adds a plain HTTP listener) on a
// fresh SQLite file and a fresh PostgreSQL schema, and call it through
// package koji's client, as kojid and the koji CLI would: client, hub and
// database share the machine. Each benchmark function sets up its hub
// again for every b.N (outside the timer), except
// BenchmarkHubMulticall5000, which uses b.Loop.
// BENCHMARKS.md has the figures.

// benchBackends runs fn as sub-benchmarks sqlite and postgres; postgres
// skips when GOKOJI_TEST_POSTGRES is unset or does not answer.
func benchBackends(b *testing.B, fn func(b *testing.B, dsn string)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, filepath.Join(b.TempDir(), "hub.db")) })
	b.Run("postgres", func(b *testing.B) {
		base, err := testenv.PostgresBase()
		if err != nil {
			b.Skip(err)
		}
		fn(b, testenv.PostgresSchema(b, base))
	})
}

// benchTasks creates n sleep tasks as kojiadmin, in multicalls of makeTask.
func benchTasks(b *testing.B, kh *kojiHub, n int) {
	admin := kh.sslClient(b, "")
	batch := multicall.New(admin, &multicall.Options{Strict: true, BatchSize: 1000})
	for i := range n {
		multicall.Add[int](batch, "makeTask", "sleep", []any{i})
	}
	if err := batch.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
}

const (
	benchReaders  = 8  // concurrent clients of BenchmarkHubGetTaskInfo
	benchReadTask = 50 // tasks they read, in turn
)

// BenchmarkHubGetTaskInfo is getTaskInfo(id) from 8 anonymous clients at
// once, each with its own connection, over plain HTTP (the hub's handler
// on a second, plain listener), decoding into a koji.Task. One op is one
// call; reads/s counts them over the wall time.
func BenchmarkHubGetTaskInfo(b *testing.B) {
	benchBackends(b, func(b *testing.B, dsn string) {
		kh := startKoji(b, dsn, nil)
		benchTasks(b, kh, benchReadTask)
		plain := httptest.NewServer(kh.hub.Handler())
		b.Cleanup(plain.Close)
		clients := make([]*koji.Client, benchReaders)
		for i := range clients {
			var err error
			clients[i], err = koji.NewClient(plain.URL + "/kojihub")
			if err != nil {
				b.Fatal(err)
			}
			// Connect outside the timer.
			if _, err := clients[i].GetTaskInfo(context.Background(), 1, nil); err != nil {
				b.Fatal(err)
			}
		}
		var next atomic.Int64
		var wg sync.WaitGroup
		b.ResetTimer()
		for _, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1)
					if i > int64(b.N) {
						return
					}
					id := int(i%benchReadTask) + 1
					t, err := c.GetTaskInfo(context.Background(), id, nil)
					if err != nil {
						b.Error(err)
						return
					}
					if t == nil || t.ID != id {
						b.Errorf("getTaskInfo(%d) answered %+v", id, t)
						return
					}
				}
			}()
		}
		wg.Wait()
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reads/s")
	})
}

const benchMulticall = 5000

// BenchmarkHubMulticall5000 is one multiCall request of 5,000
// getTaskInfo calls, one for each of 5,000 tasks, from an anonymous
// client through package multicall (one request: well under 4 MiB),
// each result decoded into a koji.Task. One op is one multicall; b.Loop
// sets the hub up once.
func BenchmarkHubMulticall5000(b *testing.B) {
	benchBackends(b, func(b *testing.B, dsn string) {
		kh := startKoji(b, dsn, nil)
		benchTasks(b, kh, benchMulticall)
		c := kh.client(b)
		if _, err := c.GetTaskInfo(context.Background(), 1, nil); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			batch := multicall.New(c, &multicall.Options{Strict: true})
			results := make([]*multicall.Result[*koji.Task], benchMulticall)
			for i := range results {
				results[i] = multicall.Add[*koji.Task](batch, "getTaskInfo", i+1)
			}
			if err := batch.Run(context.Background()); err != nil {
				b.Fatal(err)
			}
			for i, r := range results {
				if t, err := r.Value(); err != nil || t == nil || t.ID != i+1 {
					b.Fatalf("getTaskInfo(%d): %+v %v", i+1, t, err)
				}
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N*benchMulticall)/b.Elapsed().Seconds(), "reads/s")
	})
}

const (
	benchBuilders  = 4 // builders of BenchmarkHubTaskThroughput
	benchProducers = 4 // clients creating its tasks
)

// BenchmarkHubTaskThroughput runs tasks through their life: 4 kojiadmin
// clients (each its own session) create sleep tasks with makeTask while 4
// builders, each a host logged in with its own exclusive session on a hub
// of its own (builder), loop as kojid does: host.updateHost, then
// host.waitTasks (the long poll that runs the scheduler, which assigns
// the task) and, for each task answered, host.openTask and
// host.closeTask. One op is one task, from makeTask to closed; tasks/s
// counts them over the wall time.
func BenchmarkHubTaskThroughput(b *testing.B) {
	benchBackends(b, func(b *testing.B, dsn string) {
		ctx := context.Background()
		kh := startKoji(b, dsn, nil)
		admin := kh.sslClient(b, "")
		producers := make([]*koji.Client, benchProducers)
		for i := range producers {
			producers[i] = kh.sslClient(b, "")
		}
		builders := make([]*koji.Client, benchBuilders)
		for i := range builders {
			builders[i] = builder(b, kh, admin, fmt.Sprintf("builder%d", i+1))
		}
		var created, closed atomic.Int64
		n := int64(b.N)
		done := make(chan struct{})
		stop, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		fail := func(format string, args ...any) {
			if stop.Err() == nil {
				b.Errorf(format, args...)
				cancel()
			}
		}
		b.ResetTimer()
		for _, c := range builders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				host := c.HostAPI()
				for stop.Err() == nil {
					if err := host.UpdateHost(stop, 0, true, nil); err != nil {
						fail("host.updateHost: %v", err)
						return
					}
					var tasks []*koji.Task
					if err := c.Call(stop, "host.waitTasks", &tasks, 1.0); err != nil {
						fail("host.waitTasks: %v", err)
						return
					}
					for _, t := range tasks {
						o, err := host.OpenTask(stop, t.ID)
						if err != nil || o == nil {
							fail("host.openTask(%d): %v %v", t.ID, o, err)
							return
						}
						if err := host.CloseTask(stop, t.ID, map[string]any{"slept": 0}); err != nil {
							fail("host.closeTask(%d): %v", t.ID, err)
							return
						}
						if closed.Add(1) == n {
							close(done)
						}
					}
				}
			}()
		}
		for _, c := range producers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for created.Add(1) <= n && stop.Err() == nil {
					if _, err := c.MakeTask(stop, "sleep", []any{0}, nil); err != nil {
						fail("makeTask: %v", err)
						return
					}
				}
			}()
		}
		select {
		case <-done:
		case <-stop.Done():
		case <-time.After(time.Duration(max(n, 100)) * 100 * time.Millisecond):
			fail("%d of %d tasks closed", closed.Load(), n)
		}
		b.StopTimer()
		cancel()
		wg.Wait()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
	})
}

package builder_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/multicall"
)

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

// BenchmarkTaskStartLatency is the time from makeTask returning to the
// handler of the task starting on a daemon that waits for work, one task
// at a time:
//   - nopoll: on a gokoji hub, the daemon long-polls host.waitTasks, which
//     the hub answers as soon as its scheduler assigns the new task;
//   - poll: with the hub's long-poll methods hidden, as on an upstream
//     hub, the daemon asks host.getTasks every SleepTime (here 500 ms, a
//     thirtieth of kojid's default 15 s).
//
// The latency is reported as ms/start (the mean); one op is one task,
// released and closed before the next is made.
func BenchmarkTaskStartLatency(b *testing.B) {
	for _, mode := range []struct {
		name     string
		upstream bool
	}{{"nopoll", false}, {"poll", true}} {
		b.Run(mode.name, func(b *testing.B) {
			benchBackends(b, func(b *testing.B, dsn string) {
				th := startHub(b, dsn, mode.upstream)
				g := newGate("gate")
				start(b, th.daemon(b, "builder1", nil, g))
				var total time.Duration
				for b.Loop() {
					id := th.makeTask(b, "gate")
					made := time.Now()
					select {
					case <-g.started:
						total += time.Since(made)
					case <-time.After(30 * time.Second):
						b.Fatalf("task %d did not start", id)
					}
					g.release <- struct{}{}
					<-g.ended
					th.waitState(b, id, koji.TaskClosed)
				}
				b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/start")
			})
		})
	}
}

const benchBuilders = 4 // daemons of BenchmarkSleep0Throughput

// BenchmarkSleep0Throughput runs sleep 0 tasks through 4 daemons (hosts
// of capacity 2, each logged in on a front end of its own) on a gokoji
// hub: one op is one task, made in a multicall of makeTask calls before
// the timer starts its count and waited for until CLOSED; tasks/s is b.N
// over the wall time.
func BenchmarkSleep0Throughput(b *testing.B) {
	benchBackends(b, func(b *testing.B, dsn string) {
		ctx := context.Background()
		th := startHub(b, dsn, false)
		for i := range benchBuilders {
			start(b, th.daemon(b, fmt.Sprintf("builder%d", i+1), nil, builder.Sleep{}))
		}
		b.ResetTimer()
		batch := multicall.New(th.admin, &multicall.Options{Strict: true, BatchSize: 1000})
		ids := make([]*multicall.Result[int], b.N)
		for i := range ids {
			ids[i] = multicall.Add[int](batch, "makeTask", "sleep", []any{0})
		}
		if err := batch.Run(ctx); err != nil {
			b.Fatal(err)
		}
		last, err := ids[len(ids)-1].Value()
		if err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Minute)
		for {
			open, err := th.admin.ListTasks(ctx, &koji.ListTasksOptions{State: []koji.TaskState{koji.TaskFree, koji.TaskOpen, koji.TaskAssigned}}, nil)
			if err != nil {
				b.Fatal(err)
			}
			if len(open) == 0 {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%d tasks not done", len(open))
			}
			time.Sleep(10 * time.Millisecond)
		}
		b.StopTimer()
		if info := th.waitState(b, last, koji.TaskClosed, koji.TaskFailed); info.State != koji.TaskClosed {
			b.Fatalf("task %d: %v", last, info.State)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
	})
}
